"""The raw-SQL ceiling: the least a Postgres queue can do per job, from Python with psycopg 3.

No framework: one table, COPY to enqueue in bulk, and one statement per round trip that marks the
previous batch done and claims the next 500 with ``FOR UPDATE SKIP LOCKED``. The claim uses
``id = ANY(ARRAY(SELECT ...))`` so the sub-select runs once whatever the statistics say (the planner
trap in shared/reference/postgres-queue-notes.md: ``id IN (SELECT ...)`` can re-run it per row once
an ANALYZE has seen the queue empty, and every run here starts on a freshly copied, empty database).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time

import psycopg

from benches.drivers.kit import Driver, Monitor, Payload, Schedule, Timer, WorkerControl, batches

CLAIM_BATCH = 500
POLL_S = 0.002  # no LISTEN/NOTIFY: an idle worker asks again after this long

SCHEMA = """
CREATE TABLE ceiling_jobs (
    id bigserial PRIMARY KEY,
    payload jsonb NOT NULL,
    status text NOT NULL DEFAULT 'pending',  -- pending | running | done
    attempts integer NOT NULL DEFAULT 0      -- > 1 would mean a job was claimed twice
);
CREATE INDEX ceiling_jobs_pending ON ceiling_jobs (id) WHERE status = 'pending';
"""

INSERT_ONE = "INSERT INTO ceiling_jobs (payload) VALUES (%s::jsonb)"
COPY_MANY = "COPY ceiling_jobs (payload) FROM STDIN"

# One round trip per batch: finish what was claimed last time, claim the next ones.
COMPLETE_AND_CLAIM = """
WITH done AS (
    UPDATE ceiling_jobs SET status = 'done' WHERE id = ANY(%(done)s::bigint[])
)
UPDATE ceiling_jobs SET status = 'running', attempts = attempts + 1
WHERE id = ANY(ARRAY(
    SELECT id FROM ceiling_jobs WHERE status = 'pending'
    ORDER BY id LIMIT %(limit)s FOR UPDATE SKIP LOCKED
))
RETURNING id, payload
"""


class CeilingDriver(Driver):
    package = "psycopg"
    extra_packages = ("psycopg-binary",)
    settings = {  # noqa: RUF012
        "claim": f"{CLAIM_BATCH} jobs per statement, FOR UPDATE SKIP LOCKED, id = ANY(ARRAY(...)) form",
        "completion": (
            "previous batch marked done in the statement that claims the next (one round trip);"
            " no-op jobs: two such loops per process, so one statement is always in flight"
        ),
        "bulk enqueue": "COPY, one transaction per batch",
        "single enqueue": "INSERT per autocommit transaction (psycopg prepares it after 5 uses)",
        "wake-up": f"polling every {POLL_S * 1000:.0f} ms when idle (no LISTEN/NOTIFY, no trigger)",
        "sleeping jobs": "asyncio tasks, claim up to the free slots",
        "connection": "psycopg 3, async, autocommit: two per worker process for no-op jobs, one for sleeping jobs",
    }
    docs = ("shared/reference/postgres-queue-notes.md (the reference's minimal cycle and the planner trap)",)

    def install(self, dsn: str) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SCHEMA)

    def enqueue_single(self, dsn: str, payloads: list[Payload], timer: Timer) -> None:
        with psycopg.connect(dsn, autocommit=True) as conn:
            timer.start()
            for payload in payloads:
                conn.execute(INSERT_ONE, (json.dumps(payload),))
            timer.stop()

    def enqueue_bulk(self, dsn: str, payloads: list[Payload], batch_size: int, timer: Timer) -> None:
        with psycopg.connect(dsn) as conn:
            timer.start()
            for batch in batches(payloads, batch_size):
                with conn.cursor().copy(COPY_MANY) as copy:
                    for payload in batch:
                        copy.write_row((json.dumps(payload),))
                conn.commit()
            timer.stop()

    def produce_paced(self, dsn: str, schedule: Schedule) -> list[float]:
        committed: list[float] = []
        with psycopg.connect(dsn, autocommit=True) as conn:
            for payload in schedule:
                conn.execute(INSERT_ONE, (json.dumps(payload),))
                committed.append(time.time())
        return committed

    def work(self, dsn: str, ctl: WorkerControl) -> None:
        asyncio.run(_work(dsn, ctl))

    def open_monitor(self, dsn: str) -> Monitor:
        return _CeilingMonitor(dsn)


class _CeilingMonitor(Monitor):
    def __init__(self, dsn: str) -> None:
        self._conn = psycopg.connect(dsn, autocommit=True)

    def finished(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM ceiling_jobs WHERE status = 'done'").fetchone()
        return int(row[0]) if row else 0

    def states(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT status, count(*) FROM ceiling_jobs GROUP BY status").fetchall()
        states = {str(status): int(count) for status, count in rows}
        reclaimed = self._conn.execute("SELECT count(*) FROM ceiling_jobs WHERE attempts > 1").fetchone()
        if reclaimed and reclaimed[0]:
            states["claimed more than once"] = int(reclaimed[0])  # not a state: makes the check fail loudly
        return states

    def close(self) -> None:
        self._conn.close()


async def _connect(dsn: str) -> psycopg.AsyncConnection[tuple[int, dict[str, int]]]:
    return await psycopg.AsyncConnection.connect(dsn, autocommit=True)


async def _work(dsn: str, ctl: WorkerControl) -> None:
    async with await _connect(dsn) as conn:
        if ctl.options.sleep_s > 0:
            await ctl.aready_and_wait_for_start()
            await _work_with_tasks(conn, ctl, ctl.options.concurrency or CLAIM_BATCH)
            return
        async with await _connect(dsn) as second:
            await ctl.aready_and_wait_for_start()
            await _work_inline(conn, second, ctl)


async def _complete_and_claim(
    conn: psycopg.AsyncConnection[tuple[int, dict[str, int]]], done: list[int], limit: int
) -> list[tuple[int, dict[str, int]]]:
    cur = await conn.execute(COMPLETE_AND_CLAIM, {"done": done, "limit": limit})
    return await cur.fetchall()


async def _work_inline(
    first: psycopg.AsyncConnection[tuple[int, dict[str, int]]],
    second: psycopg.AsyncConnection[tuple[int, dict[str, int]]],
    ctl: WorkerControl,
) -> None:
    """No-op jobs run in the claim loop itself: claim 500, run them, finish them with the next claim.

    Two such loops per process, each on its own connection, so one statement is always executing
    on the server while Python reads the other's rows: the client's work per batch overlaps the
    server's instead of following it (a pipeline two statements deep)."""
    await asyncio.gather(_inline_loop(first, ctl), _inline_loop(second, ctl))


