"""Executors that do not match the protocol are rejected where they are handed to make_worker.
Each ``# expect-error`` line must be reported by both mypy and basedpyright, nothing else."""

from __future__ import annotations

from anclax_fast import Client, TaskContext, Tx
from codegen.golden.edge_cases import ChargeCustomerParameters, PingParameters, make_worker

from .ok_edge_cases import ChargeMethods, EdgeExecutor, EdgeTasks, PingMethod


class Misspelled(EdgeTasks, ChargeMethods):
    def execute_pnig(self, ctx: TaskContext, params: PingParameters) -> None: ...


class WrongHook(EdgeTasks, PingMethod):
    def execute_charge_customer(self, ctx: TaskContext, params: ChargeCustomerParameters) -> None: ...

    def on_charge_customer_failed(self, ctx: TaskContext, task_id: int, params: ChargeCustomerParameters) -> None: ...


class AsyncHook(EdgeTasks, PingMethod):
    """Failure hooks run inside the failing transaction: plain functions only."""

    def execute_charge_customer(self, ctx: TaskContext, params: ChargeCustomerParameters) -> None: ...

    async def on_charge_customer_failed(
        self, ctx: TaskContext, task_id: int, params: ChargeCustomerParameters, tx: Tx
    ) -> None: ...


class WrongParams(EdgeTasks, PingMethod):
    def execute_charge_customer(self, ctx: TaskContext, params: PingParameters) -> None: ...

    def on_charge_customer_failed(
        self, ctx: TaskContext, task_id: int, params: ChargeCustomerParameters, tx: Tx
    ) -> None: ...


class SyncResult(EdgeTasks, ChargeMethods):
    """An execute method must return None (or an awaitable of None), not a value."""

    def execute_ping(self, ctx: TaskContext, params: PingParameters) -> bool:
        return True


def start(client: Client) -> None:
    make_worker(client, Misspelled())  # expect-error
    make_worker(client, WrongHook())  # expect-error
    make_worker(client, AsyncHook())  # expect-error
    make_worker(client, WrongParams())  # expect-error
    make_worker(client, SyncResult())  # expect-error
    make_worker(client, EdgeExecutor(), concurency=4)  # expect-error
