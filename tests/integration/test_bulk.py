"""Bulk retry, cancel and delete over more tasks than one batch, the error fingerprint that groups
failures, and what each leaves alone. No worker runs here: the rows are written by SQL so that
their statuses stay put while the operations run."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from anclax_fast import Client, TaskFilter, bulk

pytestmark = pytest.mark.postgres

ROWS = 2 * bulk.BATCH_SIZE + 500


def insert(client: Client, name: str, status: str, n: int, *, error: str | None = None, age_s: int = 0) -> list[int]:
    """``n`` tasks in ``status``; finished ones finished ``age_s`` seconds ago (+ their index, in ms)."""
    with client.transaction() as tx:
        rows = tx.fetch(
            """
            INSERT INTO anclax.tasks (name, payload, status, attempts, max_attempts, worker_id, started_at,
                                      finished_at, last_error)
            SELECT $1, '{}', $2, CASE WHEN $2 = 'pending' THEN 0 ELSE 1 END, 2,
                   CASE WHEN $2 = 'running' THEN 1 END, CASE WHEN $2 <> 'pending' THEN now() END,
                   CASE WHEN $2 IN ('completed', 'failed', 'cancelled')
                        THEN now() - ($4::int * interval '1 second') - (i * interval '1 millisecond') END,
                   CASE WHEN $5::text IS NOT NULL THEN $5 || ' #' || i END
            FROM generate_series(1, $3::int) AS i
            RETURNING id
            """,
            name,
            status,
            n,
            age_s,
            error,
        )
    return [int(row["id"]) for row in rows]


def statuses(client: Client, name: str) -> dict[str, int]:
    with client.transaction() as tx:
        rows = tx.fetch("SELECT status, count(*) AS n FROM anclax.tasks WHERE name = $1 GROUP BY 1", name)
    return {row["status"]: int(row["n"]) for row in rows}


def test_retry_by_filter_goes_through_every_batch(client: Client) -> None:
    insert(client, "Batch", "failed", ROWS, error="ValueError: order 12 is broken")
    insert(client, "Batch", "completed", 10)
    insert(client, "Other", "failed", 5, error="ValueError: order 12 is broken")
    seen: list[int] = []
    target = TaskFilter(status="failed", name="Batch")
    assert bulk.count(client, bulk.RETRY, target) == ROWS
    assert bulk.count(client, bulk.RETRY, target, limit=100) == 100
    assert bulk.run(client, bulk.RETRY, target, actor="test", progress=seen.append) == ROWS
    assert seen[-1] == ROWS
    assert len(seen) >= 3
    assert statuses(client, "Batch") == {"pending": ROWS, "completed": 10}
    assert statuses(client, "Other") == {"failed": 5}
    with client.transaction() as tx:
        events = tx.fetchval(
            "SELECT count(*) FROM anclax.events e JOIN anclax.tasks t ON t.id = e.task_id "
            "WHERE t.name = 'Batch' AND e.kind = 'TaskRetried' AND e.message = 'retried by test'"
        )
        budgets = tx.fetch(
            "SELECT DISTINCT max_attempts, run_at <= now() AS due FROM anclax.tasks "
            "WHERE name = 'Batch' AND status = 'pending'"
        )
    assert events == ROWS
    assert budgets == [{"max_attempts": 3, "due": True}]


def test_cancel_walks_on_past_running_tasks_that_stay_running(client: Client) -> None:
    pending = insert(client, "ToCancel", "pending", bulk.BATCH_SIZE + 10)
    running = insert(client, "ToCancel", "running", bulk.BATCH_SIZE + 10)
    # A running task only has its cancel requested: it still matches, and must not be picked again.
    assert bulk.run(client, bulk.CANCEL, TaskFilter(name="ToCancel")) == len(pending) + len(running)
    assert statuses(client, "ToCancel") == {"cancelled": len(pending), "running": len(running)}
    with client.transaction() as tx:
        requested = tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE name = 'ToCancel' AND cancel_requested")
    assert requested == len(running)


def test_delete_removes_final_tasks_and_their_events_only(client: Client) -> None:
    old = insert(client, "ToDelete", "failed", bulk.BATCH_SIZE + 1, error="boom", age_s=7200)
    recent = insert(client, "ToDelete", "failed", 3, error="boom")
    live = insert(client, "ToDelete", "pending", 3)
    with client.transaction() as tx:
        tx.execute(
            "INSERT INTO anclax.events (task_id, kind, attempt, message) "
            "SELECT unnest($1::bigint[]), 'TaskFailed', 1, 'boom'",
            old + recent + live,
        )
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    assert bulk.run(client, bulk.DELETE, TaskFilter(status="failed", name="ToDelete", until=an_hour_ago)) == len(old)
    assert statuses(client, "ToDelete") == {"failed": 3, "pending": 3}
    assert bulk.run(client, bulk.DELETE, [*recent, *live]) == 3
    with client.transaction() as tx:
        left = tx.fetch("SELECT task_id FROM anclax.events WHERE task_id = ANY($1::bigint[])", old + recent + live)
    assert sorted(int(r["task_id"]) for r in left) == sorted(live)


@pytest.mark.parametrize(
    ("message", "fingerprint"),
    [
        ("ValueError: order 42 is out of stock", "ValueError: order <n> is out of stock"),
        ("ValueError: order 43 is out of stock\nmore detail", "ValueError: order <n> is out of stock"),
        ("TimeoutError: after 2.5s at 0xDEADbeef", "TimeoutError: after <n>s at <hex>"),
        ("KeyError: 'user 7f3c9a1e-1b2c-4d5e-8f90-0a1b2c3d4e5f'", "KeyError: 'user <uuid>'"),
        ("HTTPError: Error404 from api2", "HTTPError: Error404 from api2"),
        ("", ""),
        (None, ""),
    ],
)
def test_the_fingerprint_sets_aside_what_varies_between_occurrences(
    client: Client, message: str | None, fingerprint: str
) -> None:
    with client.transaction() as tx:
        assert tx.fetchval("SELECT anclax.error_fingerprint($1)", message) == fingerprint


def test_fingerprints_are_capped(client: Client) -> None:
    with client.transaction() as tx:
        assert len(tx.fetchval("SELECT anclax.error_fingerprint($1)", "E: " + "x" * 500)) == 200


def test_retry_by_fingerprint_matches_the_group(client: Client) -> None:
    ids = insert(client, "Grouped", "failed", 4, error="RuntimeError: shard 3 unavailable")
    insert(client, "Grouped", "failed", 2, error="RuntimeError: disk full")
    target = TaskFilter(status="failed", name="Grouped", fingerprint="RuntimeError: shard <n> unavailable #<n>")
    # insert() appends " #i" to each message: that number is set aside as well.
    assert bulk.count(client, bulk.RETRY, target) == 4
    assert bulk.run(client, bulk.RETRY, target) == 4
    assert statuses(client, "Grouped") == {"pending": 4, "failed": 2}
    assert client.retry(ids, dry_run=True) == 0
    assert bulk.count(client, bulk.RETRY, TaskFilter(name="Grouped", since=timedelta(minutes=5))) == 2
