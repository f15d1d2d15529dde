# pyright: reportMissingTypeStubs=false
"""Enqueueing the tutorial's tasks from asyncio code (AsyncTaskRunner), and through every kind of
caller transaction both runners take: anclax's own, psycopg 3, SQLAlchemy (sync and asyncio),
asyncpg and Django. Type-checked only."""

from __future__ import annotations

import datetime

import asyncpg
import psycopg
from django.db import connection as django_connection
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.orm import Session

from anclax_fast import AsyncClient, AsyncTx, Client, RetryPolicy
from codegen.golden.tutorial import (
    AsyncTaskRunner,
    DeleteOpaqueKeyParameters,
    ProcessOrderParameters,
    SendNotificationParameters,
    TaskRunner,
)


async def enqueue(  # noqa: PLR0917 - one argument per kind of transaction
    client: AsyncClient,
    tx: AsyncTx,
    session: AsyncSession,
    sa_connection: AsyncConnection,
    pg: asyncpg.Connection,
    aconn: psycopg.AsyncConnection[tuple[object, ...]],
) -> list[int]:
    runner = AsyncTaskRunner(client)
    order = ProcessOrderParameters(order_id=1)
    ids = [
        await runner.run_delete_opaque_key(
            DeleteOpaqueKeyParameters(key_id=2),
            retry_policy=RetryPolicy("1m", 3),
            timeout="10m",
            unique_tag="delete-key-2",
            if_exists="raise",
            delay=datetime.timedelta(seconds=30),
            priority=5,
            labels=["eu"],
            parent_id=7,
        ),
        await runner.run_process_order(order, run_at=datetime.datetime.now(datetime.timezone.utc)),
        await runner.run_process_order_with_tx(tx, order),
        await runner.run_process_order_with_tx(session, order),
        await runner.run_process_order_with_tx(sa_connection, order),
        await runner.run_process_order_with_tx(pg, order),
        await runner.run_process_order_with_tx(aconn, order),
        await runner.run_long_running_task(),
    ]
    notifications = [SendNotificationParameters(user_id=user, message="hello") for user in range(3)]
    ids += await runner.run_send_notification_many(notifications, delay="5s", priority=1)
    async with client.transaction() as own:
        ids.append(await runner.run_process_order_with_tx(own, order))
    return ids


def enqueue_in_sync_transactions(client: Client, session: Session, sa_connection: Connection) -> list[int]:
    runner = TaskRunner(client)
    order = ProcessOrderParameters(order_id=1)
    return [
        runner.run_process_order_with_tx(session, order, priority=1),
        runner.run_process_order_with_tx(sa_connection, order),
        runner.run_process_order_with_tx(django_connection, order),
    ]
