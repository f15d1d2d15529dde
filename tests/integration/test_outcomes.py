"""Every row of the lifecycle table (SEMANTICS.md §2), against a real worker."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest

from anclax_fast import Client, Worker
from tests.support import Params, Recorder, Runner, running_worker

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def worker(client: Client, recorder: Recorder) -> Iterator[Worker]:
    with client.transaction() as tx:
        tx.execute("CREATE TABLE audit (task_id bigint, note text)")
    with running_worker(client, recorder, concurrency=8) as w:
        yield w


def kinds(client: Client, task_id: int) -> list[str]:
    return [e.kind for e in client.events(task_id)]


def test_success_completes_with_no_event(client: Client, worker: Worker, recorder: Recorder) -> None:
    task_id = Runner(client).run("Echo", Params(n=1))
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("completed", 1)
    assert info.finished_at is not None
    assert kinds(client, task_id) == []
    ctx = next(c for c in recorder.contexts if c.task_id == task_id)
    assert (ctx.task_name, ctx.attempt, ctx.max_attempts, ctx.labels, ctx.cancelled) == ("Echo", 1, 1, (), False)
    assert ctx.deadline - info.started_at == timedelta(hours=1) if info.started_at else False


def test_errors_retry_with_the_interval_then_complete(client: Client, worker: Worker, recorder: Recorder) -> None:
    task_id = Runner(client).run("Flaky", Params(fail_times=2))
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("completed", 3)
    assert recorder.attempts_of(task_id) == [1, 2, 3]
    events = client.events(task_id)
    assert [e.kind for e in events] == ["TaskError", "TaskError"]
    assert events[0].message == "RuntimeError: flaky failure 1"
    assert events[0].traceback is not None
    assert 'raise RuntimeError(f"flaky failure {ctx.attempt}")' in events[0].traceback
    assert (events[0].attempt, events[1].attempt) == (1, 2)
    # The retry waited the interval (100 ms) between attempts.
    assert events[1].created_at - events[0].created_at >= timedelta(milliseconds=90)


def test_retry_delays_follow_the_list_and_land_in_run_at(client: Client, worker: Worker) -> None:
    task_id = Runner(client).run("FlakyList", Params(fail_times=3))
    info = client.wait(task_id, timeout=15)
    assert (info.status, info.attempts) == ("completed", 4)
    events = client.events(task_id)
    gaps = [(b.created_at - a.created_at) for a, b in itertools.pairwise(events)]
    # Retry k waits the k-th interval: 100ms before attempt 2, 200ms before 3, 400ms before 4.
    assert gaps[0] >= timedelta(milliseconds=95)
    assert gaps[1] >= timedelta(milliseconds=195)
    assert info.started_at is not None
    assert info.started_at - events[2].created_at >= timedelta(milliseconds=395)


def test_exhausted_attempts_fail_with_error_and_failed_events_and_hook_once(
    client: Client, worker: Worker, recorder: Recorder
) -> None:
    task_id = Runner(client).run("AlwaysFails", Params())
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("failed", 3)
    assert info.last_error == "RuntimeError: always fails"
    assert kinds(client, task_id) == ["TaskError", "TaskError", "TaskError", "TaskFailed"]
    assert recorder.attempts_of(task_id) == [1, 2, 3]
    assert recorder.hooks.count(("AlwaysFails", task_id)) == 1


def test_fatal_error_fails_at_once_and_runs_the_hook(client: Client, worker: Worker, recorder: Recorder) -> None:
    task_id = Runner(client).run("Fatal", Params())
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("failed", 1)
    assert kinds(client, task_id) == ["TaskFailed"]
    assert client.events(task_id)[0].message == "FatalTaskError: cannot ever work"
    assert recorder.hooks.count(("Fatal", task_id)) == 1


def test_retry_without_error_event(client: Client, worker: Worker, recorder: Recorder) -> None:
    task_id = Runner(client).run("Silent", Params())
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("failed", 2)
    # No event for the silent retry; the final failure writes TaskError + TaskFailed.
    assert kinds(client, task_id) == ["TaskError", "TaskFailed"]


def test_no_retry_policy_means_one_attempt(client: Client, worker: Worker, recorder: Recorder) -> None:
    task_id = Runner(client).run("NoRetry", Params())
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("failed", 1)
    assert kinds(client, task_id) == ["TaskError", "TaskFailed"]
    assert client.events(task_id)[0].message == "KeyError: 'missing'"


def test_system_exit_and_keyboard_interrupt_fail_only_the_attempt(
    client: Client, worker: Worker, recorder: Recorder
) -> None:
    task_id = Runner(client).run("Exits", Params())
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("failed", 2)
    messages = [e.message for e in client.events(task_id)]
    assert messages[0] == "SystemExit: 3"
    assert messages[1] == "KeyboardInterrupt"
    # The worker still works.
    assert client.wait(Runner(client).run("Echo", Params()), timeout=10).status == "completed"


def test_undecodable_payload_fails_the_attempt_clearly(client: Client, worker: Worker) -> None:
    with client.transaction() as tx:
        task_id = int(
            tx.fetchval(
                "INSERT INTO anclax.tasks (name, payload) VALUES ('Echo', '{\"n\": \"not a number\"}') RETURNING id"
            )
        )
        tx.execute("SELECT pg_notify('anclax_tasks', '')")
    info = client.wait(task_id, timeout=10)
    assert info.status == "failed"
    event = client.events(task_id)[0]
    assert event.message is not None
    assert event.message.startswith("the task's parameters do not decode: ValidationError")
    assert "n\n  Input should be a valid integer" in event.message


def test_unknown_task_name_fails_with_a_clear_error(client: Client, worker: Worker) -> None:
    with client.transaction() as tx:
        task_id = int(tx.fetchval("INSERT INTO anclax.tasks (name, payload) VALUES ('Nope', '{}') RETURNING id"))
        tx.execute("SELECT pg_notify('anclax_tasks', '')")
    info = client.wait(task_id, timeout=10)
    assert info.status == "failed"
    assert 'no executor method for task "Nope"' in (client.events(task_id)[0].message or "")


def test_an_error_whose_str_raises_is_recorded(client: Client, worker: Worker, recorder: Recorder) -> None:
    class Weird(Exception):
        def __str__(self) -> str:
            raise ValueError("no str for you")

    class Executor(Recorder):
        def execute_no_retry(self, ctx: object, params: Params) -> None:
            raise Weird

    task_id = Runner(client).run("NoRetry", Params(), labels=["weird"])
    with running_worker(client, Executor(), labels=["weird"], tasks=["NoRetry"]):
        info = client.wait(task_id, timeout=10)
    assert info.status == "failed"
    assert "Weird: <str() of the exception raised ValueError>" in (client.events(task_id)[0].message or "")
