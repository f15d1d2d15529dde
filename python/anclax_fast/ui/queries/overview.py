"""The Overview page: counts by status, the last hour (throughput per task name, failures per
minute, enqueue → start latency), workers online.

Every statement reads a bounded number of rows, whatever the table holds. Rows a worker changed
recently are not yet all-visible, so even an index-only count visits the table for each of them:
the bound is on rows, not on index entries.

- Live counts (pending, running, waiting for a retry, failed) come from partial indexes and are
  exact up to :data:`EXACT_UP_TO`; above it the page shows the planner's estimate, marked "≈".
  Delayed tasks are counted among the pending ones read (no index orders all pending tasks by
  due time: the claim's is by lane), so that count is exact when the pending one is.
- The last hour, a minute at a time: each minute's finished tasks are counted through
  ``tasks_finished_idx`` (status, finish time; an index-only scan), at most :data:`COUNTED_PER_MINUTE` of them; a
  minute with fewer is exact. A busier minute's total is estimated from the rate of the ones
  counted (``COUNTED_PER_MINUTE * minute length / seconds they span``), marked "≈". The split by
  task name and outcome, and the latency percentiles, come from the first
  :data:`SAMPLED_PER_MINUTE` completed tasks of each minute. Failures per minute are counted the
  same way (the same index: it is by status, then finish time).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from anclax_fast._core import Tx

__all__ = [
    "COUNTED_PER_MINUTE",
    "EXACT_UP_TO",
    "SAMPLED_PER_MINUTE",
    "Count",
    "MinuteCounts",
    "Overview",
    "estimate_rows",
    "load",
]

K = TypeVar("K")

EXACT_UP_TO = 10_000
COUNTED_PER_MINUTE = 1_000
SAMPLED_PER_MINUTE = 50
MINUTES = 60

# Each condition selects through a partial index (same predicate, spelled the same).
_LIVE = {
    # Every running row has a worker: the predicate of tasks_running_idx.
    "running": "status = 'running' AND worker_id IS NOT NULL",
    "retrying": "status = 'pending' AND attempts > 0",
    "failed": "status = 'failed'",
}

_HOUR = """
SELECT generate_series(date_trunc('minute', now()) - interval '59 minutes', date_trunc('minute', now()),
                       interval '1 minute') AS minute
"""
# Per minute: how many finished (up to $1) and the finish time of the last one counted.
_COUNTED = f"""
SELECT m.minute, c.n, c.last
FROM ({_HOUR}) AS m
CROSS JOIN LATERAL (
    SELECT count(*) AS n, max(f.finished_at) AS last FROM (
        SELECT t.finished_at FROM anclax.tasks AS t
        WHERE t.status = 'completed' AND t.finished_at >= m.minute AND t.finished_at < m.minute + interval '1 minute'
        ORDER BY t.finished_at LIMIT $1
    ) AS f
) AS c
"""
_FAILED = _COUNTED.replace("t.status = 'completed'", "t.status = 'failed'")
# The first $1 finished tasks of each minute, by name and outcome; then one row of latency
# percentiles over the completed ones.
_SAMPLE = f"""
WITH sample AS MATERIALIZED (
    SELECT m.minute, s.name, s.status,
           extract(epoch FROM greatest(s.started_at - s.run_at, interval '0'))::float8 AS wait
    FROM ({_HOUR}) AS m
    CROSS JOIN LATERAL (
        SELECT t.name, t.status, t.started_at, t.run_at FROM anclax.tasks AS t
        WHERE t.status = 'completed' AND t.finished_at >= m.minute AND t.finished_at < m.minute + interval '1 minute'
        ORDER BY t.finished_at LIMIT $1
    ) AS s
)
SELECT minute, name, status, count(*) AS n, NULL::float8[] AS p FROM sample GROUP BY minute, name, status
UNION ALL
SELECT NULL, NULL, 'latency', count(*), percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP (ORDER BY wait)
FROM sample WHERE status = 'completed'
"""
# Pending tasks, and how many of them are not due yet, over at most $1 of them.
_PENDING = """
SELECT count(*) AS pending, count(*) FILTER (WHERE run_at > now()) AS delayed
FROM (SELECT run_at FROM anclax.tasks WHERE status = 'pending' LIMIT $1) AS s
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
    """Tasks finished in one minute, by task name and outcome. ``sampled``: the minute's total is
    estimated (more finished than were counted)."""

    minute: datetime
    completed: dict[str, int] = field(default_factory=dict)
    failed: int = 0
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
    """True when some minute held more than COUNTED_PER_MINUTE finished tasks (its total is estimated)."""
    failures_per_minute: list[tuple[datetime, int]]
    failures_estimated: bool
    completed_by_name: dict[str, int]
    latency_sample: int
    latency: tuple[float, float, float] | None
    """Seconds from due to start: p50, p90, p99, over the sampled completions."""
    workers: int
    slots: int
    in_flight: int


