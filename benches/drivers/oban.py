"""oban-py (Oban's Python port, psycopg 3), set up per its queue and production guides.

Runs in benches/.venvs/oban (Python >= 3.12); not type-checked in the project venv. Finished jobs stay
in ``oban_jobs`` with state ``completed`` (pruned only after a day), which the exactly-once check counts.
The worker class is resolved by its dotted name, so it lives at module level here and producers and
workers (separate processes) agree on ``benches.drivers.oban.NoopWorker``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import psycopg
import uvloop
from oban import Oban, worker
from oban.schema import install

from benches.drivers import protocol as p
from benches.drivers.kit import Driver, Monitor, Payload, Schedule, Timer, WorkerControl, batches

QUEUE = "bench"
LIMIT = 100  # jobs in flight per process (see the `settings` note below)
SLEEP_IO_LIMIT = 50
POOL_MAX = 10  # docs/production.md: "The default of 10 is comfortable for most deployments"

T = TypeVar("T")

_CTL: WorkerControl | None = None  # the worker process's control, set before Oban starts


@worker(queue=QUEUE)
class NoopWorker:
    async def process(self, job: Any) -> None:
        ctl = _CTL
        if ctl is None:
            raise RuntimeError("NoopWorker ran outside a benchmark worker process")
        ctl.job_started(job.args["n"])
        if ctl.options.sleep_s > 0:
            await asyncio.sleep(ctl.options.sleep_s)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(coro)  # as `oban start` does (oban/cli.py)


async def _client(dsn: str) -> tuple[Any, Oban]:
    pool = await Oban.create_pool(dsn, min_size=1, max_size=POOL_MAX)
    return pool, Oban(pool=pool)  # no queues: client mode, enqueue only


class ObanDriver(Driver):
    package = "oban"
    extra_packages = ("psycopg", "psycopg-binary", "psycopg-pool", "uvloop")
    settings = {  # noqa: RUF012
        "queue limit": f"{LIMIT} jobs in flight per process (docs/defining_queues.md: the limit is the per-node "
        "concurrency, no throughput guidance; a drain_1p sweep here: 10 (the default) clearly slowest, "
        "50-300 within the machine's noise, 1000 slower)",
        "pool": f"max_size={POOL_MAX} (docs/production.md 'Sizing the Connection Pool': workers only borrow a "
        "connection briefly; the default 10 is comfortable)",
        "event loop": "uvloop (as the `oban start` CLI, oban/cli.py)",
        "bulk enqueue": "Oban.enqueue_many (docs/enqueueing_jobs.md)",
        "single enqueue": "Oban.enqueue (one job, one transaction)",
        "sleep_io": f"queue limit {SLEEP_IO_LIMIT}, async process() (asyncio.sleep)",
        "edition": "open-source oban-py; bulk insert/ack optimisations and multi-process execution are Oban Pro only",
    }
    docs = (
        "https://github.com/oban-bg/oban-py/blob/main/docs/defining_queues.md",
        "https://github.com/oban-bg/oban-py/blob/main/docs/production.md",
        "https://github.com/oban-bg/oban-py/blob/main/docs/enqueueing_jobs.md",
        "https://github.com/oban-bg/oban-py/blob/main/docs/installation.md",
    )

    def install(self, dsn: str) -> None:
        async def run() -> None:
            pool = await Oban.create_pool(dsn, min_size=1, max_size=2)
            try:
                await install(pool)
            finally:
                await pool.close()

        _run(run())

    def enqueue_single(self, dsn: str, payloads: list[Payload], timer: Timer) -> None:
        async def enqueue() -> None:
            pool, oban = await _client(dsn)
            try:
                timer.start()
                for payload in payloads:
                    await oban.enqueue(NoopWorker.new(payload))
                timer.stop()
            finally:
                await pool.close()

        _run(enqueue())

    def enqueue_bulk(self, dsn: str, payloads: list[Payload], batch_size: int, timer: Timer) -> None:
        async def enqueue() -> None:
            pool, oban = await _client(dsn)
            try:
                timer.start()
                for batch in batches(payloads, batch_size):
                    await oban.enqueue_many(*[NoopWorker.new(payload) for payload in batch])
                timer.stop()
            finally:
                await pool.close()

        _run(enqueue())

    def produce_paced(self, dsn: str, schedule: Schedule) -> list[float]:
        async def produce() -> list[float]:
            committed: list[float] = []
            pool, oban = await _client(dsn)
            try:
                async for payload in schedule:
                    await oban.enqueue(NoopWorker.new(payload))
                    committed.append(time.time())
            finally:
                await pool.close()
            return committed

        return _run(produce())

    def work(self, dsn: str, ctl: WorkerControl) -> None:
        global _CTL  # noqa: PLW0603 - the worker class is looked up by name, so it reads a module global
        _CTL = ctl
        _run(_work(dsn, ctl))

    def open_monitor(self, dsn: str) -> Monitor:
        return _ObanMonitor(dsn)


async def _work(dsn: str, ctl: WorkerControl) -> None:
    if ctl.options.scenario == p.SLEEP_IO:
        limit = ctl.options.concurrency or SLEEP_IO_LIMIT
    else:
        limit = ctl.options.concurrency or LIMIT
    pool = await Oban.create_pool(dsn, min_size=1, max_size=POOL_MAX)
    oban = Oban(pool=pool, queues={QUEUE: limit})
    await ctl.aready_and_wait_for_start()
    await oban.start()
    await ctl.await_stop()
    await oban.stop()
    await pool.close()


class _ObanMonitor(Monitor):
    def __init__(self, dsn: str) -> None:
        self._conn = psycopg.connect(dsn, autocommit=True)

    def finished(self) -> int:
        row = self._conn.execute(
            "SELECT count(*) FROM oban_jobs WHERE queue = %s AND state = 'completed'", (QUEUE,)
        ).fetchone()
        return int(row[0]) if row else 0

    def states(self) -> dict[str, int]:
        rows = self._conn.execute(
            "SELECT state::text, count(*) FROM oban_jobs WHERE queue = %s GROUP BY 1", (QUEUE,)
        ).fetchall()
        return {str(state): int(count) for state, count in rows}

    def close(self) -> None:
        self._conn.close()


DRIVER = ObanDriver()
