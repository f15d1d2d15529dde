"""Everything the checker looks at, put next to the queue's own tables: the ledger of acknowledged
enqueues, the workers' execution logs, when each worker process was up or frozen, and when
Postgres was down. The checks are then plain SQL over one database (``invariants``), which keeps
them exact and fast for a million tasks.

Also here: the lease probe, which watches during the run for tasks left ``running`` under an
expired (or missing) lease for longer than the rescuer should ever need.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg

from tests.chaos.faults import FaultLog
from tests.chaos.fleet import WorkerProcess
from tests.chaos.tasks import EXPECTED_STATUS, HOOK_RAISES, HOOK_WRITES
from tests.chaos.workload import Ledger

SCHEMA_SQL = """
CREATE SCHEMA IF NOT EXISTS chaos;
-- Written by the failure hooks, through the failing transaction. No unique constraint on purpose:
-- a hook whose writes committed twice must show up as two rows, not as a hook error.
CREATE TABLE IF NOT EXISTS chaos.audit (
    task_id bigint NOT NULL,
    attempt integer NOT NULL,
    pid integer NOT NULL,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
);
"""

_OBSERVATION_SQL = """
DROP TABLE IF EXISTS chaos.expected, chaos.acked, chaos.tag_acks, chaos.runs, chaos.uptime, chaos.frozen,
    chaos.outages, chaos.run_info;
CREATE TABLE chaos.expected (name text PRIMARY KEY, status text NOT NULL, hook text NOT NULL);
CREATE TABLE chaos.acked (task_id bigint NOT NULL, name text NOT NULL);
CREATE TABLE chaos.tag_acks (tag text NOT NULL, task_id bigint NOT NULL);
-- S: started, K: returned successfully, H: failure hook called (see tests/chaos/tasks.py).
CREATE TABLE chaos.runs (kind text NOT NULL, task_id bigint NOT NULL, attempt integer NOT NULL, pid integer NOT NULL,
                         at_ns bigint NOT NULL);
CREATE TABLE chaos.uptime (slot integer, incarnation integer, worker_id bigint, pid integer,
                           up_from timestamptz NOT NULL, up_to timestamptz NOT NULL);
CREATE TABLE chaos.frozen (incarnation integer, frozen_from timestamptz NOT NULL, frozen_to timestamptz NOT NULL);
CREATE TABLE chaos.outages (down_from timestamptz NOT NULL, down_to timestamptz NOT NULL);
-- When the harness began stopping the fleet (after the drain): a cron fire that came due about
-- then may be left pending by workers that had stopped claiming.
CREATE TABLE chaos.run_info (fleet_stopping_at timestamptz NOT NULL);
INSERT INTO chaos.run_info VALUES ('infinity');
"""

_INDEXES_SQL = """
CREATE INDEX ON chaos.acked (task_id);
CREATE INDEX ON chaos.runs (task_id, attempt);
CREATE INDEX ON chaos.audit (task_id);
ANALYZE chaos.acked; ANALYZE chaos.runs; ANALYZE chaos.audit; ANALYZE anclax.tasks; ANALYZE anclax.events;
"""


def prepare_database(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(SCHEMA_SQL)


def _ts(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _hook_of(name: str) -> str:
    return "writes" if name in HOOK_WRITES else "raises" if name in HOOK_RAISES else "none"


def create_observation_tables(conn: psycopg.Connection[Any]) -> None:
    """(Re)create the observation tables, empty but for the expected outcome of each task name."""
    conn.execute(_OBSERVATION_SQL)
    with conn.cursor() as cur, cur.copy("COPY chaos.expected (name, status, hook) FROM STDIN") as copy:
        for name, status in EXPECTED_STATUS.items():
            copy.write_row((name, status, _hook_of(name)))


def index_observations(conn: psycopg.Connection[Any]) -> None:
    conn.execute(_INDEXES_SQL)


def load_observations(
    dsn: str, *, ledger: Ledger, history: Iterable[WorkerProcess], faults: FaultLog, stopping_at: float, ended_at: float
) -> None:
    """Copy the run's observations into the `chaos` schema (replacing any earlier ones)."""
    workers = list(history)
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_observation_tables(conn)
        with conn.cursor() as cur:
            with ledger.lock:
                acked = list(ledger.acked)
                tags = list(ledger.tag_acks)
            with cur.copy("COPY chaos.acked (task_id, name) FROM STDIN") as copy:
                for row in acked:
                    copy.write_row(row)
            with cur.copy("COPY chaos.tag_acks (tag, task_id) FROM STDIN") as copy:
                for tag_row in tags:
                    copy.write_row(tag_row)
            with cur.copy("COPY chaos.runs (kind, task_id, attempt, pid, at_ns) FROM STDIN") as copy:
                for worker in workers:
                    _copy_run_log(copy, worker.run_log)
            with cur.copy("COPY chaos.uptime (slot, incarnation, worker_id, pid, up_from, up_to) FROM STDIN") as copy:
                for w in workers:
                    if w.ready_at is not None:
                        up_to = w.ended_at if w.ended_at is not None else ended_at
                        copy.write_row((w.slot, w.incarnation, w.worker_id, w.proc.pid, _ts(w.ready_at), _ts(up_to)))
            with cur.copy("COPY chaos.frozen (incarnation, frozen_from, frozen_to) FROM STDIN") as copy:
                for w in workers:
                    for start, end in w.frozen:
                        copy.write_row((w.incarnation, _ts(start), _ts(end)))
            with cur.copy("COPY chaos.outages (down_from, down_to) FROM STDIN") as copy:
                for start, end in faults.outages:
                    copy.write_row((_ts(start), _ts(end)))
        conn.execute("UPDATE chaos.run_info SET fleet_stopping_at = %s", (_ts(stopping_at),))
        index_observations(conn)


