"""Procrastinate 3.x (psycopg 3), set up per its concurrency and connection-pool guidance.

Runs in benches/.venvs/procrastinate; not type-checked in the project venv. Jobs are kept after they
finish (``delete_jobs="never"``, the default), so the exactly-once check counts ``succeeded`` rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

import procrastinate
import psycopg

from benches.drivers import protocol as p
from benches.drivers.kit import Driver, Monitor, Payload, Schedule, Timer, WorkerControl, batches

TASK = "noop"
QUEUE = "bench"
CONCURRENCY = 3  # reference sweep on this machine type: 3 sub-workers per process did best
SLEEP_IO_CONCURRENCY = 50


def _app(dsn: str, pool_size: int) -> procrastinate.App:
    return procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=dsn, min_size=1, max_size=pool_size))


def _register(app: procrastinate.App, handler: Callable[[int], Awaitable[None]]) -> procrastinate.tasks.Task:
    @app.task(name=TASK, queue=QUEUE)
    async def noop(n: int) -> None:
        await handler(n)

    return noop


async def _never_called(n: int) -> None:  # producers register the task but never run it
    raise AssertionError("a producer ran a job")


class ProcrastinateDriver(Driver):
    package = "procrastinate"
    extra_packages = ("psycopg", "psycopg-binary", "psycopg-pool")
    settings = {  # noqa: RUF012
        "concurrency": f"{CONCURRENCY} async sub-workers per process (docs/howto/production/concurrency.md; "
        "reference sweep on this machine type: 3 processes x concurrency 3 best)",
        "pool": "max_size = concurrency + 1 (docs/discussions.md 'Mind the size of your PostgreSQL pool': "
        "short jobs want as many connections as the concurrency, plus one)",
        "listen_notify": "on (default; docs/howto/production/connections.md)",
        "delete_jobs": "never (default; finished jobs stay as 'succeeded')",
        "bulk enqueue": "Task.batch_defer_async (docs/howto/basics/batch_defer.md)",
        "sleep_io": f"concurrency {SLEEP_IO_CONCURRENCY}, pool {SLEEP_IO_CONCURRENCY + 1}, async task (asyncio.sleep)",
        "processes": "1 (drain_1p, steady, sleep_io) or nproc (drain_np): Procrastinate runs one worker per process",
    }
    docs = (
        "https://github.com/procrastinate-org/procrastinate/blob/main/docs/howto/production/concurrency.md",
        "https://github.com/procrastinate-org/procrastinate/blob/main/docs/discussions.md#mind-the-size-of-your-postgresql-pool",
        "https://github.com/procrastinate-org/procrastinate/blob/main/docs/howto/basics/batch_defer.md",
        "https://github.com/procrastinate-org/procrastinate/blob/main/docs/howto/advanced/shutdown.md",
    )

    def install(self, dsn: str) -> None:
        async def install() -> None:
            app = _app(dsn, 2)
            async with app.open_async():
                await app.schema_manager.apply_schema_async()

        asyncio.run(install())

    def enqueue_single(self, dsn: str, payloads: list[Payload], timer: Timer) -> None:
        async def enqueue() -> None:
            app = _app(dsn, 2)
            task = _register(app, _never_called)
            async with app.open_async():
                timer.start()
                for payload in payloads:
                    await task.defer_async(**payload)
                timer.stop()

        asyncio.run(enqueue())

    def enqueue_bulk(self, dsn: str, payloads: list[Payload], batch_size: int, timer: Timer) -> None:
        async def enqueue() -> None:
            app = _app(dsn, 2)
            task = _register(app, _never_called)
            async with app.open_async():
                timer.start()
                for batch in batches(payloads, batch_size):
                    await task.batch_defer_async(*batch)
                timer.stop()

        asyncio.run(enqueue())

    def produce_paced(self, dsn: str, schedule: Schedule) -> list[float]:
        async def produce() -> list[float]:
            committed: list[float] = []
            app = _app(dsn, 2)
            task = _register(app, _never_called)
            async with app.open_async():
                async for payload in schedule:
                    await task.defer_async(**payload)
                    committed.append(time.time())
            return committed

        return asyncio.run(produce())

    def work(self, dsn: str, ctl: WorkerControl) -> None:
        asyncio.run(_work(dsn, ctl))

    def open_monitor(self, dsn: str) -> Monitor:
        return _ProcrastinateMonitor(dsn)


async def _work(dsn: str, ctl: WorkerControl) -> None:
    if ctl.options.scenario == p.SLEEP_IO:
        concurrency = ctl.options.concurrency or SLEEP_IO_CONCURRENCY
    else:
        concurrency = ctl.options.concurrency or CONCURRENCY
    sleep_s = ctl.options.sleep_s

    async def handler(n: int) -> None:
        ctl.job_started(n)
        if sleep_s > 0:
            await asyncio.sleep(sleep_s)

    app = _app(dsn, concurrency + 1)
    _register(app, handler)
    async with app.open_async():
        await ctl.aready_and_wait_for_start()
        worker = asyncio.create_task(
            app.run_worker_async(
                queues=[QUEUE], concurrency=concurrency, install_signal_handlers=False, delete_jobs="never"
            )
        )
        stopper = asyncio.create_task(ctl.await_stop())
        await asyncio.wait({worker, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if worker.done():
            worker.result()  # the worker stopped on its own: surface why
        worker.cancel()  # graceful: running jobs finish first (docs/howto/advanced/shutdown.md)
        with contextlib.suppress(asyncio.CancelledError):
            await worker


class _ProcrastinateMonitor(Monitor):
    def __init__(self, dsn: str) -> None:
        self._conn = psycopg.connect(dsn, autocommit=True)

    def finished(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM procrastinate_jobs WHERE status = 'succeeded'").fetchone()
        return int(row[0]) if row else 0

    def states(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1").fetchall()
        return {str(status): int(count) for status, count in rows}

    def close(self) -> None:
        self._conn.close()


DRIVER = ProcrastinateDriver()
