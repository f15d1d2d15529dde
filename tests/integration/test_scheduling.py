"""Labels, priorities, delays, cancel and wait, async executors, retention."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from anclax_fast import Client, TaskNotFound, WaitTimeout
from anclax_fast._core import TaskContext
from tests.support import Params, Recorder, Runner, running_worker, wait_until

pytestmark = pytest.mark.postgres


def test_labels_route_all_match(client: Client) -> None:
    runner = Runner(client)
    gpu = runner.run("Gpu", Params())  # labels ("gpu",) from the spec
    both = runner.run("Echo", Params(), labels=["gpu", "arm"])
    plain = runner.run("Echo", Params())
    gpu_only = Recorder()
    with running_worker(client, gpu_only, labels=["gpu"]):
        assert client.wait(gpu, timeout=10).status == "completed"
        assert client.wait(plain, timeout=10).status == "completed"  # unlabeled runs anywhere
        time.sleep(0.5)
        assert client.task(both).status == "pending"  # needs arm too
    with running_worker(client, Recorder(), labels=["arm", "gpu", "x"]):
        assert client.wait(both, timeout=10).status == "completed"
    plain_worker = Recorder()
    late_gpu = runner.run("Gpu", Params())
    with running_worker(client, plain_worker):
        time.sleep(0.5)
    assert client.task(late_gpu).status == "pending"
    assert plain_worker.calls == []


def test_higher_priority_runs_first_then_run_at_then_id(client: Client) -> None:
    runner = Runner(client)
    low = [runner.run("Echo", Params(n=i)) for i in range(3)]
    high = [runner.run("Echo", Params(n=10 + i), priority=5) for i in range(3)]
    recorder = Recorder()
    with running_worker(client, recorder, concurrency=1):
        wait_until(lambda: len(recorder.calls) == 6)
    order = [task_id for _, task_id, _ in recorder.calls]
    assert order == high + low


def test_a_delayed_task_starts_on_time_woken_by_a_timer(client: Client) -> None:
    recorder = Recorder()
    runner = Runner(client)
    # A long poll interval: only the timer can start the task on time.
    with running_worker(client, recorder, poll_interval=30.0):
        time.sleep(0.3)
        run_at = datetime.now(timezone.utc) + timedelta(seconds=1)
        task_id = runner.run("Echo", Params(), run_at=run_at)
        info = client.wait(task_id, timeout=5)
    assert info.started_at is not None
    lateness = info.started_at - run_at
    assert timedelta(0) <= lateness < timedelta(milliseconds=100), lateness


def test_cancel_pending_running_and_final_tasks(client: Client) -> None:
    runner = Runner(client)
    pending = runner.run("Echo", Params(), delay="1h")
    assert client.cancel(pending) == [pending]
    info = client.task(pending)
    assert info.status == "cancelled"
    assert [e.kind for e in client.events(pending)] == ["TaskCancelled"]

    recorder = Recorder()
    with running_worker(client, recorder):
        running = runner.run("Sleepy", Params(sleep=30))
        wait_until(lambda: client.task(running).status == "running")
        assert client.cancel(running) == [running]
        info = client.wait(running, timeout=10)
        assert info.status == "cancelled"
        ctx = next(c for c in recorder.contexts if c.task_id == running)
        assert ctx.cancelled
        done = runner.run("Echo", Params())
        assert client.wait(done, timeout=10).status == "completed"
    assert client.cancel(done) == []
    assert client.task(done).status == "completed"
    with pytest.raises(TaskNotFound):
        client.cancel(10**12)


def test_wait_returns_on_completed_failed_and_cancelled_without_polling(client: Client) -> None:
    runner = Runner(client)
    recorder = Recorder()
    with running_worker(client, recorder):
        for name, expected in (("Echo", "completed"), ("NoRetry", "failed")):
            started = time.monotonic()
            task_id = runner.run(name, Params())
            assert client.wait(task_id, timeout=10).status == expected
            assert time.monotonic() - started < 1.0  # woken by NOTIFY, not a 1-second poll
        delayed = runner.run("Echo", Params(), delay="1h")
        threading.Timer(0.2, client.cancel, args=(delayed,)).start()
        started = time.monotonic()
        assert client.wait(delayed, timeout=10).status == "cancelled"
        assert time.monotonic() - started < 1.0
        with pytest.raises(WaitTimeout):
            client.wait(runner.run("Echo", Params(), delay="1h"), timeout=0.3)
        with pytest.raises(TaskNotFound):
            client.wait(10**12, timeout=1)


def test_async_executor_runs_1000_concurrent_sleeps_quickly(client: Client) -> None:
    runner = Runner(client)
    ids = runner.run_many("AsyncSleep", [Params(sleep=0.05) for _ in range(1000)])
    recorder = Recorder()
    started = time.monotonic()
    with running_worker(client, recorder, async_concurrency=1000):
        wait_until(lambda: len(recorder.calls) == 1000, timeout=30)
        for task_id in (ids[0], ids[-1]):
            assert client.wait(task_id, timeout=10).status == "completed"
    assert time.monotonic() - started < 5


def test_async_timeouts_and_cancels_cancel_the_coroutine(client: Client) -> None:
    cancelled: list[int] = []

    class Async(Recorder):
        async def execute_async_sleep(self, ctx: TaskContext, params: Params) -> None:
            try:
                await asyncio.sleep(params.sleep)
            except asyncio.CancelledError:
                cancelled.append(ctx.task_id)
                raise

    runner = Runner(client)
    timed_out = runner.run("AsyncSleep", Params(sleep=30), timeout="300ms")
    with running_worker(client, Async()):
        info = client.wait(timed_out, timeout=10)
        assert info.status == "failed"
        assert info.last_error == "TaskTimeout: the attempt exceeded its timeout of 0.3s"
        to_cancel = runner.run("AsyncSleep", Params(sleep=30))
        wait_until(lambda: client.task(to_cancel).status == "running")
        client.cancel(to_cancel)
        assert client.wait(to_cancel, timeout=10).status == "cancelled"
    assert cancelled == [timed_out, to_cancel]


def test_async_failures_run_hooks_on_a_thread(client: Client) -> None:
    hooks: list[tuple[int, str]] = []

    class Async:
        async def execute_always_fails(self, ctx: TaskContext, params: Params) -> None:
            await asyncio.sleep(0)
            raise RuntimeError("async failure")

        def on_always_fails_failed(self, ctx: TaskContext, task_id: int, params: Params, tx: object) -> None:
            hooks.append((task_id, threading.current_thread().name))

    task_id = Runner(client).run("AlwaysFails", Params())
    with running_worker(client, Async(), tasks=["AlwaysFails"]):
        info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("failed", 3)
    assert len(hooks) == 1
    assert hooks[0][0] == task_id
    assert hooks[0][1].startswith("anclax-exec-")


def test_retention_prunes_old_final_tasks_and_their_events(client: Client) -> None:
    runner = Runner(client)
    old = runner.run("NoRetry", Params())
    keep = runner.run("Echo", Params(), delay="1h")
    with running_worker(client, Recorder()):
        assert client.wait(old, timeout=10).status == "failed"
    with client.transaction() as tx:
        tx.execute("UPDATE anclax.tasks SET finished_at = now() - interval '8 days' WHERE id = $1", old)
    with running_worker(client, Recorder(), maintenance_interval=0.2, retention_failed=timedelta(days=7)) as worker:
        wait_until(lambda: worker.stats()["pruned"] >= 1)
    with pytest.raises(TaskNotFound):
        client.task(old)
    assert client.events(old) == []
    assert client.task(keep).status == "pending"
