"""The claim loop's statements, as the server plans and runs them.

1. Under statistics that say the queue is empty and under ones that say it is large
   (shared/reference/postgres-queue-notes.md, "A planner trap"), custom and generic plans: each
   locking sub-select runs once per statement (an InitPlan), never once per row, and walks
   ``tasks_lane_idx`` lane by lane, with no scan or sort of the backlog.
2. Every statement the claim loop issues reads a bounded number of buffers whatever else the
   table holds: 200,000 pending tasks the worker cannot take (labels it lacks, names it does not
   serve, tasks delayed at a higher priority) next to the ones it can, with fresh and with stale
   statistics. Version 1's claim read every one of those rows' index entries and heap tuples.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from typing_extensions import LiteralString

from anclax_fast import Client
from tests.support import Params, Runner

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
SQL_DIR = REPO / "rust" / "src" / "db" / "sql"


def _statement(name: str) -> LiteralString:
    # The engine's own statements, from the repository (trusted text, hence LiteralString).
    return (SQL_DIR / name).read_text()  # pyright: ignore[reportReturnType]


CLAIM_SQL = _statement("claim.sql")
LANES_SQL = _statement("lanes.sql")
# What the claim loop's own connection sets (rust/src/db/dedicated.rs).
SESSION_SETTINGS = ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_hashjoin")
# The most buffers (8 kB pages, hit or read) one claim-loop statement may touch to find its rows
# here, whatever the backlog; a claim then also writes each row it takes (its heap page, a new
# entry in the primary key and in the running index: about a dozen buffers per row).
BUFFER_BOUND = 200
WRITE_BUFFERS_PER_CLAIMED_ROW = 20


@contextmanager
def _claim_session(dsn: str) -> Generator[tuple[psycopg.Connection[Any], int]]:
    """A connection set up like the claim loop's, and a live worker row to claim for."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for setting in SESSION_SETTINGS:
            conn.execute(f"SET {setting} = off")
        row = conn.execute(
            "INSERT INTO anclax.workers (hostname, pid, labels, concurrency, version, expires_at) "
            "VALUES ('plan-test', 1, '{}', 1, 'test', now() + interval '1 hour') RETURNING id"
        ).fetchone()
        assert row is not None
        try:
            yield conn, int(row[0])
        finally:
            conn.execute("DELETE FROM anclax.workers WHERE hostname = 'plan-test'")


def _lanes(conn: psycopg.Connection[Any], name: str, labels: list[str]) -> list[int]:
    """The lanes a worker with ``labels`` serving ``name`` claims from, highest priority first."""
    rows = conn.execute(
        "SELECT id FROM anclax.lanes WHERE name = %s AND labels <@ %s::text[] ORDER BY priority DESC, id",
        (name, labels),
    ).fetchall()
    return [int(r[0]) for r in rows]


def _explain(
    conn: psycopg.Connection[Any], statement: LiteralString, params: Sequence[object], *, analyze: bool
) -> dict[str, Any]:
    """The statement's plan (run and rolled back when ``analyze``) under the session's plan mode."""
    options: LiteralString = "ANALYZE, BUFFERS, FORMAT JSON" if analyze else "FORMAT JSON"
    arguments = sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Literal, params))) if params else sql.SQL("")
    conn.execute("DEALLOCATE ALL")
    conn.execute("PREPARE stmt AS " + statement)
    with conn.transaction(force_rollback=True):
        row = conn.execute(sql.SQL("EXPLAIN (" + options + ") EXECUTE stmt{}").format(arguments)).fetchone()
    assert row is not None
    plan: dict[str, Any] = row[0][0]["Plan"]
    return plan


def _buffers(plan: dict[str, Any]) -> int:
    # A node's buffer counts include its children's (InitPlans included); planning is not counted.
    return int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))


def _search_buffers(plan: dict[str, Any]) -> int:
    """The buffers of the sub-selects that find the rows to claim (the InitPlans of the UPDATE)."""
    (update,) = [path[-1] for path in _paths_to(plan, "ModifyTable")]
    return sum(_buffers(child) for child in update.get("Plans", []) if child.get("Parent Relationship") == "InitPlan")


def _paths_to(
    plan: dict[str, Any], node_type: str, path: tuple[dict[str, Any], ...] = ()
) -> list[tuple[dict[str, Any], ...]]:
    """Every root-to-node path ending at a node of `node_type`."""
    here = (*path, plan)
    found: list[tuple[dict[str, Any], ...]] = [here] if plan["Node Type"] == node_type else []
    for child in plan.get("Plans", []):
        found.extend(_paths_to(child, node_type, here))
    return found


