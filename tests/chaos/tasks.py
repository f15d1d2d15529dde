"""The chaos spec and the executor its worker processes run.

Every task definition has an outcome known in advance (``EXPECTED_STATUS``), so the checker can
judge each row by its name alone, acknowledged or not. Retry budgets are generous on purpose:
faults (kills, freezes, restarts) cost attempts, and a task that should complete must not run
out of them because of the faults the harness injected.

The executor appends one line per event to its process's execution log, with a single
``write(2)`` on an ``O_APPEND`` descriptor, so a line is either fully there or absent even when
the process is killed right after:

- ``S <task> <attempt> <pid> <ns>``: an execution started;
- ``K <task> <attempt> <pid> <ns>``: it returned successfully (written just before returning, so
  a ``K`` line without a completion means the result was lost or discarded, never the reverse);
- ``H <task> <attempt> <pid> <ns>``: a failure hook was called (the hook's database writes may
  still roll back if its transaction breaks; ``chaos.audit`` holds what committed).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from anclax_fast import CronJob, FatalTaskError, RetryPolicy, Spec, TaskDef
from anclax_fast._core import TaskContext, Tx

__all__ = [
    "AUDIT_TABLE",
    "BEAT_EXPRESSION",
    "CHAOS_SPEC",
    "EXPECTED_STATUS",
    "HOOK_RAISES",
    "HOOK_WRITES",
    "ChaosExecutor",
    "ChaosParams",
    "RunLog",
]

# Written by the failure hooks through their transaction; created by the harness before a run.
AUDIT_TABLE = "chaos.audit"
BEAT_EXPRESSION = "*/1 * * * * *"

Status = Literal["completed", "failed"]


class ChaosParams(BaseModel):
    n: int = 0
    fail_times: int = 0
    sleep: float = 0.0
    note: str = ""


_GENEROUS = RetryPolicy("50ms", 20)
_SHORT = timedelta(seconds=10)

CHAOS_TASKS: tuple[TaskDef, ...] = (
    # Succeeds at once.
    TaskDef("Quick", retry_policy=_GENEROUS, timeout=_SHORT),
    # Blocks in time.sleep (not cooperative): the kind of task a freeze or kill interrupts.
    TaskDef("Slow", retry_policy=_GENEROUS, timeout=timedelta(seconds=20)),
    # Raises on its first `fail_times` attempts, then succeeds.
    TaskDef("Flaky", retry_policy=_GENEROUS, timeout=_SHORT),
    # Raises on every attempt: fails once its 3 attempts are used; the hook writes an audit row.
    TaskDef("Doomed", retry_policy=RetryPolicy("50ms", 3), on_failed=True, timeout=_SHORT),
    # Raises FatalTaskError: fails at once; the hook writes an audit row.
    TaskDef("Fatal", retry_policy=RetryPolicy("50ms", 5), on_failed=True, timeout=_SHORT),
    # Raises FatalTaskError; the hook writes an audit row and then raises (the row must roll back).
    TaskDef("HookRaises", retry_policy=RetryPolicy("50ms", 5), on_failed=True, timeout=_SHORT),
    # Sleeps past its 1 s timeout in time.sleep, which the TaskTimeout interrupt cannot break:
    # the worker abandons the attempt after the timeout grace. Fails after 2 attempts.
    TaskDef("Stuck", retry_policy=RetryPolicy("50ms", 2), timeout=timedelta(seconds=1)),
    # A seconds cron started from the spec.
    TaskDef(
        "Beat",
        retry_policy=RetryPolicy("50ms", 10),
        timeout=_SHORT,
        cron=CronJob(BEAT_EXPRESSION, {"note": "${fireTime}"}),
    ),
)
CHAOS_SPEC = Spec(source="tests/chaos/tasks.py", tasks=CHAOS_TASKS, models={t.name: ChaosParams for t in CHAOS_TASKS})

EXPECTED_STATUS: dict[str, Status] = {
    "Quick": "completed",
    "Slow": "completed",
    "Flaky": "completed",
    "Doomed": "failed",
    "Fatal": "failed",
    "HookRaises": "failed",
    "Stuck": "failed",
    "Beat": "completed",
}
# Tasks whose failure hook must leave exactly one committed audit row when they fail.
HOOK_WRITES = frozenset({"Doomed", "Fatal"})
# Tasks whose failure hook raises: no audit row may survive, and one HookFailed event is expected.
HOOK_RAISES = frozenset({"HookRaises"})


class RunLog:
    """The execution log of one worker process (see the module docstring for the format)."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._pid = os.getpid()

    def record(self, kind: str, ctx: TaskContext) -> None:
        os.write(self._fd, f"{kind} {ctx.task_id} {ctx.attempt} {self._pid} {time.time_ns()}\n".encode())


class ChaosExecutor:
    """Runs the chaos spec's tasks and logs every execution."""

    def __init__(self, log: RunLog) -> None:
        self._log = log

    def _started(self, ctx: TaskContext) -> None:
        self._log.record("S", ctx)

    def _succeeded(self, ctx: TaskContext) -> None:
        self._log.record("K", ctx)

    def execute_quick(self, ctx: TaskContext, params: ChaosParams) -> None:
        self._started(ctx)
        self._succeeded(ctx)

    def execute_slow(self, ctx: TaskContext, params: ChaosParams) -> None:
        self._started(ctx)
        time.sleep(params.sleep)
        self._succeeded(ctx)

    def execute_flaky(self, ctx: TaskContext, params: ChaosParams) -> None:
        self._started(ctx)
        if ctx.attempt <= params.fail_times:
            raise RuntimeError(f"flaky failure on attempt {ctx.attempt} of {params.fail_times}")
        self._succeeded(ctx)

    def execute_doomed(self, ctx: TaskContext, params: ChaosParams) -> None:
        self._started(ctx)
        raise RuntimeError(f"doomed attempt {ctx.attempt}")

    def on_doomed_failed(self, ctx: TaskContext, task_id: int, params: ChaosParams, tx: Tx) -> None:
        self._audit(ctx, task_id, tx)

    def execute_fatal(self, ctx: TaskContext, params: ChaosParams) -> None:
        self._started(ctx)
        raise FatalTaskError("fatal on purpose")

    def on_fatal_failed(self, ctx: TaskContext, task_id: int, params: ChaosParams, tx: Tx) -> None:
        self._audit(ctx, task_id, tx)

    def execute_hook_raises(self, ctx: TaskContext, params: ChaosParams) -> None:
        self._started(ctx)
        raise FatalTaskError("fatal, and the hook will raise")

    def on_hook_raises_failed(self, ctx: TaskContext, task_id: int, params: ChaosParams, tx: Tx) -> None:
        self._audit(ctx, task_id, tx)
        raise LookupError("the hook raised on purpose; its audit row must be rolled back")

    def execute_stuck(self, ctx: TaskContext, params: ChaosParams) -> None:
        self._started(ctx)
        time.sleep(params.sleep)
        self._succeeded(ctx)

    def execute_beat(self, ctx: TaskContext, params: ChaosParams) -> None:
        self._started(ctx)
        self._succeeded(ctx)

    def _audit(self, ctx: TaskContext, task_id: int, tx: Tx) -> None:
        self._log.record("H", ctx)
        tx.execute(
            f"INSERT INTO {AUDIT_TABLE} (task_id, attempt, pid) VALUES ($1, $2, $3)", task_id, ctx.attempt, os.getpid()
        )
