"""The control plane (docs/control-plane.md): tags, pause and resume (tasks and task names),
cascading cancel and cancel by tags, paused cron schedules; on pending, running, retry-waiting
and final tasks, with real workers, and the race of a pause with the claims of several worker
processes."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Generator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from anclax_fast import AsyncClient, Client, ConfigurationError, CronJob, RetryPolicy, ScheduleNotFound, TaskNotFound
from anclax_fast._core import TaskContext
from anclax_fast.cli import main
from anclax_fast.runner import resolve_options
from anclax_fast.spec import TaskDef
from anclax_fast.tags import MAX_TAG_LENGTH, MAX_TAGS
from tests.integration.test_workers import read_runs, worker_process
from tests.support import SPEC, Params, Recorder, Runner, running_worker, wait_until

pytestmark = pytest.mark.postgres


def status(client: Client, task_id: int) -> str:
    return client.task(task_id).status


class Gate:
    """An executor for ``Flaky`` whose attempts wait until the test lets them go, then fail while
    ``attempt <= fail_times``."""

    def __init__(self) -> None:
        self.started = threading.Semaphore(0)
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.calls: list[tuple[int, int]] = []

    def execute_flaky(self, ctx: TaskContext, params: Params) -> None:
        with self.lock:
            self.calls.append((ctx.task_id, ctx.attempt))
        self.started.release()
        assert self.release.wait(20), "the test never released the attempt"
        if ctx.attempt <= params.fail_times:
            raise RuntimeError(f"failing attempt {ctx.attempt}")

    def attempts_of(self, task_id: int) -> list[int]:
        with self.lock:
            return [attempt for tid, attempt in self.calls if tid == task_id]


@pytest.fixture
def gate(client: Client) -> Generator[Gate]:
    gate = Gate()
    with running_worker(client, gate, tasks=["Flaky"], concurrency=4):
        yield gate
        gate.release.set()
        # Leave no Flaky task behind for the next test's worker (and its `started` count).
        with client.transaction() as tx:
            tx.execute(
                "UPDATE anclax.tasks SET status = 'cancelled', finished_at = now() "
                "WHERE name = 'Flaky' AND status IN ('pending', 'paused')"
            )
        wait_until(lambda: _count_name(client, "Flaky", "running") == 0)


def _count_name(client: Client, name: str, wanted: str) -> int:
    with client.transaction() as tx:
        return int(tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE name = $1 AND status = $2", name, wanted))


def started(gate: Gate) -> None:
    assert gate.started.acquire(timeout=10), "the attempt did not start"


# --- tags -------------------------------------------------------------------------------------


def test_tags_are_stored_sorted_without_duplicates_and_default_to_the_spec(client: Client) -> None:
    runner = Runner(client)
    task_id = runner.run("Echo", delay="1h", tags=["b", "a", "b"])
    assert client.task(task_id).tags == ("a", "b")
    assert client.task(runner.run("Echo", delay="1h")).tags == ()
    tagged = TaskDef(name="Echo", tags=("spec", "x"))
    assert resolve_options(tagged, {}).tags == ["spec", "x"]
    assert resolve_options(tagged, {"tags": ["call"]}).tags == ["call"]
    ids = runner.run_many("Echo", [Params(n=1), Params(n=2)], delay="1h", tags=["batch"])
    assert [client.task(i).tags for i in ids] == [("batch",), ("batch",)]
    with client.transaction() as tx:
        through_tx = runner.run_with_tx(tx, "Echo", delay="1h", tags=["tx"])
    assert client.task(through_tx).tags == ("tx",)


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        (["ok", "bad\x00tag"], "NUL"),
        ([""], "non-empty"),
        ([7], "non-empty string"),
        ("single", "sequence of strings"),
        (["x" * (MAX_TAG_LENGTH + 1)], f"at most {MAX_TAG_LENGTH} characters"),
        ([f"t{i}" for i in range(MAX_TAGS + 1)], f"at most {MAX_TAGS} tags"),
    ],
)
def test_bad_tags_are_refused_before_anything_is_written(client: Client, tags: object, message: str) -> None:
    before = client.counts_by_status(exact=True)
    with pytest.raises(ConfigurationError, match=message):
        Runner(client).run("Echo", tags=tags)
    assert client.counts_by_status(exact=True) == before


# --- pause and resume ---------------------------------------------------------------------------


def test_pause_and_resume_a_pending_task(client: Client) -> None:
    runner = Runner(client)
    task_id = runner.run("Echo", tags=["pending-case"])
    other = runner.run("Echo")
    assert client.pause(task_ids=[task_id]) == 1
    assert status(client, task_id) == "paused"
    assert client.pause(task_ids=[task_id]) == 0
    recorder = Recorder()
    with running_worker(client, recorder, tasks=["Echo"]):
        client.wait(other, timeout=10)
        # The paused task was not claimed while the other one ran.
        assert status(client, task_id) == "paused"
        assert client.counts_by_status()["paused"] >= 1
        assert client.resume(task_ids=[task_id]) == 1
        assert client.resume(task_ids=[task_id]) == 0
        assert client.wait(task_id, timeout=10).status == "completed"
    assert recorder.attempts_of(task_id) == [1]


def test_a_running_task_paused_finishes_its_attempt_then_waits_instead_of_retrying(client: Client, gate: Gate) -> None:
    task_id = Runner(client).run("Flaky", Params(fail_times=5), retry_policy=RetryPolicy("10ms", 6))
    started(gate)
    assert client.pause(task_ids=[task_id]) == 1
    info = client.task(task_id)
    assert (info.status, info.pause_requested) == ("running", True)
    assert client.pause(task_ids=[task_id]) == 0  # already requested
    gate.release.set()
    wait_until(lambda: status(client, task_id) == "paused")
    info = client.task(task_id)
    assert (info.attempts, info.pause_requested) == (1, False)
    assert gate.attempts_of(task_id) == [1]
    assert client.resume(task_ids=[task_id]) == 1
    wait_until(lambda: len(gate.attempts_of(task_id)) >= 2)


def test_a_paused_running_task_keeps_a_final_outcome(client: Client, gate: Gate) -> None:
    runner = Runner(client)
    succeeds = runner.run("Flaky", Params(fail_times=0))
    fails = runner.run("Flaky", Params(fail_times=1), retry_policy=RetryPolicy("10ms", 1))  # a failure is final
    started(gate)
    started(gate)
    assert client.pause(task_ids=[succeeds, fails]) == 2
    gate.release.set()
    assert client.wait(succeeds, timeout=10).status == "completed"
    assert client.wait(fails, timeout=10).status == "failed"
    assert not client.task(succeeds).pause_requested


def test_resume_of_a_running_task_withdraws_the_pause(client: Client, gate: Gate) -> None:
    task_id = Runner(client).run("Flaky", Params(fail_times=1), retry_policy=RetryPolicy("10ms", 3))
    started(gate)
    assert client.pause(task_ids=[task_id]) == 1
    assert client.resume(task_ids=[task_id]) == 1
    gate.release.set()
    assert client.wait(task_id, timeout=10).status == "completed"
    assert gate.attempts_of(task_id) == [1, 2]


def test_pause_of_a_retry_waiting_task_keeps_its_due_time(client: Client, gate: Gate) -> None:
    gate.release.set()
    task_id = Runner(client).run("Flaky", Params(fail_times=1), retry_policy=RetryPolicy("1h", 3))
    wait_until(lambda: client.task(task_id).status == "pending" and client.task(task_id).attempts == 1)
    due = client.task(task_id).run_at
    assert due > datetime.now(timezone.utc) + timedelta(minutes=50)
    assert client.pause(task_ids=[task_id]) == 1
    assert status(client, task_id) == "paused"
    assert client.resume(task_ids=[task_id]) == 1
    info = client.task(task_id)
    assert (info.status, info.run_at, info.attempts) == ("pending", due, 1)


def test_final_tasks_are_left_alone(client: Client) -> None:
    runner = Runner(client)
    task_id = runner.run("Echo", tags=["final-case"])
    with running_worker(client, tasks=["Echo"]):
        client.wait(task_id, timeout=10)
    assert client.pause(task_ids=[task_id]) == 0
    assert client.resume(task_ids=[task_id]) == 0
    assert client.pause(tags=["final-case"]) == 0
    assert client.cancel(task_id) == []
    assert status(client, task_id) == "completed"


def test_unknown_ids_and_unique_tags_are_errors_that_change_nothing(client: Client) -> None:
    task_id = Runner(client).run("Echo", delay="1h")
    with pytest.raises(TaskNotFound, match="999999999"):
        client.pause(task_ids=[task_id, 999_999_999])
    assert status(client, task_id) == "pending"
    with pytest.raises(TaskNotFound, match="no-such-tag"):
        client.resume(unique_tag="no-such-tag")
    with pytest.raises(TaskNotFound):
        client.cancel(999_999_999)
    # A selection by tags or by name that matches nothing is a count of zero.
    assert client.pause(tags=["nothing-has-this"]) == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of"),
        ({"task_ids": [1], "tags": ["a"]}, r"got task_ids=, tags="),
        ({"tags": []}, "at least one tag"),
        ({"tags": "a"}, "sequence of strings"),
        ({"tags": ["a\x00"]}, "NUL"),
        ({"task_ids": "12"}, "sequence of task ids"),
        ({"task_ids": [True]}, "integers"),
        ({"unique_tag": ""}, "non-empty"),
        ({"task_name": "x\x00"}, "NUL"),
    ],
)
def test_bad_selectors_are_clear_errors(client: Client, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        client.pause(**kwargs)
    with pytest.raises(ConfigurationError, match=message):
        client.resume(**kwargs)


def test_pause_by_unique_tag_and_by_tags(client: Client) -> None:
    runner = Runner(client)
    unique = runner.run("Echo", delay="1h", unique_tag="control-unique")
    both = runner.run("Echo", delay="1h", tags=["red", "big"])
    red = runner.run("Echo", delay="1h", tags=["red"])
    plain = runner.run("Echo", delay="1h")
    assert client.pause(unique_tag="control-unique") == 1
    assert status(client, unique) == "paused"
    # Several tags select the tasks carrying all of them.
    assert client.pause(tags=["red", "big"]) == 1
    assert [status(client, i) for i in (both, red, plain)] == ["paused", "pending", "pending"]
    assert client.pause(tags=["red"]) == 1
    assert client.resume(tags=["red"]) == 2
    assert [status(client, i) for i in (both, red)] == ["pending", "pending"]
    assert client.resume(unique_tag="control-unique") == 1


def test_a_paused_task_name_holds_every_new_task_of_that_name(client: Client) -> None:
    runner = Runner(client)
    before = runner.run("NoRetry")
    other_name = runner.run("Echo", delay="1h")
    assert client.pause(task_name="NoRetry") == 1
    assert client.pause(task_name="NoRetry") == 0  # nothing new to pause
    assert client.paused_task_names() == ["NoRetry"]
    single = runner.run("NoRetry")
    batch = runner.run_many("NoRetry", [Params(n=1), Params(n=2)])
    with client.transaction() as tx:
        in_tx = runner.run_with_tx(tx, "NoRetry")
    held = [before, single, *batch, in_tx]
    assert {status(client, i) for i in held} == {"paused"}
    assert status(client, other_name) == "pending"
    # A name with no task yet can be paused too: zero tasks changed, the name is recorded.
    assert client.pause(task_name="NoTasksYet") == 0
    assert client.paused_task_names() == ["NoRetry", "NoTasksYet"]
    assert client.resume(task_name="NoTasksYet") == 0
    assert client.resume(task_name="NoRetry") == len(held)
    assert client.paused_task_names() == []
    assert {status(client, i) for i in held} == {"pending"}
    assert status(client, runner.run("NoRetry")) == "pending"
    client.cancel(tags=None, task_id=other_name)
    for task_id in held:
        client.cancel(task_id)


def test_a_paused_name_holds_running_tasks_after_their_attempt(client: Client, gate: Gate) -> None:
    task_id = Runner(client).run("Flaky", Params(fail_times=5), retry_policy=RetryPolicy("10ms", 6))
    started(gate)
    assert client.pause(task_name="Flaky") == 1
    gate.release.set()
    wait_until(lambda: status(client, task_id) == "paused")
    assert gate.attempts_of(task_id) == [1]
    assert client.resume(task_name="Flaky") == 1
    wait_until(lambda: len(gate.attempts_of(task_id)) >= 2)
    client.cancel(task_id)


@pytest.mark.slow
def test_a_pause_racing_the_claims_of_three_processes_lets_no_new_attempt_start(
    client: Client, module_dsn: str, tmp_path: Path
) -> None:
    """Tasks that fail and retry at once, claimed over and over by 3 worker processes; a pause by
    tag lands in the middle. From the moment pause() returns, no task of the selection starts
    another attempt: the pending ones wait, the claimed and running ones finish the attempt they
    started and then wait."""
    ids = Runner(client).run_many(
        "Flaky", [Params(n=i, fail_times=10**6) for i in range(300)], retry_policy=RetryPolicy("1ms", -1), tags=["race"]
    )
    logs = [tmp_path / f"w{i}.log" for i in range(3)]
    with (
        worker_process(module_dsn, logs[0], "--concurrency", "4"),
        worker_process(module_dsn, logs[1], "--concurrency", "4"),
        worker_process(module_dsn, logs[2], "--concurrency", "4"),
    ):
        wait_until(lambda: len(read_runs(*logs)) >= 1500, timeout=60)
        assert client.pause(tags=["race"]) > 0
        with client.transaction() as tx:
            at_pause = {
                r["id"]: r["attempts"]
                for r in tx.fetch("SELECT id, attempts FROM anclax.tasks WHERE id = ANY($1)", ids)
            }
        wait_until(lambda: client.pause(tags=["race"]) == 0 and _count(client, ids, "running") == 0, timeout=30)
        runs_at_rest = len(read_runs(*logs))
    with client.transaction() as tx:
        rows = tx.fetch("SELECT id, status, attempts FROM anclax.tasks WHERE id = ANY($1)", ids)
    assert {r["status"] for r in rows} == {"paused"}
    assert {r["id"]: r["attempts"] for r in rows} == at_pause
    runs = read_runs(*logs)
    assert len(runs) == runs_at_rest
    most: dict[int, int] = {}
    for task_id, attempt, *_ in runs:
        most[task_id] = max(most.get(task_id, 0), attempt)
    assert all(most.get(i, 0) <= at_pause[i] for i in ids)
    assert client.cancel(tags=["race"]) == sorted(ids)


def _count(client: Client, ids: list[int], wanted: str) -> int:
    with client.transaction() as tx:
        return int(tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE id = ANY($1) AND status = $2", ids, wanted))


# --- cancel -----------------------------------------------------------------------------------


def _tree(client: Client) -> dict[str, int]:
    """root -> (child -> grandchild, done child -> pending grandchild); a separate sibling root."""
    runner = Runner(client)
    root = runner.run("Echo", delay="1h")
    child = runner.run("Echo", delay="1h", parent_id=root)
    grandchild = runner.run("Echo", delay="1h", parent_id=child)
    done = runner.run("Echo", delay="1h", parent_id=root)
    under_done = runner.run("Echo", delay="1h", parent_id=done)
    with client.transaction() as tx:
        tx.execute("UPDATE anclax.tasks SET status = 'completed', finished_at = now() WHERE id = $1", done)
    sibling = runner.run("Echo", delay="1h")
    return {
        "root": root,
        "child": child,
        "grandchild": grandchild,
        "done": done,
        "under_done": under_done,
        "sibling": sibling,
    }


def test_cancel_cascades_to_every_descendant_by_default(client: Client) -> None:
    tree = _tree(client)
    affected = client.cancel(tree["root"])
    assert affected == sorted([tree["root"], tree["child"], tree["grandchild"], tree["under_done"]])
    assert status(client, tree["done"]) == "completed"
    assert status(client, tree["sibling"]) == "pending"
    assert client.cancel(tree["root"]) == []


def test_cancel_without_cascade_leaves_the_children(client: Client) -> None:
    tree = _tree(client)
    assert client.cancel(tree["root"], cascade=False) == [tree["root"]]
    assert status(client, tree["child"]) == "pending"
    assert client.cancel(tree["child"]) == sorted([tree["child"], tree["grandchild"]])


def test_cancel_reaches_running_and_paused_descendants(client: Client, gate: Gate) -> None:
    runner = Runner(client)
    root = runner.run("Echo", delay="1h")
    running = runner.run("Flaky", Params(fail_times=0), parent_id=root)
    started(gate)
    paused = runner.run("Echo", delay="1h", parent_id=running)
    client.pause(task_ids=[paused])
    assert client.cancel(root) == sorted([root, running, paused])
    assert client.task(running).cancel_requested
    assert status(client, paused) == "cancelled"
    gate.release.set()
    assert client.wait(running, timeout=10).status == "cancelled"


def test_cancel_by_tags(client: Client) -> None:
    runner = Runner(client)
    a = runner.run("Echo", delay="1h", tags=["batch-7", "x"])
    b = runner.run("Echo", delay="1h", tags=["batch-7"])
    child = runner.run("Echo", delay="1h", parent_id=b)
    other = runner.run("Echo", delay="1h", tags=["batch-8"])
    assert client.cancel(tags=["batch-7", "x"]) == [a]
    assert client.cancel(tags=["batch-7"], cascade=False) == [b]
    assert status(client, child) == "pending"
    assert client.cancel(tags=["batch-7"]) == []
    assert status(client, other) == "pending"
    with pytest.raises(ConfigurationError, match="not both"):
        client.cancel(a, tags=["x"])
    with pytest.raises(ConfigurationError, match="at least one tag"):
        client.cancel(tags=[])


# --- cron schedules ---------------------------------------------------------------------------

HOURLY = TaskDef(name="Hourly", cron=CronJob("0 0 * * * *", {"key": "${fireTime}"}))
EVERY_SECOND = TaskDef(name="Secondly", cron=CronJob("* * * * * *", {"key": "${fireTime}"}))


def _register(client: Client, task: TaskDef) -> int:
    options = resolve_options(task, {})
    return client.register_schedule(task, Params(key="k").model_dump_json().encode(), options)


def _fires(client: Client, name: str) -> list[dict[str, Any]]:
    with client.transaction() as tx:
        return tx.fetch(
            "SELECT t.id, t.status, t.fire_at, t.last_error FROM anclax.tasks AS t "
            "JOIN anclax.schedules AS s ON s.id = t.schedule_id WHERE s.task_name = $1 ORDER BY t.id",
            name,
        )


def test_pause_and_resume_a_schedule_before_its_next_fire(client: Client) -> None:
    fire = _register(client, HOURLY)
    assert client.pause_schedule("Hourly") is True
    assert client.pause_schedule("Hourly") is False
    assert status(client, fire) == "paused"
    assert [s.paused for s in client.schedules() if s.task_name == "Hourly"] == [True]
    # A worker registering the spec again leaves it paused.
    assert _register(client, HOURLY) == fire
    assert status(client, fire) == "paused"
    assert client.resume_schedule("Hourly") is True
    assert client.resume_schedule("Hourly") is False
    assert status(client, fire) == "pending"
    assert [s.paused for s in client.schedules() if s.task_name == "Hourly"] == [False]
    client.unschedule("Hourly")


def test_resume_after_missed_fires_skips_them(client: Client) -> None:
    fire = _register(client, EVERY_SECOND)
    assert client.pause_schedule("Secondly")
    missed_at = client.task(fire).fire_at
    assert missed_at is not None
    wait_until(lambda: datetime.now(timezone.utc) > missed_at + timedelta(seconds=2.1), timeout=5)
    assert client.resume_schedule("Secondly")
    fires = _fires(client, "Secondly")
    assert [f["status"] for f in fires] == ["cancelled", "pending"]
    assert "paused" in fires[0]["last_error"]
    # One next fire, after now: the backlog of fires missed while paused is not created.
    assert fires[1]["fire_at"] > missed_at + timedelta(seconds=2)
    client.unschedule("Secondly")


def test_the_scheduler_skips_a_paused_schedule(client: Client) -> None:
    spec_task = EVERY_SECOND
    from anclax_fast import Spec

    spec = Spec(source="test_control_plane#cron", tasks=(spec_task,), models={"Secondly": Params})

    class Ticks:
        def __init__(self) -> None:
            self.count = 0

        def execute_secondly(self, ctx: TaskContext, params: Params) -> None:
            self.count += 1

    ticks = Ticks()
    with running_worker(client, ticks, spec=spec):
        wait_until(lambda: ticks.count >= 1)
        assert client.pause_schedule("Secondly")
        fires_at_pause = len(_fires(client, "Secondly"))
        # Three fire times pass: a scheduler that ignored the pause would create their rows.
        time.sleep(3)
        assert len(_fires(client, "Secondly")) == fires_at_pause
        assert client.resume_schedule("Secondly")
        wait_until(lambda: len(_fires(client, "Secondly")) > fires_at_pause + 1)
    client.unschedule("Secondly")


def test_trigger_a_schedule_and_unknown_schedules(client: Client) -> None:
    _register(client, HOURLY)
    client.pause_schedule("Hourly")
    task_id = client.trigger_schedule("Hourly")
    info = client.task(task_id)
    assert (info.name, info.status, info.schedule_id) == ("Hourly", "pending", None)
    client.pause(task_name="Hourly")
    assert status(client, client.trigger_schedule("Hourly")) == "paused"
    client.resume(task_name="Hourly")
    for operation in (client.pause_schedule, client.resume_schedule, client.trigger_schedule):
        with pytest.raises(ScheduleNotFound, match="NoSuchSchedule"):
            operation("NoSuchSchedule")
    with pytest.raises(ScheduleNotFound, match="with unique tag 'nope'"):
        client.pause_schedule("Hourly", "nope")
    client.unschedule("Hourly")


# --- AsyncClient and CLI ----------------------------------------------------------------------


def test_the_async_client_has_the_same_operations(client: Client, module_dsn: str) -> None:
    runner = Runner(client)
    root = runner.run("Echo", delay="1h", tags=["async-case"])
    child = runner.run("Echo", delay="1h", parent_id=root)
    _register(client, HOURLY)

    async def scenario() -> None:
        async with AsyncClient(module_dsn) as aclient:
            assert await aclient.pause(tags=["async-case"]) == 1
            assert await aclient.paused_task_names() == []
            assert await aclient.resume(task_ids=[root]) == 1
            assert await aclient.pause_schedule("Hourly") is True
            assert await aclient.resume_schedule("Hourly") is True
            triggered = await aclient.trigger_schedule("Hourly")
            assert (await aclient.task(triggered)).name == "Hourly"
            assert await aclient.cancel(root) == [root, child]
            with pytest.raises(TaskNotFound):
                await aclient.pause(task_ids=[999_999_999])

    asyncio.run(scenario())
    client.unschedule("Hourly")


def test_the_cli(client: Client, module_dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Runner(client)
    first = runner.run("Echo", delay="1h", tags=["cli-case"])
    child = runner.run("Echo", delay="1h", parent_id=first)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main([*argv, "--dsn", module_dsn])
        out, err = capsys.readouterr()
        return code, out, err

    code, out, err = run("tasks", "pause", "--tag", "cli-case")
    assert (code, out.strip()) == (0, "1"), err
    assert status(client, first) == "paused"
    code, out, _ = run("tasks", "resume", str(first))
    assert (code, out.strip()) == (0, "1")
    assert run("tasks", "pause", "999999999")[0] == 6
    code, _, err = run("tasks", "pause", str(first), "--name", "Echo")
    assert code == 2
    assert "exactly one of" in err
    code, out, _ = run("tasks", "pause", "--name", "NoRetry")
    assert (code, out.strip()) == (0, "0")
    assert run("tasks", "resume", "--name", "NoRetry")[0] == 0
    code, out, _ = run("tasks", "cancel", "--tag", "cli-case")
    assert code == 0
    assert out.split() == [str(first), str(child)]

    _register(client, HOURLY)
    code, out, _ = run("schedules", "pause", "Hourly")
    assert code == 0
    code, out, _ = run("schedules", "list")
    assert code == 0
    assert "Hourly" in out
    assert "paused" in out
    assert run("schedules", "resume", "Hourly")[0] == 0
    code, out, _ = run("schedules", "trigger", "Hourly")
    assert code == 0
    assert client.task(int(out.strip())).name == "Hourly"
    assert run("schedules", "pause", "NoSuchSchedule")[0] == 6
    client.unschedule("Hourly")


def test_every_spec_task_can_still_be_defined_without_tags() -> None:
    # The hand-built spec of the other tests declares no tags: the default is none.
    assert all(task.tags == () for task in SPEC.tasks)


@pytest.mark.slow
def test_a_paused_task_whose_worker_dies_is_rescued_into_paused(
    client: Client, module_dsn: str, tmp_path: Path
) -> None:
    task_id = Runner(client).run("Flaky", Params(sleep=60), retry_policy=RetryPolicy("10ms", 3))
    with worker_process(module_dsn, tmp_path / "dies.log", "--concurrency", "1", "--lease-ttl", "1") as proc:
        wait_until(lambda: status(client, task_id) == "running", timeout=20)
        assert client.pause(task_ids=[task_id]) == 1
        proc.kill()
    # Another worker's rescuer hands the dead worker's attempt back: paused, not pending.
    with running_worker(client, tasks=["Echo"]):
        wait_until(lambda: status(client, task_id) == "paused", timeout=30)
    info = client.task(task_id)
    assert (info.attempts, info.pause_requested) == (1, False)
    assert "lease expired" in (info.last_error or "")
    client.cancel(task_id)


def test_a_paused_task_released_at_shutdown_waits_paused(client: Client) -> None:
    gate = Gate()
    task_id = Runner(client).run("Flaky", Params(fail_times=0), retry_policy=RetryPolicy("10ms", 3))
    with running_worker(client, gate, tasks=["Flaky"], shutdown_grace=0.2) as worker:
        started(gate)
        assert client.pause(task_ids=[task_id]) == 1
        worker.stop()
    gate.release.set()
    info = client.task(task_id)
    # A released attempt does not count, and the task waits for resume instead of running again.
    assert (info.status, info.attempts) == ("paused", 0)
    client.cancel(task_id)