def _total(n: int, minute: datetime, last: datetime | None, now: datetime) -> tuple[int, bool]:
    """A minute's total from its count: exact below the cap, else the counted ones' rate over the
    minute (or the part of it that has passed). Returns (total, estimated)."""
    if n < COUNTED_PER_MINUTE or last is None:
        return n, False
    length = min(timedelta(minutes=1), now - minute).total_seconds()
    covered = (last - minute).total_seconds()
    if covered <= 0:
        return n, True
    return max(n, round(n * length / covered)), True


def _split(total: int, shares: dict[K, int]) -> dict[K, int]:
    """``total`` spread over the keys in proportion to their counts in the sample."""
    sampled = sum(shares.values())
    return {key: round(total * n / sampled) for key, n in shares.items()} if sampled else {}


def load(tx: Tx) -> Overview:
    counts = {status: count(tx, condition) for status, condition in _LIVE.items()}
    pending = tx.fetchrow(_PENDING, EXACT_UP_TO + 1)
    assert pending is not None  # an aggregate always returns a row
    if int(pending["pending"]) <= EXACT_UP_TO:
        counts["pending"] = Count(int(pending["pending"]), True)
        counts["delayed"] = Count(int(pending["delayed"]), True)
    else:
        counts["pending"] = Count(max(EXACT_UP_TO + 1, estimate_rows(tx, "t.status = 'pending'")), False)
        counts["delayed"] = Count(estimate_rows(tx, "t.status = 'pending' AND t.run_at > now()"), False)
    workers = tx.fetchrow(_WORKERS)
    assert workers is not None  # an aggregate always returns a row
    now: datetime = workers["now"]
    start = now.replace(second=0, microsecond=0) - timedelta(minutes=MINUTES - 1)
    minutes = {start + timedelta(minutes=i): MinuteCounts(start + timedelta(minutes=i)) for i in range(MINUTES)}
    totals = {
        row["minute"]: _total(int(row["n"]), row["minute"], row["last"], now)
        for row in tx.fetch(_COUNTED, COUNTED_PER_MINUTE)
    }
    samples: dict[datetime, dict[str, int]] = {}
    latency: tuple[float, float, float] | None = None
    sampled = 0
    for row in tx.fetch(_SAMPLE, SAMPLED_PER_MINUTE):
        if row["status"] == "latency":
            sampled = int(row["n"])
            if sampled:
                p50, p90, p99 = (float(v) for v in row["p"])
                latency = (p50, p90, p99)
        else:
            samples.setdefault(row["minute"], {})[row["name"]] = int(row["n"])
    by_name: dict[str, int] = {}
    for minute, bucket in minutes.items():
        total, bucket.sampled = totals.get(minute, (0, False))
        for name, n in _split(total, samples.get(minute, {})).items():
            bucket.completed[name] = n
            by_name[name] = by_name.get(name, 0) + n
    failures_estimated = False
    for row in tx.fetch(_FAILED, COUNTED_PER_MINUTE):
        n, estimated = _total(int(row["n"]), row["minute"], row["last"], now)
        failures_estimated = failures_estimated or estimated
        if row["minute"] in minutes:
            minutes[row["minute"]].failed = n
    return Overview(
        now=now,
        counts=counts,
        minutes=list(minutes.values()),
        estimated=any(m.sampled for m in minutes.values()),
        failures_per_minute=[(m, bucket.failed) for m, bucket in minutes.items()],
        failures_estimated=failures_estimated,
        completed_by_name=dict(sorted(by_name.items(), key=lambda kv: -kv[1])),
        latency_sample=sampled,
        latency=latency,
        workers=int(workers["workers"]),
        slots=int(workers["slots"]),
        in_flight=int(workers["in_flight"]),
    )