async def _inline_loop(conn: psycopg.AsyncConnection[tuple[int, dict[str, int]]], ctl: WorkerControl) -> None:
    done: list[int] = []
    while True:
        stopping = ctl.stop_requested
        rows = await _complete_and_claim(conn, done, 0 if stopping else CLAIM_BATCH)
        done = [job_id for job_id, _ in rows]
        ctl.jobs_started([payload["n"] for _, payload in rows])
        if stopping:
            return
        if not rows:
            await asyncio.sleep(POLL_S)


async def _work_with_tasks(
    conn: psycopg.AsyncConnection[tuple[int, dict[str, int]]], ctl: WorkerControl, concurrency: int
) -> None:
    """Sleeping jobs run as asyncio tasks. Up to `concurrency` more jobs are claimed ahead into a local
    buffer, so a slot that frees up starts its next job at once; each round trip finishes the ended
    jobs and tops the buffer up."""
    finished: list[int] = []
    buffered: collections.deque[tuple[int, int]] = collections.deque()
    wake = asyncio.Event()
    tasks: set[asyncio.Task[None]] = set()  # strong references, so running tasks are not collected
    in_flight = 0  # counted by the jobs themselves: task done-callbacks run too late for this

    async def run(job_id: int, n: int) -> None:
        nonlocal in_flight
        try:
            ctl.job_started(n)
            await asyncio.sleep(ctl.options.sleep_s)
            finished.append(job_id)
        finally:
            in_flight -= 1
            start_buffered()  # refill the slot now, not after the claim loop's next round trip
            wake.set()

    def start_buffered() -> None:
        nonlocal in_flight
        while buffered and in_flight < concurrency:
            in_flight += 1
            task = asyncio.create_task(run(*buffered.popleft()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    while True:
        start_buffered()
        stopping = ctl.stop_requested
        want = 0 if stopping else min(CLAIM_BATCH, 2 * concurrency - in_flight - len(buffered))
        done, finished = finished, []
        rows = await _complete_and_claim(conn, done, want) if (done or want > 0) else []
        buffered.extend((job_id, payload["n"]) for job_id, payload in rows)
        start_buffered()
        if stopping and not in_flight and not finished and not buffered:
            return
        if not rows and not finished:
            wake.clear()
            # Jobs in flight are bound to end and set `wake`; with none, poll the queue.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL_S if in_flight == 0 else None)


DRIVER = CeilingDriver()
