"""An executor of the tutorial's tasks, as an application writes one: plain and ``async``
methods, failure hooks that write through the transaction, handed to ``make_worker``.

Type-checked by ``make lint-python`` (mypy --strict, basedpyright strict); never run.
"""

from __future__ import annotations

import asyncio

from anclax_fast import Client, FatalTaskError, TaskContext, Tx, Worker
from codegen.golden.tutorial import (
    DailyCleanupParameters,
    DeleteOpaqueKeyParameters,
    Executor,
    LongRunningTaskParameters,
    ProcessDailyReportsParameters,
    ProcessOrderParameters,
    ProcessPaymentParameters,
    SendEmailParameters,
    SendNotificationParameters,
    TaskNameParameters,
    make_worker,
)


class TutorialExecutor:
    """No base class: matching the ``Executor`` protocol is enough."""

    def __init__(self) -> None:
        self.sent: list[int] = []

    def execute_task_name(self, ctx: TaskContext, params: TaskNameParameters) -> None:
        if params.param2 < 0:
            raise FatalTaskError(f"attempt {ctx.attempt}: negative param2")

    def on_task_name_failed(self, ctx: TaskContext, task_id: int, params: TaskNameParameters, tx: Tx) -> None:
        tx.execute("INSERT INTO audit (task_id, note) VALUES ($1, $2)", task_id, params.param1)

    async def execute_daily_cleanup(self, ctx: TaskContext, params: DailyCleanupParameters) -> None:
        days = params.days_to_keep if params.days_to_keep is not None else 30
        await asyncio.sleep(0 if ctx.cancelled else days / 1000)

    def execute_process_payment(self, ctx: TaskContext, params: ProcessPaymentParameters) -> None:
        if params.amount <= 0:
            raise FatalTaskError("nothing to charge")

    def on_process_payment_failed(
        self, ctx: TaskContext, task_id: int, params: ProcessPaymentParameters, tx: Tx
    ) -> None:
        row = tx.fetchrow("SELECT count(*) AS n FROM audit WHERE task_id = $1", task_id)
        if row is None or row["n"] == 0:
            tx.execute("INSERT INTO refunds (user_id, amount) VALUES ($1, $2)", params.user_id, params.amount)

    def execute_long_running_task(self, ctx: TaskContext, params: LongRunningTaskParameters) -> None:
        del params
        while not ctx.cancelled:
            break

    async def execute_send_email(self, ctx: TaskContext, params: SendEmailParameters) -> None:
        await asyncio.sleep(0)
        variables = params.variables or {}
        self.sent.append(params.user_id + len(variables) + len(params.template_id))

    def execute_process_daily_reports(self, ctx: TaskContext, params: ProcessDailyReportsParameters) -> None:
        print(f"report of {params.date.isoformat()} (task {ctx.task_id})")

    def execute_process_order(self, ctx: TaskContext, params: ProcessOrderParameters) -> None:
        print(f"order {params.order_id}")

    def on_process_order_failed(self, ctx: TaskContext, task_id: int, params: ProcessOrderParameters, tx: Tx) -> None:
        tx.execute("UPDATE orders SET status = 'failed' WHERE id = $1", params.order_id)

    async def execute_send_notification(self, ctx: TaskContext, params: SendNotificationParameters) -> None:
        urgent = params.priority == "high"
        await asyncio.sleep(0 if urgent else 0.01)

    def on_send_notification_failed(
        self, ctx: TaskContext, task_id: int, params: SendNotificationParameters, tx: Tx
    ) -> None:
        tx.execute("INSERT INTO escalations (task_id, user_id) VALUES ($1, $2)", task_id, params.user_id)

    def execute_delete_opaque_key(self, ctx: TaskContext, params: DeleteOpaqueKeyParameters) -> None:
        print(f"deleting key {params.key_id}")

    def on_delete_opaque_key_failed(
        self, ctx: TaskContext, task_id: int, params: DeleteOpaqueKeyParameters, tx: Tx
    ) -> None:
        tx.execute("INSERT INTO security_alerts (key_id, task_id) VALUES ($1, $2)", params.key_id, task_id)


def start(client: Client) -> Worker:
    executor: Executor = TutorialExecutor()
    return make_worker(client, executor, concurrency=8, labels=["eu", "gpu"], shutdown_grace=30.0)