def _copy_run_log(copy: psycopg.Copy, path: Path) -> None:
    """Stream a log file into COPY's text format; a torn last line (a kill mid-write cannot tear
    a single write(2), but be safe) is dropped."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    complete = data[: data.rfind(b"\n") + 1]
    copy.write(complete.replace(b" ", b"\t"))


@dataclass
class StaleLease:
    task_id: int
    worker_id: int | None
    # How long the task had been running under an expired or missing lease when last seen.
    seconds: float


class LeaseProbe(threading.Thread):
    """Samples, every second, the tasks running under a lease that expired (or a worker row that
    is gone), and keeps the longest time each was seen in that state."""

    def __init__(self, dsn: str, stop: threading.Event) -> None:
        super().__init__(name="lease-probe", daemon=True)
        self._dsn = dsn
        self._stop_requested = stop
        self.stale: dict[int, StaleLease] = {}
        self.samples = 0
        self.failed_samples = 0

    def run(self) -> None:
        while not self._stop_requested.wait(1.0):
            try:
                self._sample()
                self.samples += 1
            except psycopg.Error:
                self.failed_samples += 1  # Postgres restarting: nothing to see

    def _sample(self) -> None:
        with psycopg.connect(self._dsn, autocommit=True, connect_timeout=3) as conn:
            rows = conn.execute(
                """
                SELECT t.id, t.worker_id,
                       extract(epoch FROM now() - coalesce(w.expires_at, t.started_at))::float8
                FROM anclax.tasks AS t LEFT JOIN anclax.workers AS w ON w.id = t.worker_id
                WHERE t.status = 'running' AND (w.id IS NULL OR w.expires_at < now())
                """
            ).fetchall()
        for task_id, worker_id, seconds in rows:
            seen = self.stale.get(task_id)
            if seen is None or seconds > seen.seconds:
                self.stale[task_id] = StaleLease(task_id, worker_id, seconds)

    def worst(self) -> StaleLease | None:
        return max(self.stale.values(), key=lambda s: s.seconds, default=None)


def wait_for_drain(dsn: str, timeout: float) -> tuple[bool, float]:
    """Wait until no task is pending or running, except each cron schedule's next fire (not yet
    due, or due for less than a few seconds). Returns (drained, seconds waited)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
                row = conn.execute(
                    """
                    SELECT count(*) FROM anclax.tasks AS t
                    WHERE t.status IN ('pending', 'running')
                      AND NOT (t.schedule_id IS NOT NULL AND t.fire_at > now() - interval '5 seconds')
                    """
                ).fetchone()
            if row is not None and row[0] == 0:
                return True, time.monotonic() - started
        except psycopg.Error:
            pass
        time.sleep(0.5)
    return False, time.monotonic() - started
