"""PgQueuer 1.x on asyncpg + uvloop, set up per its performance guide.

Runs in benches/.venvs/pgqueuer (pgqueuer, asyncpg, uvloop); not type-checked in the project venv.
Successful jobs are deleted from ``pgqueuer`` and logged in ``pgqueuer_log`` with status
``successful``: that log is what the exactly-once check counts.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import asyncpg
import uvloop
from pgqueuer import AsyncpgDriver, Job, Queries, QueueManager

from benches.drivers import protocol as p
from benches.drivers.kit import Driver, Monitor, Payload, Schedule, Timer, WorkerControl, batches

ENTRYPOINT = "noop"
BATCH_SIZE = 500  # reference sweep: throughput rose with batch size up to ~500
SLEEP_IO_BATCH_SIZE = 25  # PgQueuer requires max_concurrent_tasks >= 2 x batch_size

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return uvloop.run(coro)


def _encode(payload: Payload) -> bytes:
    return json.dumps(payload).encode()


class PgQueuerDriver(Driver):
    package = "pgqueuer"
    extra_packages = ("asyncpg", "uvloop")
    settings = {  # noqa: RUF012
        "driver": "AsyncpgDriver on one dedicated asyncpg connection per QueueManager "
        "(docs/guides/performance-tuning.md: 'Use a direct asyncpg connection (not a pool) for the "
        "QueueManager'; docs/comparisons/benchmarks.md: asyncpg ~1.7x psycopg)",
        "event loop": "uvloop (as tools/benchmark.py)",
        "batch_size": f"{BATCH_SIZE} (docs/guides/performance-tuning.md 'Batch size': raise it for short jobs; "
        "reference sweep on this machine type: best at 500)",
        "autovacuum": "`pgq autovac` settings applied at install via Queries.optimize_autovacuum() "
        "(docs/guides/performance-tuning.md 'Autovacuum tuning')",
        "durability": "durable (default; every system here writes WAL for its queue)",
        "bulk enqueue": "Queries.enqueue with lists (one statement per batch)",
        "sleep_io": f"max_concurrent_tasks=50, batch_size={SLEEP_IO_BATCH_SIZE} (the largest it accepts with 50)",
    }
    docs = (
        "https://github.com/janbjorge/pgqueuer/blob/main/docs/guides/performance-tuning.md",
        "https://github.com/janbjorge/pgqueuer/blob/main/docs/comparisons/benchmarks.md",
        "https://github.com/janbjorge/pgqueuer/blob/main/tools/benchmark.py",
    )

    def install(self, dsn: str) -> None:
        async def install() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                queries = Queries(AsyncpgDriver(conn))
                await queries.install()
                await queries.optimize_autovacuum()
            finally:
                await conn.close()

        _run(install())

    def enqueue_single(self, dsn: str, payloads: list[Payload], timer: Timer) -> None:
        async def enqueue() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                queries = Queries(AsyncpgDriver(conn))
                timer.start()
                for payload in payloads:
                    await queries.enqueue(ENTRYPOINT, _encode(payload))
                timer.stop()
            finally:
                await conn.close()

        _run(enqueue())

    def enqueue_bulk(self, dsn: str, payloads: list[Payload], batch_size: int, timer: Timer) -> None:
        async def enqueue() -> None:
            conn = await asyncpg.connect(dsn)
            try:
                queries = Queries(AsyncpgDriver(conn))
                timer.start()
                for batch in batches(payloads, batch_size):
                    await queries.enqueue(
                        [ENTRYPOINT] * len(batch), [_encode(payload) for payload in batch], [0] * len(batch)
                    )
                timer.stop()
            finally:
                await conn.close()

        _run(enqueue())

    def produce_paced(self, dsn: str, schedule: Schedule) -> list[float]:
        async def produce() -> list[float]:
            committed: list[float] = []
            conn = await asyncpg.connect(dsn)
            try:
                queries = Queries(AsyncpgDriver(conn))
                async for payload in schedule:
                    await queries.enqueue(ENTRYPOINT, _encode(payload))
                    committed.append(time.time())
            finally:
                await conn.close()
            return committed

        return _run(produce())

    def work(self, dsn: str, ctl: WorkerControl) -> None:
        _run(_work(dsn, ctl))

    def open_monitor(self, dsn: str) -> Monitor:
        return _PgQueuerMonitor(dsn)


async def _work(dsn: str, ctl: WorkerControl) -> None:
    conn = await asyncpg.connect(dsn)
    qm = QueueManager(Queries(AsyncpgDriver(conn)))
    sleep_s = ctl.options.sleep_s

    @qm.entrypoint(ENTRYPOINT)
    async def noop(job: Job) -> None:
        ctl.job_started(json.loads(job.payload or b"{}")["n"])
        if sleep_s > 0:
            await asyncio.sleep(sleep_s)

    if ctl.options.scenario == p.SLEEP_IO:
        run_options: dict[str, Any] = {
            "batch_size": SLEEP_IO_BATCH_SIZE,
            "max_concurrent_tasks": ctl.options.concurrency or 50,
        }
    else:
        run_options = {"batch_size": BATCH_SIZE}
    await ctl.aready_and_wait_for_start()
    runner = asyncio.create_task(qm.run(**run_options))
    stopper = asyncio.create_task(ctl.await_stop())
    await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
    qm.shutdown.set()
    await runner  # re-raises if the queue manager failed
    stopper.cancel()
    if not conn.is_closed():
        await conn.close()


class _PgQueuerMonitor(Monitor):
    def __init__(self, dsn: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._conn: asyncpg.Connection = self._loop.run_until_complete(asyncpg.connect(dsn))

    def finished(self) -> int:
        query = "SELECT count(*) FROM pgqueuer_log WHERE status = 'successful'"
        return int(self._loop.run_until_complete(self._conn.fetchval(query)))

    def states(self) -> dict[str, int]:
        rows = self._loop.run_until_complete(self._conn.fetch("SELECT status::text, count(*) FROM pgqueuer GROUP BY 1"))
        states = {str(row[0]): int(row[1]) for row in rows}
        states["successful (pgqueuer_log)"] = self.finished()
        return states

    def close(self) -> None:
        self._loop.run_until_complete(self._conn.close())
        self._loop.close()


DRIVER = PgQueuerDriver()
