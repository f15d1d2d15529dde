"""The Overview page: counts by status, the last hour (throughput per task name, failures per
minute, enqueue → start latency), workers online.

Every statement reads a bounded number of rows, whatever the table holds. Rows a worker changed
recently are not yet all-visible, so even an index-only count visits the table for each of them:
the bound is on rows, not on index entries.

- Live counts (pending, running, delayed, waiting for a retry, failed) come from partial
  indexes and are exact up to :data:`EXACT_UP_TO`; above it the page shows the planner's
  estimate, marked "≈".
- The last hour is read a minute at a time from ``tasks_finished_idx``: at most
  :data:`PER_MINUTE` finished tasks of each minute, in order. A minute with no more than that is
  exact; in a busier minute the sample covers its first seconds, and the minute's total is the
  sample's rate over the whole minute (``PER_MINUTE * 60 s / seconds sampled``), its split by
  task name the sample's. Failures per minute are sampled the same way from
  ``tasks_unsuccessful_idx``. The page says when a number is estimated.
- Latency percentiles are over the sampled completed tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from anclax_fast._core import Tx

__all__ = ["EXACT_UP_TO", "PER_MINUTE", "Count", "MinuteCounts", "Overview", "estimate_rows", "load"]

EXACT_UP_TO = 10_000
PER_MINUTE = 200
MINUTES = 60

# Each condition selects through a partial index (same predicate, spelled the same).
_LIVE = {
    "pending": "status = 'pending'",
    # Every running row has a worker: the predicate of tasks_running_idx.
    "running": "status = 'running' AND worker_id IS NOT NULL",
    "retrying": "status = 'pending' AND attempts > 0",
    "delayed": "status = 'pending' AND run_at > now()",
    "failed": "status = 'failed'",
}

# The first PER_MINUTE finished tasks of each of the last 60 minutes (the current one included).
_SAMPLE = """
SELECT m.minute, s.name, s.status, s.finished_at,
       extract(epoch FROM greatest(s.started_at - s.run_at, interval '0'))::float8 AS wait
FROM generate_series(date_trunc('minute', now()) - interval '59 minutes', date_trunc('minute', now()),
                     interval '1 minute') AS m(minute)
CROSS JOIN LATERAL (
    SELECT t.name, t.status, t.finished_at, t.started_at, t.run_at FROM anclax.tasks AS t
    WHERE t.finished_at IS NOT NULL AND t.finished_at >= m.minute AND t.finished_at < m.minute + interval '1 minute'
    ORDER BY t.finished_at
    LIMIT $1
) AS s
"""
_FAILED_SAMPLE = """
SELECT m.minute, count(*) AS n, max(s.finished_at) AS last
FROM generate_series(date_trunc('minute', now()) - interval '59 minutes', date_trunc('minute', now()),
                     interval '1 minute') AS m(minute)
CROSS JOIN LATERAL (
    SELECT t.finished_at FROM anclax.tasks AS t
    WHERE t.status = 'failed' AND t.finished_at >= m.minute AND t.finished_at < m.minute + interval '1 minute'
    ORDER BY t.finished_at
    LIMIT $1
) AS s
GROUP BY m.minute
"""
_WORKERS = """
SELECT count(*) AS workers, coalesce(sum(concurrency + async_concurrency), 0)::bigint AS slots,
       coalesce(sum(in_flight), 0)::bigint AS in_flight, now() AS now
FROM anclax.workers WHERE expires_at > now()
"""


@dataclass(frozen=True)
class Count:
    """A count: exact, or the planner's estimate when there were more than EXACT_UP_TO."""

    value: int
    exact: bool


