"""The Failures page: failed tasks of a recent window, and tasks waiting for a retry, grouped by
task name and error fingerprint (``anclax.error_fingerprint``: the error's first line with its
numbers, UUIDs and hex values replaced), with counts, first and last seen, and a sample traceback.

Bounded reads: the groups are those of the :data:`SAMPLE` most recent failures of the window
(``tasks_finished_idx``, newest first) and of the :data:`SAMPLE` tasks due to retry soonest
(``tasks_retrying_idx``). Each failure is on a page of its own in a busy table, and its
fingerprint costs a few microseconds, so the sample bounds the page's time. When the window holds
more than the sample, the page says so, and gives the window's total as the planner's estimate.
Bulk actions on a group apply to every task of the group in the window, not only the sample.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from anclax_fast._core import Tx
from anclax_fast.ui.queries.overview import estimate_rows

__all__ = ["GROUPS_SHOWN", "SAMPLE", "WINDOWS", "Failures", "Group", "load"]

SAMPLE = 2_000
GROUPS_SHOWN = 30
WINDOWS: dict[str, timedelta] = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7)}

_FAILED = f"""
SELECT name, anclax.error_fingerprint(last_error) AS fingerprint, count(*) AS n,
       min(finished_at) AS first_seen, max(finished_at) AS last_seen, max(id) AS sample_id,
       (array_agg(last_error ORDER BY finished_at DESC))[1] AS message
FROM (
    SELECT id, name, last_error, finished_at FROM anclax.tasks
    WHERE status = 'failed' AND finished_at >= $1
    ORDER BY finished_at DESC
    LIMIT {SAMPLE}
) AS recent
GROUP BY 1, 2
"""
_RETRYING = f"""
SELECT name, anclax.error_fingerprint(last_error) AS fingerprint, count(*) AS n, max(id) AS sample_id,
       min(run_at) AS next_retry, (array_agg(last_error ORDER BY id DESC))[1] AS message
FROM (
    SELECT id, name, last_error, run_at FROM anclax.tasks
    WHERE status = 'pending' AND attempts > 0
    ORDER BY run_at
    LIMIT {SAMPLE}
) AS retrying
GROUP BY 1, 2
"""
# The newest event with a traceback of each sample task (events_task_idx).
_SAMPLES = """
SELECT DISTINCT ON (task_id) task_id, traceback
FROM anclax.events
WHERE task_id = ANY($1::bigint[]) AND traceback IS NOT NULL
ORDER BY task_id, id DESC
"""


@dataclass
class Group:
    name: str
    fingerprint: str
    message: str
    """The full last error of the group's most recent task (a sample)."""
    failed: int = 0
    retrying: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    next_retry: datetime | None = None
    sample_id: int = 0
    traceback: str | None = None
    key: str = field(default="")

    @property
    def error_type(self) -> str:
        head, sep, _ = self.fingerprint.partition(":")
        return head if sep else "error"


@dataclass(frozen=True)
class Failures:
    window: str
    since: datetime
    groups: list[Group]
    more_groups: int
    failed_total: int
    failed_sampled: bool
    """True when the window holds more failures than SAMPLE: the total is then an estimate."""
    retrying_total: int
    retrying_sampled: bool


def failed_estimate(tx: Tx, since: datetime) -> int:
    return estimate_rows(tx, "t.status = 'failed' AND t.finished_at >= $1", since)


def retrying_estimate(tx: Tx) -> int:
    return estimate_rows(tx, "t.status = 'pending' AND t.attempts > 0")


def load(tx: Tx, window: str, now: datetime) -> Failures:
    since = now - WINDOWS[window]
    groups: dict[tuple[str, str], Group] = {}
    failed_total = 0
    for row in tx.fetch(_FAILED, since):
        group = groups.setdefault((row["name"], row["fingerprint"]), Group(row["name"], row["fingerprint"], ""))
        group.failed = int(row["n"])
        group.first_seen, group.last_seen = row["first_seen"], row["last_seen"]
        group.sample_id, group.message = int(row["sample_id"]), row["message"] or ""
        failed_total += group.failed
    retrying_total = 0
    for row in tx.fetch(_RETRYING):
        group = groups.setdefault((row["name"], row["fingerprint"]), Group(row["name"], row["fingerprint"], ""))
        group.retrying = int(row["n"])
        group.next_retry = row["next_retry"]
        if not group.sample_id:
            group.sample_id, group.message = int(row["sample_id"]), row["message"] or ""
        retrying_total += group.retrying
    ranked = sorted(groups.values(), key=lambda g: (-(g.failed + g.retrying), g.name, g.fingerprint))
    shown = ranked[:GROUPS_SHOWN]
    tracebacks = {int(row["task_id"]): row["traceback"] for row in tx.fetch(_SAMPLES, [g.sample_id for g in shown])}
    for index, group in enumerate(shown):
        group.traceback = tracebacks.get(group.sample_id)
        group.key = f"g{index}"
    return Failures(
        window=window,
        since=since,
        groups=shown,
        more_groups=len(ranked) - len(shown),
        failed_total=failed_total if failed_total < SAMPLE else max(failed_total, failed_estimate(tx, since)),
        failed_sampled=failed_total >= SAMPLE,
        retrying_total=retrying_total if retrying_total < SAMPLE else max(retrying_total, retrying_estimate(tx)),
        retrying_sampled=retrying_total >= SAMPLE,
    )
