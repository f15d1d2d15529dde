"""The demo's executor: what a user writes after ``anclax-fast generate``.

It implements the generated ``Executor`` protocol, so mypy and pyright check every method
against the spec. The failures are on purpose: some emails fail once (and are retried), some
orders can never work (their failure hook writes an audit row in the failing transaction).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from anclax_fast import FatalTaskError, TaskContext, Tx
from anclax_fast.demo.taskgen import (
    DailyCleanupParameters,
    DeleteOpaqueKeyParameters,
    Executor,
    HeartbeatParameters,
    PingParameters,
    ProcessDailyReportsParameters,
    ProcessOrderParameters,
    ProcessPaymentParameters,
    ResizeImageParameters,
    SendEmailParameters,
    SendNotificationParameters,
)

__all__ = ["AUDIT_TABLE", "DemoExecutor"]

AUDIT_TABLE = "demo_audit"
# Orders whose id is a multiple of this can never be processed (FatalTaskError).
UNSHIPPABLE_EVERY = 7


def _audit(tx: Tx, task_id: int, reason: str) -> None:
    tx.execute(f"INSERT INTO {AUDIT_TABLE} (task_id, reason) VALUES ($1, $2)", task_id, reason)


class DemoExecutor:
    """Runs every task of the demo spec."""

    def execute_send_email(self, ctx: TaskContext, params: SendEmailParameters) -> None:
        if params.template_id == "flaky" and ctx.attempt == 1:
            raise ConnectionError("SMTP server busy, try again")  # retried per the retry policy
        time.sleep(0.002)

    def execute_process_order(self, ctx: TaskContext, params: ProcessOrderParameters) -> None:
        if params.order_id % UNSHIPPABLE_EVERY == 0:
            raise FatalTaskError(f"order {params.order_id} has an item that is out of stock for good")
        time.sleep(0.001)

    def on_process_order_failed(self, ctx: TaskContext, task_id: int, params: ProcessOrderParameters, tx: Tx) -> None:
        _audit(tx, task_id, f"order {params.order_id} cancelled and refunded")

    async def execute_send_notification(self, ctx: TaskContext, params: SendNotificationParameters) -> None:
        await asyncio.sleep(0.05)  # async executors share one event loop per worker process

    def on_send_notification_failed(
        self, ctx: TaskContext, task_id: int, params: SendNotificationParameters, tx: Tx
    ) -> None:
        _audit(tx, task_id, f"notification to user {params.user_id} escalated to an operator")

    def execute_process_payment(self, ctx: TaskContext, params: ProcessPaymentParameters) -> None:
        if params.amount <= 0:
            raise FatalTaskError(f"invalid amount {params.amount}")

    def on_process_payment_failed(
        self, ctx: TaskContext, task_id: int, params: ProcessPaymentParameters, tx: Tx
    ) -> None:
        _audit(tx, task_id, f"payment of user {params.user_id} flagged for review")

    def execute_delete_opaque_key(self, ctx: TaskContext, params: DeleteOpaqueKeyParameters) -> None:
        pass

    def on_delete_opaque_key_failed(
        self, ctx: TaskContext, task_id: int, params: DeleteOpaqueKeyParameters, tx: Tx
    ) -> None:
        _audit(tx, task_id, f"key {params.key_id} could not be deleted; security notified")

    def execute_daily_cleanup(self, ctx: TaskContext, params: DailyCleanupParameters) -> None:
        pass

    def execute_process_daily_reports(self, ctx: TaskContext, params: ProcessDailyReportsParameters) -> None:
        pass

    def execute_ping(self, ctx: TaskContext, params: PingParameters) -> None:
        pass

    def execute_heartbeat(self, ctx: TaskContext, params: HeartbeatParameters) -> None:
        pass

    def execute_resize_image(self, ctx: TaskContext, params: ResizeImageParameters) -> None:
        time.sleep(0.01)


if TYPE_CHECKING:
    # Static proof (for mypy and pyright) that DemoExecutor implements the generated protocol.
    _implements: Executor = DemoExecutor()
