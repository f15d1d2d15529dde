"""Task definitions, models and executors shared by the integration tests.

The spec is built by hand (not generated) so that engine tests do not depend on the generator;
the generator's own tests exercise generated packages against the same engine.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Generator
from contextlib import contextmanager, suppress
from datetime import timedelta
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from anclax_fast import Client, CronJob, FatalTaskError, RetryPolicy, RetryWithoutErrorEvent, Spec, TaskDef, Worker
from anclax_fast._core import TaskContext, Tx
from anclax_fast.runner import AsyncTaskRunnerBase, TaskRunnerBase


class Params(BaseModel):
    # snake_case attributes, JSON names on the wire (what generated models do too).
    model_config = ConfigDict(serialize_by_alias=True)

    n: int = 0
    key: str = ""
    fail_times: int = Field(
        default=0, validation_alias=AliasChoices("failTimes", "fail_times"), serialization_alias="failTimes"
    )
    sleep: float = 0.0


class NeedsKey(BaseModel):
    key: str


def task(name: str, **kwargs: Any) -> TaskDef:
    return TaskDef(name=name, **kwargs)


TASKS: tuple[TaskDef, ...] = (
    task("Echo"),
    task("Flaky", retry_policy=RetryPolicy("100ms", 3)),
    task("FlakyList", retry_policy=RetryPolicy("100ms,200ms,400ms", 5)),
    task("AlwaysFails", retry_policy=RetryPolicy("50ms", 3), on_failed=True),
    task("Fatal", retry_policy=RetryPolicy("50ms", 5), on_failed=True),
    task("Silent", retry_policy=RetryPolicy("50ms", 2)),
    task("NoRetry"),
    task("Exits", retry_policy=RetryPolicy("50ms", 2)),
    task("Sleepy", timeout=timedelta(seconds=30)),
    task("BusyLoop", timeout=timedelta(milliseconds=300)),
    task("HookWrites", on_failed=True),
    task("HookRaises", on_failed=True),
    task("HookBadSql", on_failed=True),
    task("AsyncSleep"),
    task("Gpu", labels=("gpu",)),
)
SPEC = Spec(source="tests/support.py", tasks=TASKS, models={t.name: Params for t in TASKS})

# Cron tasks live in their own spec: a worker serving a spec starts its schedules, which would
# otherwise fire into every other test.
CRON_TASKS: tuple[TaskDef, ...] = (
    task("Tick", cron=CronJob("*/1 * * * * *", {"key": "${fireTime}"})),
    task("AppCron", cron=CronJob("*/1 * * * * *")),
)
CRON_SPEC = Spec(source="tests/support.py#cron", tasks=CRON_TASKS, models={"Tick": Params, "AppCron": NeedsKey})


def definition(name: str) -> TaskDef:
    return SPEC.task(name) if name in {t.name for t in TASKS} else CRON_SPEC.task(name)


class Runner(TaskRunnerBase):
    def run(self, name: str, params: BaseModel | None = None, **options: Any) -> int:
        return self._enqueue(definition(name), params or Params(), **options)

    def run_with_tx(self, tx: Any, name: str, params: BaseModel | None = None, **options: Any) -> int:
        return self._enqueue(definition(name), params or Params(), tx=tx, **options)

    def run_many(self, name: str, params: list[Params], **options: Any) -> list[int]:
        return self._enqueue_many(definition(name), params, **options)


class AsyncRunner(AsyncTaskRunnerBase):
    async def run(self, name: str, params: BaseModel | None = None, **options: Any) -> int:
        return await self._enqueue(definition(name), params or Params(), **options)

    async def run_with_tx(self, tx: Any, name: str, params: BaseModel | None = None, **options: Any) -> int:
        return await self._enqueue(definition(name), params or Params(), tx=tx, **options)

    async def run_many(self, name: str, params: list[Params], **options: Any) -> list[int]:
        return await self._enqueue_many(definition(name), params, **options)


class Recorder:
    """An executor for TASKS that records what it saw (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.calls: list[tuple[str, int, int]] = []  # (task, task id, attempt)
        self.contexts: list[TaskContext] = []
        self.hooks: list[tuple[str, int]] = []
        self.timed_out = threading.Event()

    def _record(self, name: str, ctx: TaskContext) -> None:
        with self.lock:
            self.calls.append((name, ctx.task_id, ctx.attempt))
            self.contexts.append(ctx)

    def attempts_of(self, task_id: int) -> list[int]:
        with self.lock:
            return [attempt for _, tid, attempt in self.calls if tid == task_id]

    def execute_echo(self, ctx: TaskContext, params: Params) -> None:
        self._record("Echo", ctx)

    def execute_flaky(self, ctx: TaskContext, params: Params) -> None:
        self._record("Flaky", ctx)
        if ctx.attempt <= params.fail_times:
            raise RuntimeError(f"flaky failure {ctx.attempt}")

    def execute_flaky_list(self, ctx: TaskContext, params: Params) -> None:
        self._record("FlakyList", ctx)
        if ctx.attempt <= params.fail_times:
            raise ValueError(f"list failure {ctx.attempt}")

    def execute_always_fails(self, ctx: TaskContext, params: Params) -> None:
        self._record("AlwaysFails", ctx)
        raise RuntimeError("always fails")

    def on_always_fails_failed(self, ctx: TaskContext, task_id: int, params: Params, tx: Tx) -> None:
        with self.lock:
            self.hooks.append(("AlwaysFails", task_id))

    def execute_fatal(self, ctx: TaskContext, params: Params) -> None:
        self._record("Fatal", ctx)
        raise FatalTaskError("cannot ever work")

    def on_fatal_failed(self, ctx: TaskContext, task_id: int, params: Params, tx: Tx) -> None:
        with self.lock:
            self.hooks.append(("Fatal", task_id))

    def execute_silent(self, ctx: TaskContext, params: Params) -> None:
        self._record("Silent", ctx)
        raise RetryWithoutErrorEvent("not yet")

    def execute_no_retry(self, ctx: TaskContext, params: Params) -> None:
        self._record("NoRetry", ctx)
        raise KeyError("missing")

    def execute_exits(self, ctx: TaskContext, params: Params) -> None:
        self._record("Exits", ctx)
        if ctx.attempt == 1:
            raise SystemExit(3)
        raise KeyboardInterrupt

    def execute_sleepy(self, ctx: TaskContext, params: Params) -> None:
        self._record("Sleepy", ctx)
        deadline = time.monotonic() + params.sleep
        while time.monotonic() < deadline and not ctx.cancelled:
            time.sleep(0.01)

    def execute_busy_loop(self, ctx: TaskContext, params: Params) -> None:
        self._record("BusyLoop", ctx)
        try:
            while True:
                pass
        finally:
            self.timed_out.set()

    def execute_hook_writes(self, ctx: TaskContext, params: Params) -> None:
        raise RuntimeError("hook writes")

    def on_hook_writes_failed(self, ctx: TaskContext, task_id: int, params: Params, tx: Tx) -> None:
        tx.execute("INSERT INTO audit (task_id, note) VALUES ($1, $2)", task_id, params.key)

    def execute_hook_raises(self, ctx: TaskContext, params: Params) -> None:
        raise RuntimeError("hook raises")

    def on_hook_raises_failed(self, ctx: TaskContext, task_id: int, params: Params, tx: Tx) -> None:
        tx.execute("INSERT INTO audit (task_id, note) VALUES ($1, $2)", task_id, "should be rolled back")
        raise LookupError("the hook broke")

    def execute_hook_bad_sql(self, ctx: TaskContext, params: Params) -> None:
        raise RuntimeError("hook bad sql")

    def on_hook_bad_sql_failed(self, ctx: TaskContext, task_id: int, params: Params, tx: Tx) -> None:
        tx.execute("INSERT INTO audit (task_id, note) VALUES ($1, $2)", task_id, "should be rolled back")
        # Swallowing the error on purpose: the engine must notice the aborted transaction anyway.
        with suppress(Exception):
            tx.execute("SELECT * FROM no_such_table")

    async def execute_async_sleep(self, ctx: TaskContext, params: Params) -> None:
        self._record("AsyncSleep", ctx)
        await asyncio.sleep(params.sleep)

    def execute_gpu(self, ctx: TaskContext, params: Params) -> None:
        self._record("Gpu", ctx)

    def execute_tick(self, ctx: TaskContext, params: Params) -> None:
        self._record("Tick", ctx)

    def execute_app_cron(self, ctx: TaskContext, params: NeedsKey) -> None:
        self._record("AppCron", ctx)


FAST: dict[str, Any] = {"poll_interval": 0.2, "lease_ttl": 3.0, "shutdown_grace": 5.0, "timeout_grace": 1.0}


@contextmanager
def running_worker(
    client: Client, executor: object | None = None, spec: Spec = SPEC, **options: Any
) -> Generator[Worker]:
    worker = Worker(client, executor or Recorder(), spec, **{**FAST, **options})
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def wait_until(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")