def estimate_rows(tx: Tx, condition: str, *params: Any) -> int:
    """The planner's estimate of the tasks matching ``condition`` (from statistics; no rows read)."""
    plan = tx.fetchval(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM anclax.tasks AS t WHERE {condition}", *params)
    return int(plan[0]["Plan"]["Plan Rows"])


def count(tx: Tx, condition: str) -> Count:
    exact = int(
        tx.fetchval(
            f"SELECT count(*) FROM (SELECT 1 FROM anclax.tasks WHERE {condition} LIMIT $1) AS s", EXACT_UP_TO + 1
        )
    )
    if exact <= EXACT_UP_TO:
        return Count(exact, True)
    return Count(max(EXACT_UP_TO + 1, estimate_rows(tx, condition)), False)


@dataclass
class MinuteCounts:
    """Tasks finished in one minute, by task name and outcome (estimated when ``sampled``)."""

    minute: datetime
    completed: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    cancelled: int = 0
    sampled: bool = False

    @property
    def total_completed(self) -> int:
        return sum(self.completed.values())


@dataclass(frozen=True)
class Overview:
    now: datetime
    counts: dict[str, Count]
    minutes: list[MinuteCounts]
    """The last hour, a minute each, oldest first (the last one is the current, partial minute)."""
    estimated: bool
    """True when some minute held more than PER_MINUTE finished tasks (its numbers are estimates)."""
    failures_per_minute: list[tuple[datetime, int]]
    failures_estimated: bool
    completed_by_name: dict[str, int]
    latency_sample: int
    latency: tuple[float, float, float] | None
    """Seconds from due to start: p50, p90, p99."""
    workers: int
    slots: int
    in_flight: int


def _scale(n: int, minute: datetime, last: datetime, now: datetime) -> float:
    """How much a capped minute's sample stands for: its length over the seconds it covers."""
    length = min(timedelta(minutes=1), now - minute).total_seconds()
    covered = (last - minute).total_seconds()
    return max(1.0, length / covered) if n >= PER_MINUTE and covered > 0 else 1.0


def _percentiles(values: list[float]) -> tuple[float, float, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    pick = [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.5, 0.9, 0.99)]
    return pick[0], pick[1], pick[2]


def load(tx: Tx) -> Overview:
    counts = {status: count(tx, condition) for status, condition in _LIVE.items()}
    workers = tx.fetchrow(_WORKERS)
    assert workers is not None  # an aggregate always returns a row
    now: datetime = workers["now"]
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)
    minutes = {start + timedelta(minutes=i): MinuteCounts(start + timedelta(minutes=i)) for i in range(MINUTES)}
    by_minute: dict[datetime, list[dict[str, Any]]] = {}
    for row in tx.fetch(_SAMPLE, PER_MINUTE):
        by_minute.setdefault(row["minute"], []).append(row)
    waits: list[float] = []
    by_name: dict[str, float] = {}
    for minute, rows in by_minute.items():
        bucket = minutes.get(minute)
        if bucket is None:
            continue
        scale = _scale(len(rows), minute, rows[-1]["finished_at"], now)
        bucket.sampled = scale > 1.0
        for row in rows:
            if row["status"] == "completed":
                bucket.completed[row["name"]] = bucket.completed.get(row["name"], 0) + 1
                waits.append(float(row["wait"]))
            elif row["status"] == "cancelled":
                bucket.cancelled += 1
        bucket.completed = {name: round(n * scale) for name, n in bucket.completed.items()}
        bucket.cancelled = round(bucket.cancelled * scale)
        for name, n in bucket.completed.items():
            by_name[name] = by_name.get(name, 0) + n
    failures: dict[datetime, int] = {}
    failures_estimated = False
    for row in tx.fetch(_FAILED_SAMPLE, PER_MINUTE):
        scale = _scale(int(row["n"]), row["minute"], row["last"], now)
        failures_estimated = failures_estimated or scale > 1.0
        failures[row["minute"]] = round(int(row["n"]) * scale)
    for minute, n in failures.items():
        if minute in minutes:
            minutes[minute].failed = n
    return Overview(
        now=now,
        counts=counts,
        minutes=list(minutes.values()),
        estimated=any(m.sampled for m in minutes.values()),
        failures_per_minute=[(m, failures.get(m, 0)) for m in minutes],
        failures_estimated=failures_estimated,
        completed_by_name={name: round(n) for name, n in sorted(by_name.items(), key=lambda kv: -kv[1])},
        latency_sample=len(waits),
        latency=_percentiles(waits),
        workers=int(workers["workers"]),
        slots=int(workers["slots"]),
        in_flight=int(workers["in_flight"]),
    )
