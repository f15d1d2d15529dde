"""Background work whose cost must not grow with the rows a table keeps: the retention pass and
the status counts behind the metrics endpoint, next to a million finished rows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from typing_extensions import LiteralString

from anclax_fast import Client
from anclax_fast.client import _COUNTS_SQL, LIST_WINDOW  # pyright: ignore[reportPrivateUsage]
from tests.support import Params, Runner

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
PRUNE_SQL: LiteralString = (REPO / "rust" / "src" / "db" / "sql" / "prune.sql").read_text()  # pyright: ignore[reportAssignmentType]
FINISHED_ROWS = 1_000_000
OLD_ROWS = 40
# Finding work costs a few index pages; deleting a row touches its heap page, its index entries
# and its events.
BUFFER_BOUND = 200
BUFFERS_PER_DELETED_ROW = 20
DAY_MS = 24 * 3600 * 1000


def _buffers(plan: dict[str, Any]) -> int:
    return int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))


def _explain(conn: psycopg.Connection[Any], statement: LiteralString, params: tuple[int, ...] = ()) -> dict[str, Any]:
    """Run the statement ($n placeholders) under EXPLAIN (ANALYZE, BUFFERS) and roll it back."""
    arguments = sql.SQL("({})").format(sql.SQL(", ").join(map(sql.Literal, params))) if params else sql.SQL("")
    with conn.transaction(force_rollback=True):
        conn.execute("SET LOCAL enable_seqscan = off")  # as maintenance.rs runs it
        conn.execute("SET LOCAL enable_bitmapscan = off")
        conn.execute("PREPARE stmt AS " + statement)
        row = conn.execute(
            sql.SQL("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE stmt{}").format(arguments)
        ).fetchone()
        conn.execute("DEALLOCATE stmt")
    assert row is not None
    plan: dict[str, Any] = row[0][0]["Plan"]
    return plan


@pytest.fixture(scope="module")
def big_history(client: Client, module_dsn: str) -> str:
    """A million tasks finished in the last hour, a few finished long ago, and a little live work."""
    with psycopg.connect(module_dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM anclax.tasks")
        conn.execute(
            "INSERT INTO anclax.tasks (name, payload, status, finished_at) VALUES ('Rare', '{}', 'failed', now())"
        )
        for status, rows, age in (
            ("completed", FINISHED_ROWS - 2000, "10 minutes"),
            ("failed", 1500, "10 minutes"),
            ("cancelled", 500, "10 minutes"),
            ("completed", OLD_ROWS // 2, "2 days"),
            ("failed", OLD_ROWS // 2, "8 days"),
        ):
            conn.execute(
                "INSERT INTO anclax.tasks (name, payload, status, attempts, started_at, finished_at, lane) "
                "SELECT 'Echo', '{}', %s, 1, now() - %s::interval, now() - %s::interval, "
                "       (SELECT anclax.lane('Echo', '{}', 0)) "
                "FROM generate_series(1, %s)",
                (status, age, age, rows),
            )
        conn.execute("VACUUM (ANALYZE) anclax.tasks")
    Runner(client).run_many("Echo", [Params(n=i) for i in range(300)])
    return module_dsn


def test_a_retention_pass_reads_only_the_rows_it_deletes(big_history: str) -> None:
    with psycopg.connect(big_history, autocommit=True) as conn:
        plan = _explain(conn, PRUNE_SQL, (DAY_MS, 7 * DAY_MS, 5000))
        with conn.transaction(force_rollback=True):
            conn.execute("PREPARE prune AS " + PRUNE_SQL)
            row = conn.execute(
                sql.SQL("EXECUTE prune({}, {}, 5000)").format(sql.Literal(DAY_MS), sql.Literal(7 * DAY_MS))
            ).fetchone()
        assert row is not None
        deleted = int(row[0])
    assert deleted == OLD_ROWS
    assert _buffers(plan) < BUFFER_BOUND + BUFFERS_PER_DELETED_ROW * deleted, json.dumps(plan, indent=1)


def test_a_retention_pass_with_nothing_due_reads_almost_nothing(big_history: str) -> None:
    with psycopg.connect(big_history, autocommit=True) as conn:
        plan = _explain(conn, PRUNE_SQL, (30 * DAY_MS, 30 * DAY_MS, 5000))
    assert _buffers(plan) < 50, json.dumps(plan, indent=1)


def test_status_counts_are_exact_where_live_and_estimated_where_finished(client: Client, big_history: str) -> None:
    with psycopg.connect(big_history, autocommit=True) as conn:
        plan = _explain(conn, _COUNTS_SQL)
    assert _buffers(plan) < BUFFER_BOUND, json.dumps(plan, indent=1)
    counts = client.counts_by_status()
    assert counts["pending"] == 300
    assert counts["running"] == 0
    # The planner's estimates of the finished rows, as of the last ANALYZE.
    assert abs(counts["completed"] - FINISHED_ROWS) < FINISHED_ROWS * 0.05
    exact = client.counts_by_status(exact=True)
    assert exact["completed"] == FINISHED_ROWS - 2000 + OLD_ROWS // 2
    assert exact["failed"] == 1 + 1500 + OLD_ROWS // 2
    assert exact["cancelled"] == 500
    assert exact["pending"] == 300


def test_a_filtered_listing_walks_a_bounded_window_and_pages_back(client: Client, big_history: str) -> None:
    recent_failures = client.tasks(status="failed", limit=5)
    assert len(recent_failures) == 5
    assert [t.id for t in recent_failures] == sorted((t.id for t in recent_failures), reverse=True)
    # The one 'Rare' task is a million ids back: a listing looks at LIST_WINDOW ids at a time.
    assert client.tasks(name="Rare") == []
    newest = client.tasks(limit=1)[0].id + 1
    pages = 0
    start = newest
    found: list[int] = []
    while not found and start > 0:
        found = [t.id for t in client.tasks(name="Rare", before_id=start)]
        start -= LIST_WINDOW
        pages += 1
    assert len(found) == 1
    assert pages == -(-(newest - found[0]) // LIST_WINDOW)
