"""Poison values cannot wedge a worker (issue 12 §2): text Postgres rejects (NUL) in an
exception, a chained exception or a hook's exception; a row the completion statement rejects;
a hook that tries to end its transaction; a parameter that contains itself."""

from __future__ import annotations

import threading
from collections.abc import Generator
from typing import Any

import pytest

from anclax_fast import Client, ConfigurationError, RetryPolicy, Spec, TaskDef, Worker
from anclax_fast._core import TaskContext, Tx
from tests.support import FAST, Params, Runner, wait_until

pytestmark = pytest.mark.postgres

TASKS = (
    TaskDef(name="NulError", retry_policy=RetryPolicy("10ms", 2)),
    TaskDef(name="NulChained", retry_policy=RetryPolicy("10ms", 2)),
    TaskDef(name="NulHook", on_failed=True),
    TaskDef(name="RollbackHook", on_failed=True),
    TaskDef(name="Together", retry_policy=RetryPolicy("10ms", 2)),
)
SPEC = Spec(source="tests/integration/test_poison.py", tasks=TASKS, models={t.name: Params for t in TASKS})


class Poison:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hook_errors: list[Exception] = []
        self.runs: dict[int, int] = {}
        self.together: threading.Barrier | None = None

    def _ran(self, ctx: TaskContext) -> None:
        with self.lock:
            self.runs[ctx.task_id] = self.runs.get(ctx.task_id, 0) + 1

    def execute_nul_error(self, ctx: TaskContext, params: Params) -> None:
        self._ran(ctx)
        raise ValueError("bad\x00byte")

    def execute_nul_chained(self, ctx: TaskContext, params: Params) -> None:
        self._ran(ctx)
        try:
            raise ValueError("inner\x00cause")
        except ValueError as err:
            raise RuntimeError("outer") from err

    def execute_nul_hook(self, ctx: TaskContext, params: Params) -> None:
        self._ran(ctx)
        raise RuntimeError("fails for good")

    def on_nul_hook_failed(self, ctx: TaskContext, task_id: int, params: Params, tx: Tx) -> None:
        raise ValueError("hook\x00broke")

    def execute_rollback_hook(self, ctx: TaskContext, params: Params) -> None:
        self._ran(ctx)
        raise RuntimeError("fails for good")

    def on_rollback_hook_failed(self, ctx: TaskContext, task_id: int, params: Params, tx: Tx) -> None:
        try:
            tx.execute("ROLLBACK")
        except Exception as err:
            with self.lock:
                self.hook_errors.append(err)
        tx.execute("INSERT INTO poison_audit (task_id, note) VALUES ($1, $2)", task_id, "after rollback")

    def execute_together(self, ctx: TaskContext, params: Params) -> None:
        self._ran(ctx)
        # All attempts of the batch end at the same moment, so that their results share a
        # completion batch with the poison row.
        if self.together is not None and ctx.attempt == 1:
            self.together.wait(timeout=10)
        if params.fail_times >= ctx.attempt:
            raise RuntimeError("retry me")


@pytest.fixture(scope="module")
def poison() -> Poison:
    return Poison()


@pytest.fixture(scope="module")
def worker(client: Client, poison: Poison) -> Generator[Worker]:
    with client.transaction() as tx:
        tx.execute("CREATE TABLE poison_audit (task_id bigint, note text)")
    worker = Worker(client, poison, SPEC, **options({"concurrency": 8, "lease_ttl": 3.0}))
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()


def options(extra: dict[str, Any]) -> dict[str, Any]:
    return {**FAST, **extra}


def run(client: Client, name: str, params: Params | None = None, **options: Any) -> int:
    return Runner(client)._enqueue(SPEC.task(name), params or Params(), **options)  # pyright: ignore[reportPrivateUsage]


def test_nul_in_the_exception_fails_and_retries_like_any_error(client: Client, worker: Worker, poison: Poison) -> None:
    task_id = run(client, "NulError")
    info = client.wait(task_id, timeout=15)
    assert (info.status, info.attempts) == ("failed", 2)
    assert info.last_error == "ValueError: bad\\x00byte"
    events = client.events(task_id)
    assert [e.kind for e in events] == ["TaskError", "TaskError", "TaskFailed"]
    assert "bad\\x00byte" in (events[0].traceback or "")
    assert poison.runs[task_id] == 2


