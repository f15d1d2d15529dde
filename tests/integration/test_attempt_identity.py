"""One identity per attempt (issue 12 §1): a task handed back to the queue while its attempt still
runs here (a release racing the attempt's end, a rescue after a lease loss) is claimed again by
the same worker, with the same attempt number; the old attempt ending must neither land its
result on the new attempt nor make the worker forget the new one.

The interleavings are forced with a gated executor (each run waits for the test to open its gate)
and a hand-written release of the row, which is what release.sql and rescue.sql do."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from anclax_fast import Client, Spec, TaskDef, Worker
from anclax_fast._core import TaskContext
from tests.support import FAST, Params, Runner, wait_until

pytestmark = pytest.mark.postgres

TASKS = (TaskDef(name="Gated"), TaskDef(name="AsyncGated"))
SPEC = Spec(source="tests/integration/test_attempt_identity.py", tasks=TASKS, models={t.name: Params for t in TASKS})


class Gates:
    """Run n (1-based, in start order) waits until `open(n)`."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: list[tuple[int, int]] = []  # (task id, attempt)
        self.gates: list[threading.Event] = [threading.Event() for _ in range(10)]
        self.ended: list[BaseException | None] = []

    def _start(self, ctx: TaskContext) -> threading.Event:
        with self.lock:
            self.runs.append((ctx.task_id, ctx.attempt))
            return self.gates[len(self.runs) - 1]

    def started(self) -> int:
        with self.lock:
            return len(self.runs)

    def open(self, run: int) -> None:
        self.gates[run - 1].set()

    def execute_gated(self, ctx: TaskContext, params: Params) -> None:
        gate = self._start(ctx)
        # Deliberately ignores ctx.cancelled: an attempt that keeps running after its lease is lost.
        if not gate.wait(timeout=30):
            raise TimeoutError("the test never opened this run's gate")

    async def execute_async_gated(self, ctx: TaskContext, params: Params) -> None:
        gate = self._start(ctx)
        try:
            while not gate.is_set():
                await asyncio.sleep(0.01)
        except asyncio.CancelledError as err:
            with self.lock:
                self.ended.append(err)
            raise


def options(extra: dict[str, Any]) -> dict[str, Any]:
    return {**FAST, **extra}


def run(client: Client, name: str, **options: Any) -> int:
    return Runner(client)._enqueue(SPEC.task(name), Params(), **options)  # pyright: ignore[reportPrivateUsage]


def hand_back(client: Client, task_id: int) -> None:
    """What release.sql does (the attempt is not counted) while the attempt still runs here."""
    with client.transaction() as tx:
        tx.execute(
            "UPDATE anclax.tasks SET status = 'pending', attempts = attempts - 1, worker_id = NULL, run_at = now() "
            "WHERE id = $1 AND status = 'running'",
            task_id,
        )
        tx.execute("SELECT pg_notify('anclax_tasks', '')")


def row(client: Client, task_id: int) -> dict[str, Any]:
    with client.transaction() as tx:
        found = tx.fetchrow("SELECT status, attempts, worker_id FROM anclax.tasks WHERE id = $1", task_id)
    assert found is not None
    return dict(found)


def heartbeats(client: Client, worker: Worker, n: int) -> None:
    """Wait until the worker has heartbeaten (and so reconciled) `n` more times."""

    def beat() -> Any:
        with client.transaction() as tx:
            return tx.fetchval("SELECT heartbeat_at FROM anclax.workers WHERE id = $1", worker.worker_id)

    for _ in range(n):
        last = beat()
        wait_until(lambda last=last: beat() != last, timeout=10)


@pytest.fixture
def gates() -> Gates:
    return Gates()


@pytest.fixture
def worker(client: Client, gates: Gates) -> Iterator[Worker]:
    # lease_ttl 3 s: a heartbeat (and a reconciliation) every second.
    with Worker(client, gates, SPEC, **options({"concurrency": 4, "async_concurrency": 4})) as w:
        yield w


@pytest.mark.parametrize("name", ["Gated", "AsyncGated"])
def test_an_old_attempt_ending_does_not_touch_the_new_one(
    client: Client, worker: Worker, gates: Gates, name: str
) -> None:
    task_id = run(client, name)
    wait_until(lambda: gates.started() == 1)
    hand_back(client, task_id)
    # Claimed again by the same worker, with the same attempt number as the one still running.
    wait_until(lambda: gates.started() == 2)
    assert gates.runs == [(task_id, 1), (task_id, 1)]
    discarded = worker.stats()["discarded_results"]
    gates.open(1)
    # The old attempt's success is discarded: it must not complete the task under the new attempt.
    wait_until(lambda: worker.stats()["discarded_results"] > discarded)
    assert row(client, task_id)["status"] == "running"
    # Two reconciliations later the worker still knows its new attempt: it is not handed back.
    heartbeats(client, worker, 3)
    assert (row(client, task_id)["status"], gates.started()) == ("running", 2)
    assert worker.stats()["released"] == 0
    assert gates.ended == []  # the new coroutine was not cancelled by the old one's end
    gates.open(2)
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts) == ("completed", 1)
    assert gates.started() == 2
