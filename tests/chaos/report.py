"""The report of a chaos run, in Markdown (also readable as plain text on a terminal)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from tests.chaos.config import ChaosConfig
from tests.chaos.faults import FaultLog
from tests.chaos.invariants import CheckResult
from tests.chaos.plan import Fault, FaultKind
from tests.chaos.workload import Ledger


@dataclass
class RunStats:
    """Numbers gathered after the run, for the report."""

    wall_seconds: float = 0.0
    drain_seconds: float = 0.0
    drained: bool = False
    by_status: list[tuple[str, str, int, int]] = field(default_factory=list[tuple[str, str, int, int]])
    events: list[tuple[str, str, int]] = field(default_factory=list[tuple[str, str, int]])
    totals: dict[str, int] = field(default_factory=dict[str, int])
    worst_stale_lease: float = 0.0
    worker_incarnations: int = 0


_STATUS_SQL = """
SELECT name, status, count(*)::int, count(*) FILTER (WHERE attempts > 1)::int
FROM anclax.tasks GROUP BY name, status ORDER BY name, status
"""
_EVENTS_SQL = """
SELECT kind,
       CASE WHEN message LIKE 'lease expired%' THEN 'lease expired'
            WHEN message LIKE 'lease lost%' THEN 'lease lost (worker row gone)'
            WHEN message LIKE 'rescued:%' THEN 'rescued past deadline'
            WHEN message LIKE 'released:%' THEN 'released at graceful stop'
            WHEN message LIKE 'TaskTimeout%' THEN 'timeout'
            WHEN message LIKE 'the worker running the final attempt%' THEN 'failed unrun (final attempt lost)'
            WHEN kind = 'TaskError' THEN 'raised by the task'
            ELSE 'other' END AS cause,
       count(*)::int
FROM anclax.events GROUP BY 1, 2 ORDER BY 1, 2
"""
_TOTALS_SQL = """
SELECT
  (SELECT count(*) FROM anclax.tasks)::int AS "task rows",
  (SELECT count(DISTINCT task_id) FROM chaos.acked)::int AS "acknowledged tasks",
  (SELECT count(*) FROM anclax.tasks t WHERE t.schedule_id IS NULL
      AND NOT EXISTS (SELECT 1 FROM chaos.acked a WHERE a.task_id = t.id))::int AS "rows from unacknowledged enqueues",
  (SELECT count(*) FROM anclax.tasks WHERE name = 'Beat')::int AS "cron fire rows",
  (SELECT count(*) FROM chaos.runs WHERE kind = 'S')::int AS "executions started",
  (SELECT count(*) FROM chaos.runs WHERE kind = 'K')::int AS "executions returned successfully",
  (SELECT count(*) FROM chaos.runs r JOIN anclax.tasks t ON t.id = r.task_id
      WHERE r.kind = 'K' AND NOT (t.status = 'completed' AND r.attempt = t.attempts))::int
      AS "successful executions discarded (lease lost / timed out)",
  (SELECT count(*) FROM anclax.tasks WHERE attempts > 1)::int AS "tasks with more than one attempt",
  (SELECT count(*) FROM chaos.runs WHERE kind = 'H')::int AS "failure hook calls",
  (SELECT count(*) FROM chaos.audit)::int AS "committed hook audit rows"
"""


def gather_stats(dsn: str, stats: RunStats) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        stats.by_status = [(str(a), str(b), int(c), int(d)) for a, b, c, d in conn.execute(_STATUS_SQL).fetchall()]
        stats.events = [(str(a), str(b), int(c)) for a, b, c in conn.execute(_EVENTS_SQL).fetchall()]
        cur = conn.execute(_TOTALS_SQL)
        row = cur.fetchone()
        names = [column.name for column in cur.description or []]
        stats.totals = dict(zip(names, (int(v) for v in row or ()), strict=True))


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def render(
    config: ChaosConfig,
    *,
    plan: tuple[Fault, ...],
    faults: FaultLog,
    ledger: Ledger,
    stats: RunStats,
    results: list[CheckResult],
    directory: str,
) -> str:
    failed = [r for r in results if not r.passed]
    verdict = "PASSED: every invariant held" if not failed else f"FAILED: {len(failed)} invariant(s) violated"
    out = [
        "# anclax-fast chaos run",
        "",
        f"**{verdict}.**",
        "",
        f"- seed: `{config.seed}` (the same fault schedule again: `{config.command} --seed {config.seed}`)",
        f"- fleet: {config.workers} worker processes x {config.concurrency} threads, lease TTL {config.lease_ttl:g}s, "
        f"{stats.worker_incarnations} worker processes started in all",
        f"- faults and producers ran {config.duration:g}s; drain {'took' if stats.drained else 'gave up after'} "
        f"{stats.drain_seconds:.1f}s; wall time {stats.wall_seconds:.0f}s",
        "- Postgres: embedded, fsync and synchronous_commit on (nothing acknowledged may be lost to a crash)",
        f"- logs: `{directory}`",
        "",
        "## Invariants",
        "",
    ]
    out += _table(
        ["check", "result", "rule"],
        [[r.name, "ok" if r.passed else f"**{r.count} violation(s)**", r.rule] for r in results],
    )
    for result in failed:
        out += ["", f"### {result.name}: {result.count} violation(s)", "", result.rule, ""]
        out += [f"- `{ident}`: {detail}" for ident, detail in result.samples]
        if result.count > len(result.samples):
            out.append(f"- ... and {result.count - len(result.samples)} more")
    out += ["", "## Faults", ""]
    planned = {kind: sum(1 for f in plan if f.kind is kind) for kind in FaultKind}
    out += _table(
        ["fault", "planned", "carried out"],
        [[kind.value, planned[kind], faults.executed(kind)] for kind in FaultKind if planned[kind]],
    )
    out += ["", "<details><summary>Fault log (planned time, actual time, outcome)</summary>", "", "```"]
    out += [f"{r.fault.describe()}  @{r.started:8.2f}s  {r.outcome}" for r in faults.records]
    out += ["```", "", "</details>", "", "## Workload", ""]
    acked = ledger.by_name()
    out += [
        f"- enqueue calls: {ledger.calls}, of which {ledger.failed_calls} raised and were retried "
        f"({ledger.unacknowledged} tasks in calls that raised)",
    ]
    out += [f"- `{message}`: {count}" for message, count in ledger.errors.most_common(5)]
    out += ["", *_table(["task", "acknowledged"], [[name, count] for name, count in sorted(acked.items())])]
    out += ["", "## Outcomes", ""]
    out += _table(["task", "status", "rows", "with >1 attempt"], [list(row) for row in stats.by_status])
    out += [""]
    out += _table(["event", "cause", "count"], [list(row) for row in stats.events])
    out += [""]
    out += [f"- {name}: {value}" for name, value in stats.totals.items()]
    out += [f"- longest time a task was seen running under an expired lease: {stats.worst_stale_lease:.1f}s"]
    return "\n".join(out) + "\n"
