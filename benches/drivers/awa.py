"""awa-pg 0.6.x (Rust core, Python SDK), set up per its configuration and benchmarking notes.

Runs in benches/.venvs/awa; not type-checked in the project venv. A fresh database is switched to
awa's queue-storage engine by the first worker runtime that starts on it (the "fresh installs go
straight to queue storage" path of its README): install() starts and stops one, so every run's copy
of the database is already active and ``enqueue_many_copy`` works before any worker runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

import awa

from benches.drivers import protocol as p
from benches.drivers.kit import Driver, Monitor, Payload, Schedule, Timer, WorkerControl, batches

QUEUE = "bench"
MAX_WORKERS = 1024  # reference sweep on this machine type: 1024 workers, claim batch 512, 2 stripes
CLAIM_BATCH_SIZE = 512
STRIPES = 2
SLEEP_IO_WORKERS = 50
POOL_SIZE = 10  # docs/deployment.md: "one queue, light worker-only process: 10 is a reasonable start"


@dataclasses.dataclass
class Noop:  # awa's job kind is the snake-cased class name: "noop"
    n: int


class AwaDriver(Driver):
    package = "awa-pg"
    settings = {  # noqa: RUF012
        "max_workers": f"{MAX_WORKERS} per process (docs/benchmarking.md offered-rate run: 'max_workers = 1024 "
        "(which selects four queue-storage completion shards)'; reference sweep on this machine type: best)",
        "claim_batch_size": f"{CLAIM_BATCH_SIZE} (docs/configuration.md: the default; "
        "'a larger claim batch usually helps')",
        "queue_storage_queue_stripe_count": f"{STRIPES} on workers and enqueue_many_copy (docs/benchmarking.md "
        "'Queue-storage striping reference': the clearest gain was 1 -> 2; README: pass the same value to "
        "enqueue_many_copy)",
        "pool": f"max_connections={POOL_SIZE} (docs/deployment.md 'Connection Pool Sizing')",
        "bulk enqueue": "AsyncClient.enqueue_many_copy (COPY into queue storage; README 'COPY ingestion')",
        "single enqueue": "AsyncClient.insert",
        "sleep_io": f"max_workers={SLEEP_IO_WORKERS}, async handler (asyncio.sleep)",
        "steady, steady_half": "1 stripe: AsyncClient.insert puts single jobs in the unstriped queue, which "
        "striped workers did not claim here (0 of 500 jobs ran in 30 s)",
        "storage": "queue storage (0.6 default engine), activated at install by a first runtime start",
    }
    docs = (
        "https://github.com/hardbyte/awa/blob/main/docs/configuration.md",
        "https://github.com/hardbyte/awa/blob/main/docs/benchmarking.md",
        "https://github.com/hardbyte/awa/blob/main/docs/deployment.md#connection-pool-sizing",
        "https://github.com/hardbyte/awa/blob/main/awa-python/README.md",
    )

    def install(self, dsn: str) -> None:
        async def install() -> None:
            client = awa.AsyncClient(dsn, max_connections=POOL_SIZE)
            await client.migrate()

            @client.task(Noop, queue=QUEUE)
            async def noop(job: Any) -> None:
                raise AssertionError("no job should exist at install time")

            await client.start(_queue_config(MAX_WORKERS), queue_storage_queue_stripe_count=STRIPES)
            await client.shutdown()
            await client.close()

        asyncio.run(install())

    def enqueue_single(self, dsn: str, payloads: list[Payload], timer: Timer) -> None:
        async def enqueue() -> None:
            client = awa.AsyncClient(dsn, max_connections=POOL_SIZE)
            try:
                timer.start()
                for payload in payloads:
                    await client.insert(Noop(**payload), queue=QUEUE)
                timer.stop()
            finally:
                await client.close()

        asyncio.run(enqueue())

    def enqueue_bulk(self, dsn: str, payloads: list[Payload], batch_size: int, timer: Timer) -> None:
        async def enqueue() -> None:
            client = awa.AsyncClient(dsn, max_connections=POOL_SIZE)
            try:
                timer.start()
                for batch in batches(payloads, batch_size):
                    await client.enqueue_many_copy(
                        [Noop(**payload) for payload in batch], queue=QUEUE, queue_storage_queue_stripe_count=STRIPES
                    )
                timer.stop()
            finally:
                await client.close()

        asyncio.run(enqueue())

    def produce_paced(self, dsn: str, schedule: Schedule) -> list[float]:
        async def produce() -> list[float]:
            committed: list[float] = []
            client = awa.AsyncClient(dsn, max_connections=POOL_SIZE)
            try:
                async for payload in schedule:
                    await client.insert(Noop(**payload), queue=QUEUE)
                    committed.append(time.time())
            finally:
                await client.close()
            return committed

        return asyncio.run(produce())

    def work(self, dsn: str, ctl: WorkerControl) -> None:
        asyncio.run(_work(dsn, ctl))

    def open_monitor(self, dsn: str) -> Monitor:
        return _AwaMonitor(dsn)


def _queue_config(max_workers: int) -> list[dict[str, Any]]:
    return [{"name": QUEUE, "max_workers": max_workers, "claim_batch_size": CLAIM_BATCH_SIZE}]


async def _work(dsn: str, ctl: WorkerControl) -> None:
    if ctl.options.scenario == p.SLEEP_IO:
        max_workers = ctl.options.concurrency or SLEEP_IO_WORKERS
    else:
        max_workers = ctl.options.concurrency or MAX_WORKERS
    sleep_s = ctl.options.sleep_s
    client = awa.AsyncClient(dsn, max_connections=POOL_SIZE)

    @client.task(Noop, queue=QUEUE)
    async def noop(job: Any) -> None:
        ctl.job_started(job.args.n)
        if sleep_s > 0:
            await asyncio.sleep(sleep_s)

    # Single inserts (AsyncClient.insert) land in the unstriped queue, which striped workers do not
    # claim: the steady-state producer uses insert, so its worker runs one stripe.
    stripes = 1 if ctl.options.scenario in (p.STEADY, p.STEADY_HALF) else STRIPES
    await ctl.aready_and_wait_for_start()
    await client.start(_queue_config(max_workers), queue_storage_queue_stripe_count=stripes)
    await ctl.await_stop()
    await client.shutdown(timeout_ms=10_000)
    await client.close()


class _AwaMonitor(Monitor):
    """Counts awa's queue-storage tables directly, through awa's own pool.

    The documented read surfaces do not fit: the ``awa.jobs`` view and ``AsyncClient.queue_stats``
    take tens of seconds for 10k jobs here (68 s for ``SELECT state, count(*) FROM awa.jobs`` on an
    idle database), and once awa's maintenance prunes finished segments (within seconds) their jobs
    leave ``awa.jobs`` altogether. So, as awa's own exact terminal counts do (docs/adr/026), completed =
    compact receipts (``receipt_completion_batches.completed_count``) + completed ``done_entries`` +
    the counts already folded into ``queue_terminal_rollups`` by pruning. Enqueued-but-not-finished is
    only known before anything is pruned (``ready_entries`` minus completions); after pruning the
    exactly-once check rests on completed == N plus the workers' own counts. With stripes, queue
    "bench" lives in physical queues "bench#0", "bench#1".
    """

    def __init__(self, dsn: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = awa.AsyncClient(dsn, max_connections=1)

    def _fetch_one(self, sql: str) -> dict[str, Any]:
        async def fetch() -> dict[str, Any]:
            tx = await self._client.transaction()
            try:
                return dict(await tx.fetch_one(sql))
            finally:
                await tx.rollback()

        return self._loop.run_until_complete(fetch())

    def _counts(self) -> dict[str, int]:
        row = self._fetch_one(f"""
            SELECT
                (SELECT count(*) FROM awa.ready_entries WHERE {_OUR_QUEUES})::bigint AS ready,
                (SELECT coalesce(sum(completed_count), 0)
                 FROM awa.receipt_completion_batches WHERE {_OUR_QUEUES})::bigint AS receipts,
                (SELECT count(*) FROM awa.done_entries WHERE {_OUR_QUEUES} AND state = 'completed')::bigint AS done,
                (SELECT coalesce(sum(pruned_completed_count), 0)
                 FROM awa.queue_terminal_rollups WHERE {_OUR_QUEUES})::bigint AS pruned
        """)
        return {key: int(value) for key, value in row.items()}

    def finished(self) -> int:
        counts = self._counts()
        return counts["receipts"] + counts["done"] + counts["pruned"]

    def states(self) -> dict[str, int]:
        counts = self._counts()
        live_completed = counts["receipts"] + counts["done"]
        states = {"completed": live_completed + counts["pruned"]}
        if counts["pruned"] == 0:
            states["not completed"] = counts["ready"] - live_completed
        return states

    def close(self) -> None:
        self._loop.run_until_complete(self._client.close())
        self._loop.close()


_OUR_QUEUES = f"split_part(queue, '#', 1) = '{QUEUE}'"


DRIVER = AwaDriver()
