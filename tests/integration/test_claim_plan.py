"""The claim statement's plan, under statistics that say the queue is empty and under ones that
say it is large (shared/reference/postgres-queue-notes.md, "A planner trap"): the locking
sub-select must run once per statement (an InitPlan), never once per row (a SubPlan), and walk
the claim index instead of scanning or sorting the backlog."""

from __future__ import annotations

import json
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
# The engine's own statement, from the repository (trusted text, hence LiteralString).
CLAIM_SQL: LiteralString = (REPO / "rust" / "src" / "db" / "sql" / "claim.sql").read_text()  # pyright: ignore[reportAssignmentType]
# What the claim loop's own connection sets (rust/src/db/dedicated.rs).
SESSION_SETTINGS = ("enable_seqscan", "enable_bitmapscan", "enable_sort", "enable_hashjoin")


def _plans(dsn: str) -> list[dict[str, Any]]:
    """The claim's plan as the server first runs it (custom, parameters known) and as it may cache
    it after five runs of the prepared statement (generic)."""
    plans: list[dict[str, Any]] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for setting in SESSION_SETTINGS:
            conn.execute(f"SET {setting} = off")
        worker = conn.execute(
            "INSERT INTO anclax.workers (hostname, pid, labels, concurrency, version, expires_at) "
            "VALUES ('plan-test', 1, '{}', 1, 'test', now() + interval '1 hour') RETURNING id"
        ).fetchone()
        assert worker is not None
        conn.execute("PREPARE claim AS " + CLAIM_SQL)
        for mode in ("force_custom_plan", "force_generic_plan"):
            conn.execute(f"SET plan_cache_mode = {mode}")
            explain = sql.SQL("EXPLAIN (FORMAT JSON) EXECUTE claim({}, '{{}}'::text[], 500, NULL, '{{}}'::text[])")
            row = conn.execute(explain.format(sql.Literal(worker[0]))).fetchone()
            assert row is not None
            plans.append(row[0][0]["Plan"])
        conn.execute("DELETE FROM anclax.workers WHERE hostname = 'plan-test'")
    return plans


def _paths_to(
    plan: dict[str, Any], node_type: str, path: tuple[dict[str, Any], ...] = ()
) -> list[tuple[dict[str, Any], ...]]:
    """Every root-to-node path ending at a node of `node_type`."""
    here = (*path, plan)
    found: list[tuple[dict[str, Any], ...]] = [here] if plan["Node Type"] == node_type else []
    for child in plan.get("Plans", []):
        found.extend(_paths_to(child, node_type, here))
    return found


def _check(plan: dict[str, Any]) -> None:
    shown = json.dumps(plan, indent=1)
    locks = _paths_to(plan, "LockRows")
    assert len(locks) == 1, shown
    # The locking sub-select hangs off the statement as an InitPlan (run once). The trap's plan is
    # a Nested Loop that rescans it for every row of its outer side.
    assert any(node.get("Parent Relationship") == "InitPlan" for node in locks[0]), shown
    assert not any(node["Node Type"] == "Nested Loop" for node in locks[0]), shown
    # Under it, an ordered walk of the claim index: no scan or sort of the backlog.
    below = locks[0][-1]
    assert _paths_to(below, "Index Scan"), shown
    assert any(path[-1].get("Index Name") == "tasks_claim_idx" for path in _paths_to(below, "Index Scan")), shown
    assert not _paths_to(below, "Seq Scan"), shown
    assert not _paths_to(below, "Sort"), shown


def test_the_claim_runs_its_sub_select_once_whatever_the_statistics_say(client: Client, module_dsn: str) -> None:
    with psycopg.connect(module_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM anclax.tasks")
        conn.execute("ANALYZE anclax.tasks")  # statistics: empty
    Runner(client).run_many("Echo", [Params(n=i) for i in range(5000)])
    for plan in _plans(module_dsn):
        _check(plan)
    with psycopg.connect(module_dsn, autocommit=True) as conn:
        conn.execute("ANALYZE anclax.tasks")  # statistics: 5,000 pending
    for plan in _plans(module_dsn):
        _check(plan)
