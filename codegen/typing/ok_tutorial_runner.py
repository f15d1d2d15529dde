"""Enqueueing the tutorial's tasks with every override, inside transactions (anclax's own and a
psycopg 3 connection's), and in batches. Type-checked only."""

from __future__ import annotations

import datetime

import psycopg

from anclax_fast import Client, RetryPolicy, Tx
from codegen.golden.tutorial import (
    DeleteOpaqueKeyParameters,
    ProcessDailyReportsParameters,
    ProcessOrderParameters,
    SendEmailParameters,
    SendNotificationParameters,
    TaskRunner,
)


def enqueue(client: Client, tx: Tx, connection: psycopg.Connection[tuple[object, ...]]) -> list[int]:
    runner = TaskRunner(client)
    ids = [
        runner.run_send_email(SendEmailParameters(user_id=1, template_id="welcome", variables={"name": "Ada"})),
        runner.run_delete_opaque_key(
            DeleteOpaqueKeyParameters(key_id=2**40),
            retry_policy=RetryPolicy("1m,5m,30m", 4),
            timeout="10m",
            unique_tag="delete-key-1099511627776",
            if_exists="raise",
            delay=datetime.timedelta(seconds=30),
            priority=5,
            labels=["eu"],
            tags=["cleanup", "batch-42"],
            parent_id=7,
        ),
        runner.run_process_order(
            ProcessOrderParameters(order_id=3), run_at=datetime.datetime.now(datetime.timezone.utc)
        ),
        runner.run_process_order_with_tx(tx, ProcessOrderParameters(order_id=4), timeout=datetime.timedelta(minutes=1)),
        runner.run_process_order_with_tx(connection, ProcessOrderParameters(order_id=5)),
        runner.run_process_daily_reports(
            ProcessDailyReportsParameters(date=datetime.date(2024, 5, 1)), unique_tag="daily-reports"
        ),
        runner.run_long_running_task(),
    ]
    notifications = [SendNotificationParameters(user_id=user, message="hello", priority="low") for user in range(3)]
    ids += runner.run_send_notification_many(notifications, delay="5s", priority=1)
    return ids