def test_nul_only_in_a_chained_exception(client: Client, worker: Worker, poison: Poison) -> None:
    task_id = run(client, "NulChained")
    info = client.wait(task_id, timeout=15)
    assert (info.status, info.attempts) == ("failed", 2)
    assert info.last_error == "RuntimeError: outer"
    traceback = client.events(task_id)[-1].traceback or ""
    assert "inner\\x00cause" in traceback
    assert "\x00" not in traceback
    assert poison.runs[task_id] == 2


def test_nul_in_the_failure_hooks_exception(client: Client, worker: Worker, poison: Poison) -> None:
    task_id = run(client, "NulHook")
    info = client.wait(task_id, timeout=15)
    assert (info.status, info.attempts) == ("failed", 1)
    events = client.events(task_id)
    assert [e.kind for e in events] == ["TaskError", "TaskFailed", "HookFailed"]
    assert events[-1].message == "ValueError: hook\\x00broke"
    assert poison.runs[task_id] == 1


def test_a_hooks_rollback_is_refused_and_the_failure_stands(client: Client, worker: Worker, poison: Poison) -> None:
    task_id = run(client, "RollbackHook")
    info = client.wait(task_id, timeout=15)
    assert (info.status, info.attempts) == ("failed", 1)
    # The refused ROLLBACK did not abort the transaction: the hook's insert commits with the failure.
    with client.transaction() as tx:
        notes = [r["note"] for r in tx.fetch("SELECT note FROM poison_audit WHERE task_id = $1", task_id)]
    assert notes == ["after rollback"]
    assert [e.kind for e in client.events(task_id)] == ["TaskError", "TaskFailed"]
    with poison.lock:
        errors = list(poison.hook_errors)
    assert len(errors) == 1
    assert isinstance(errors[0], ConfigurationError)
    assert "ROLLBACK is not allowed in a Tx" in str(errors[0])
    # Not run again (today's bug: the ROLLBACK undid the failure mark and the task was re-run).
    assert poison.runs[task_id] == 1


@pytest.mark.parametrize(
    "statement",
    ["COMMIT", "rollback", "BEGIN", "SAVEPOINT s", "RELEASE SAVEPOINT s", "START TRANSACTION", "END", "ABORT"],
)
def test_client_transactions_refuse_transaction_control(client: Client, statement: str) -> None:
    with client.transaction() as tx:
        with pytest.raises(ConfigurationError, match="not allowed in a Tx"):
            tx.execute(statement)
        # Refused before it reached the server: the transaction goes on.
        assert tx.fetchval("SELECT 1") == 1


def test_a_parameter_that_contains_itself_is_a_value_error(client: Client) -> None:
    loop: list[object] = []
    loop.append(loop)
    nested: dict[str, object] = {}
    nested["self"] = nested
    with client.transaction() as tx:
        with pytest.raises(ValueError, match="nested more than"):
            tx.execute("SELECT $1::jsonb", loop)
        with pytest.raises(ValueError, match="nested more than"):
            tx.execute("SELECT $1::jsonb", nested)
        assert tx.fetchval("SELECT $1::int", 7) == 7


def test_a_row_the_completion_statement_rejects_loses_nothing(client: Client, worker: Worker, poison: Poison) -> None:
    # A retry delay too large for a timestamp makes the completion statement fail for that row
    # (hand-edited here: the API bounds intervals). Its batch mates still land, and so does it,
    # with its retry capped and a message that says why.
    others = 5
    poison.together = threading.Barrier(others + 1)
    try:
        bad = run(client, "Together", Params(fail_times=1), labels=["held"])
        with client.transaction() as tx:
            tx.execute("UPDATE anclax.tasks SET retry_intervals_ms = '{9000000000000000000}' WHERE id = $1", bad)
        good = [run(client, "Together", Params(fail_times=i % 2), labels=["held"]) for i in range(others)]
        with Worker(client, poison, SPEC, **options({"concurrency": others + 1, "labels": ["held"]})):
            for task_id in good:
                assert client.wait(task_id, timeout=15).status == "completed"

            def bad_row() -> dict[str, Any]:
                # (Client.task cannot read the hand-edited interval back: raw SQL.)
                with client.transaction() as tx:
                    found = tx.fetchrow("SELECT status, attempts, last_error FROM anclax.tasks WHERE id = $1", bad)
                assert found is not None
                return dict(found)

            wait_until(lambda: bad_row()["status"] == "pending", timeout=15)
    finally:
        poison.together = None
    found = bad_row()
    assert found["attempts"] == 1
    assert "could not be recorded (interval out of range)" in found["last_error"]
    assert poison.runs[bad] == 1