def _check_shape(plan: dict[str, Any]) -> None:
    shown = json.dumps(plan, indent=1)
    locks = _paths_to(plan, "LockRows")
    assert len(locks) == 2, shown  # one per slot kind
    for path in locks:
        # The locking sub-select hangs off the UPDATE as an InitPlan (run once). The trap's plan
        # makes it a SubPlan under a Nested Loop that rescans it for every row of its outer side.
        subplans = [node for node in path if node.get("Parent Relationship") in ("InitPlan", "SubPlan")]
        assert subplans, shown
        assert subplans[-1]["Parent Relationship"] == "InitPlan", shown
        update = next(i for i, node in enumerate(path) if node["Node Type"] == "ModifyTable")
        assert not any(node["Node Type"] == "Nested Loop" for node in path[update : path.index(subplans[-1])]), shown
        # Under it, an ordered walk of one lane of the lane index: no scan or sort of the backlog.
        below = path[-1]
        scans = _paths_to(below, "Index Scan")
        assert scans, shown
        assert all(scan[-1].get("Index Name") == "tasks_lane_idx" for scan in scans), shown
        assert not _paths_to(below, "Seq Scan"), shown
        assert not _paths_to(below, "Sort"), shown
        assert not _paths_to(below, "Bitmap Heap Scan"), shown


def test_the_claim_runs_its_sub_selects_once_whatever_the_statistics_say(client: Client, module_dsn: str) -> None:
    with psycopg.connect(module_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM anclax.tasks")
        conn.execute("ANALYZE anclax.tasks")  # statistics: empty
    Runner(client).run_many("Echo", [Params(n=i) for i in range(5000)])
    for analyze_first in (False, True):
        with _claim_session(module_dsn) as (conn, worker):
            if analyze_first:
                conn.execute("ANALYZE anclax.tasks")  # statistics: 5,000 pending
            lanes = _lanes(conn, "Echo", [])
            for mode in ("force_custom_plan", "force_generic_plan"):
                conn.execute(f"SET plan_cache_mode = {mode}")
                _check_shape(_explain(conn, CLAIM_SQL, [worker, lanes, 500, [], 0, lanes], analyze=False))


def _fill_with_work_the_worker_cannot_take(dsn: str, per_kind: int) -> None:
    """Pending rows of three kinds the test's worker (no labels, serving Echo and AsyncSleep)
    must never read: a label it lacks, a name it does not serve, and Echo tasks delayed an hour at
    a priority above the claimable ones."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name, labels, priority, delay in (
            ("Echo", ["gpu"], 0, "0"),
            ("Flaky", [], 0, "0"),
            ("Echo", [], 10, "1 hour"),
        ):
            conn.execute(
                "INSERT INTO anclax.tasks (name, payload, labels, priority, run_at, lane) "
                "SELECT %(name)s, '{}', %(labels)s, %(priority)s, now() + %(delay)s::interval, "
                "       (SELECT anclax.lane(%(name)s, %(labels)s, %(priority)s)) "
                "FROM generate_series(1, %(rows)s)",
                {"name": name, "labels": labels, "priority": priority, "delay": delay, "rows": per_kind},
            )


@pytest.mark.slow
@pytest.mark.parametrize("statistics", ["fresh", "stale"])
def test_every_claim_loop_statement_reads_a_bounded_number_of_buffers(
    client: Client, module_dsn: str, statistics: str
) -> None:
    with psycopg.connect(module_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM anclax.tasks")
        conn.execute("VACUUM (ANALYZE) anclax.tasks")  # statistics: empty
    runner = Runner(client)
    # The lanes exist before the statistics are taken (a worker's lanes do).
    runner.run_many("AsyncSleep", [Params()], delay="1h")
    _fill_with_work_the_worker_cannot_take(module_dsn, 200_000 // 3)
    runner.run_many("Echo", [Params(n=i) for i in range(1000)])
    if statistics == "fresh":
        with psycopg.connect(module_dsn, autocommit=True) as conn:
            conn.execute("VACUUM (ANALYZE) anclax.tasks")
    with _claim_session(module_dsn) as (conn, worker):
        sync_lanes = _lanes(conn, "Echo", [])
        async_lanes = _lanes(conn, "AsyncSleep", [])
        assert len(sync_lanes) == 2  # the claimable lane and the delayed priority-10 lane
        statements: list[tuple[str, LiteralString, list[object]]] = [
            ("claim", CLAIM_SQL, [worker, sync_lanes, 16, async_lanes, 16, sync_lanes + async_lanes]),
            ("lanes", LANES_SQL, []),
        ]
        for mode in ("force_custom_plan", "force_generic_plan"):
            conn.execute(f"SET plan_cache_mode = {mode}")
            for label, statement, params in statements:
                plan = _explain(conn, statement, params, analyze=True)
                shown = f"{label} ({mode}, {statistics} statistics): {json.dumps(plan, indent=1)}"
                if label == "claim":
                    (update,) = [path[-1] for path in _paths_to(plan, "ModifyTable")]
                    claimed = int(update["Actual Rows"])
                    assert claimed == 16, shown  # it did claim
                    # ... and learnt when each lane it named next has a task due.
                    assert int(plan["Actual Rows"]) == 16 + len(sync_lanes + async_lanes), shown
                    assert _search_buffers(plan) < BUFFER_BOUND, shown
                    assert _buffers(plan) < BUFFER_BOUND + WRITE_BUFFERS_PER_CLAIMED_ROW * claimed, shown
                else:
                    assert _buffers(plan) < BUFFER_BOUND, shown
