"""Failure hooks in the failing transaction (SEMANTICS.md §3) and timeouts that really interrupt."""

from __future__ import annotations

import time
from collections.abc import Generator

import pytest

from anclax_fast import Client, RetryPolicy, Worker
from tests.support import Params, Recorder, Runner, running_worker

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def worker(client: Client, recorder: Recorder) -> Generator[Worker]:
    with client.transaction() as tx:
        tx.execute("CREATE TABLE audit (task_id bigint, note text)")
    with running_worker(client, recorder, concurrency=4, timeout_grace=1.0) as w:
        yield w


def audit(client: Client, task_id: int) -> list[str]:
    with client.transaction() as tx:
        return [row["note"] for row in tx.fetch("SELECT note FROM audit WHERE task_id = $1", task_id)]


def test_hook_writes_commit_with_the_failure(client: Client, worker: Worker) -> None:
    task_id = Runner(client).run("HookWrites", Params(key="audit-me"))
    info = client.wait(task_id, timeout=10)
    assert info.status == "failed"
    assert audit(client, task_id) == ["audit-me"]
    assert [e.kind for e in client.events(task_id)] == ["TaskError", "TaskFailed"]


def test_hook_writes_and_failure_are_visible_together_or_not_at_all(
    client: Client, worker: Worker, module_dsn: str
) -> None:
    # Poll from another connection while the failure commits: never "failed" without the audit
    # row, never the audit row without "failed".
    task_id = Runner(client).run("HookWrites", Params(key="atomic"))
    seen: set[tuple[str, int]] = set()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with client.transaction() as tx:
            row = tx.fetchrow(
                "SELECT t.status, (SELECT count(*) FROM audit a WHERE a.task_id = t.id) AS n "
                "FROM anclax.tasks t WHERE t.id = $1",
                task_id,
            )
        assert row is not None
        seen.add((row["status"], row["n"]))
        if row["status"] == "failed":
            break
    assert ("failed", 1) in seen
    assert all((status == "failed") == (n == 1) for status, n in seen)


def test_a_raising_hook_is_rolled_back_and_recorded(client: Client, worker: Worker) -> None:
    task_id = Runner(client).run("HookRaises", Params())
    info = client.wait(task_id, timeout=10)
    assert info.status == "failed"
    assert audit(client, task_id) == []
    events = client.events(task_id)
    assert [e.kind for e in events] == ["TaskError", "TaskFailed", "HookFailed"]
    assert events[-1].message == "LookupError: the hook broke"
    assert "raise LookupError" in (events[-1].traceback or "")


def test_a_hook_that_swallows_a_sql_error_is_rolled_back(client: Client, worker: Worker) -> None:
    task_id = Runner(client).run("HookBadSql", Params())
    assert client.wait(task_id, timeout=10).status == "failed"
    assert audit(client, task_id) == []
    hook_failed = client.events(task_id)[-1]
    assert hook_failed.kind == "HookFailed"
    assert "no_such_table" in (hook_failed.message or "")


def test_hooks_are_not_called_on_retries_or_cancels(client: Client, worker: Worker, recorder: Recorder) -> None:
    runner = Runner(client)
    task_id = runner.run("AlwaysFails", Params())
    assert client.wait(task_id, timeout=10).status == "failed"
    assert recorder.hooks.count(("AlwaysFails", task_id)) == 1  # 3 attempts, 1 hook call
    cancelled = runner.run("AlwaysFails", Params(), delay="1h")
    client.cancel(cancelled)
    assert ("AlwaysFails", cancelled) not in recorder.hooks


def test_the_hook_tx_cannot_be_used_after_the_hook(client: Client, worker: Worker) -> None:
    kept: list[object] = []

    class Keeper(Recorder):
        def on_hook_writes_failed(self, ctx: object, task_id: int, params: Params, tx: object) -> None:
            kept.append(tx)

    task_id = Runner(client).run("HookWrites", Params(), labels=["keeper"])
    with running_worker(client, Keeper(), labels=["keeper"], tasks=["HookWrites"]):
        assert client.wait(task_id, timeout=10).status == "failed"
    tx = kept[0]
    assert tx.closed  # type: ignore[attr-defined]
    with pytest.raises(Exception, match="closed"):
        tx.execute("SELECT 1")  # type: ignore[attr-defined]


def test_timeout_interrupts_a_pure_python_busy_loop(client: Client, worker: Worker, recorder: Recorder) -> None:
    task_id = Runner(client).run("BusyLoop", Params())
    info = client.wait(task_id, timeout=15)
    assert info.status == "failed"
    assert recorder.timed_out.is_set()
    event = client.events(task_id)[0]
    assert event.message == "TaskTimeout: the attempt exceeded its timeout of 0.3s"
    assert "while True" in (event.traceback or "")
    # The thread that was interrupted keeps serving tasks.
    assert client.wait(Runner(client).run("Echo", Params()), timeout=10).status == "completed"


def test_timeout_sets_cancelled_and_follows_the_retry_policy(
    client: Client, worker: Worker, recorder: Recorder
) -> None:
    # Sleepy polls ctx.cancelled; with a 200 ms timeout and 2 attempts it fails twice, then for good.
    task_id = Runner(client).run("Sleepy", Params(sleep=5), timeout="200ms", retry_policy=RetryPolicy("10ms", 2))
    info = client.wait(task_id, timeout=15)
    assert (info.status, info.attempts) == ("failed", 2)
    assert [e.kind for e in client.events(task_id)] == ["TaskError", "TaskError", "TaskFailed"]
    contexts = [c for c in recorder.contexts if c.task_id == task_id]
    assert all(c.cancelled for c in contexts)


def test_a_result_after_the_deadline_is_discarded(client: Client, worker: Worker) -> None:
    class Ignores(Recorder):
        def execute_sleepy(self, ctx: object, params: Params) -> None:
            time.sleep(params.sleep)  # returns normally, but late

    task_id = Runner(client).run("Sleepy", Params(sleep=0.6), timeout="200ms", labels=["late"])
    with running_worker(client, Ignores(), labels=["late"], tasks=["Sleepy"]):
        info = client.wait(task_id, timeout=10)
    assert info.status == "failed"
    assert "TaskTimeout" in (info.last_error or "")


def test_a_task_stuck_outside_python_is_abandoned_after_the_grace_period(client: Client, worker: Worker) -> None:
    class Stuck(Recorder):
        def execute_sleepy(self, ctx: object, params: Params) -> None:
            time.sleep(params.sleep)  # time.sleep is not interrupted by TaskTimeout

    runner = Runner(client)
    task_id = runner.run("Sleepy", Params(sleep=4), timeout="200ms", labels=["stuck"])
    with running_worker(client, Stuck(), labels=["stuck"], tasks=["Sleepy"], concurrency=1, timeout_grace=0.5):
        info = client.wait(task_id, timeout=10)
        assert info.status == "failed"
        assert "did not stop when interrupted" in (info.last_error or "")
        # The slot was given back: the single-thread worker runs the next task before the stuck
        # one returns.
        started = time.monotonic()
        follow_up = runner.run("Sleepy", Params(sleep=0.01), labels=["stuck"])
        assert client.wait(follow_up, timeout=10).status == "completed"
        assert time.monotonic() - started < 3
