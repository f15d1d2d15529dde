"""Lanes (task name, label set, priority): what a worker claims, in which order, how rows written
without a lane get one, and the upgrade of a version 1 database in place."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from anclax_fast import Client
from anclax_fast.testing import EmbeddedPostgres
from tests.support import Params, Recorder, Runner, running_worker, wait_until

pytestmark = pytest.mark.postgres

REPO = Path(__file__).resolve().parents[2]
MIGRATIONS = REPO / "rust" / "src" / "db" / "migrations"


def _lane(client: Client, name: str, labels: list[str], priority: int) -> int | None:
    with client.transaction() as tx:
        value = tx.fetchval(
            "SELECT id FROM anclax.lanes WHERE name = $1 AND labels = $2 AND priority = $3", name, labels, priority
        )
    return None if value is None else int(value)


def test_delayed_tasks_of_a_higher_priority_do_not_hold_back_due_ones(client: Client) -> None:
    runner = Runner(client)
    later = runner.run_many("Echo", [Params(n=i) for i in range(200)], priority=9, delay="1h")
    now = runner.run_many("Echo", [Params(n=i) for i in range(50)])
    recorder = Recorder()
    with running_worker(client, recorder, concurrency=4):
        wait_until(lambda: len(recorder.calls) == 50)
    assert {task_id for _, task_id, _ in recorder.calls} == set(now)
    assert all(client.task(task_id).status == "pending" for task_id in later[:5])
    for task_id in later:
        client.cancel(task_id)


def test_lanes_of_one_priority_take_turns(client: Client) -> None:
    runner = Runner(client)
    first = runner.run_many("Echo", [Params(n=i) for i in range(40)])
    second = runner.run_many("Flaky", [Params(n=i) for i in range(40)])
    recorder = Recorder()
    with running_worker(client, recorder, concurrency=2):
        wait_until(lambda: len(recorder.calls) == 80)
    order = [task_id for _, task_id, _ in recorder.calls]
    # Both names start early: neither lane is drained before the other gets a turn.
    assert set(order[:20]) & set(first)
    assert set(order[:20]) & set(second)
    # Within a lane, enqueue order.
    assert [t for t in order if t in set(first)] == first
    assert [t for t in order if t in set(second)] == second


def test_a_worker_wakes_only_for_lanes_it_serves(client: Client) -> None:
    runner = Runner(client)
    with running_worker(client, Recorder(), tasks=["Echo"], poll_interval=30.0) as worker:
        time.sleep(0.3)  # the first claims and next-due lookups of start-up
        before = worker.stats()["claim_batches"]
        for _ in range(20):
            runner.run("Gpu", Params())  # a lane this worker does not serve: no claim
        time.sleep(0.5)
        assert worker.stats()["claim_batches"] == before
        task_id = runner.run("Echo", Params())
        assert client.wait(task_id, timeout=5).status == "completed"
        assert worker.stats()["claim_batches"] == before + 1


def test_rows_inserted_by_hand_get_a_lane_and_run(client: Client) -> None:
    with client.transaction() as tx:
        task_id = int(
            tx.fetchval(
                "INSERT INTO anclax.tasks (name, payload, labels, priority) VALUES ('Echo', '{}', '{}', 7) RETURNING id"
            )
        )
        tx.execute("SELECT pg_notify('anclax_tasks', '')")
    assert client.task(task_id).status == "pending"
    lane = _lane(client, "Echo", [], 7)
    assert lane is not None
    with client.transaction() as tx:
        assert tx.fetchval("SELECT lane FROM anclax.tasks WHERE id = $1", task_id) == lane
    with running_worker(client, Recorder()):
        assert client.wait(task_id, timeout=10).status == "completed"


def test_changing_a_pending_task_s_priority_or_labels_moves_it_to_its_new_lane(client: Client) -> None:
    task_id = Runner(client).run("Echo", Params(), delay="1h")
    with client.transaction() as tx:
        tx.execute("UPDATE anclax.tasks SET priority = 4, labels = '{b,a,a}' WHERE id = $1", task_id)
        lane = tx.fetchval("SELECT lane FROM anclax.tasks WHERE id = $1", task_id)
    assert lane == _lane(client, "Echo", ["a", "b"], 4)  # labels sorted, de-duplicated
    client.cancel(task_id)


def test_a_task_set_back_to_pending_without_a_lane_gets_one(client: Client) -> None:
    task_id = Runner(client).run("Echo", Params(), delay="1h")
    with client.transaction() as tx:
        # What a row finished before schema version 2 looks like, sent back to the queue by hand.
        tx.execute("UPDATE anclax.tasks SET status = 'failed', lane = NULL WHERE id = $1", task_id)
        tx.execute("UPDATE anclax.tasks SET status = 'pending', run_at = now() WHERE id = $1", task_id)
        assert tx.fetchval("SELECT lane FROM anclax.tasks WHERE id = $1", task_id) == _lane(client, "Echo", [], 0)
    with running_worker(client, Recorder()):
        assert client.wait(task_id, timeout=10).status == "completed"


def test_enqueue_inside_a_transaction_creates_a_new_lane_outside_it(client: Client, module_dsn: str) -> None:
    runner = Runner(client)
    with psycopg.connect(module_dsn) as conn:
        runner.run_with_tx(conn, "Echo", Params(), priority=11)
        # Not committed yet, but the lane is: another enqueue of that lane need not wait.
        assert _lane(client, "Echo", [], 11) is not None
        other = runner.run("Echo", Params(), priority=11)
        conn.rollback()
    client.cancel(other)


@pytest.mark.slow
def test_a_version_1_database_upgrades_in_place(postgres: EmbeddedPostgres) -> None:
    """Migrate a version 1 database holding pending, running, delayed and finished tasks (and a
    version 1 client's bulk insert afterwards): every live task runs, finished ones are untouched."""
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS upgrade_v1 WITH (FORCE)")
        conn.execute("CREATE DATABASE upgrade_v1")
    dsn = postgres.dsn_for("upgrade_v1")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA anclax")
        conn.execute(
            "CREATE TABLE anclax.migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(sql.SQL((MIGRATIONS / "0001_init.sql").read_text()))  # pyright: ignore[reportArgumentType]
        conn.execute("INSERT INTO anclax.migrations (version, name) VALUES (1, 'init')")
        conn.execute(
            "INSERT INTO anclax.tasks (name, payload, labels, priority, run_at, status, finished_at) VALUES "
            "('Echo', '{}', '{}', 0, now(), 'pending', NULL), "
            "('Echo', '{}', '{}', 3, now(), 'pending', NULL), "
            "('Echo', '{}', '{}', 0, now() + interval '1 second', 'pending', NULL), "
            "('Echo', '{}', '{}', 0, now(), 'completed', now())"
        )
        # A task running on a worker of version 1 that then dies: rescued after migrating.
        conn.execute(
            "INSERT INTO anclax.workers (hostname, pid, labels, concurrency, version, expires_at) "
            "VALUES ('old', 1, '{}', 1, '0.1.0', now() - interval '1 second')"
        )
        conn.execute(
            "INSERT INTO anclax.tasks (name, payload, status, attempts, max_attempts, worker_id, started_at) "
            "SELECT 'Echo', '{}', 'running', 1, 3, id, now() FROM anclax.workers"
        )
    with Client(dsn) as client:
        assert client.migrate()[0] == 2  # and every later version
        with client.transaction() as tx:
            rows = tx.fetch("SELECT status, lane FROM anclax.tasks ORDER BY id")
            # What version 1's run_<task>_many sends: an insert that names no lane.
            tx.execute(
                "INSERT INTO anclax.tasks (name, payload, priority, run_at, max_attempts, retry_intervals_ms, "
                "timeout_ms, labels, parent_id) SELECT 'Echo', u.p, 0, now(), 1, '{}', 3600000, '{}', NULL "
                "FROM unnest(ARRAY['{}'::jsonb, '{}'::jsonb]) AS u(p)"
            )
        assert [r["lane"] is None for r in rows] == [False, False, False, True, False]
        recorder = Recorder()
        with running_worker(client, recorder):
            wait_until(lambda: len(recorder.calls) == 6, timeout=20)
        with client.transaction() as tx:
            statuses = [r["status"] for r in tx.fetch("SELECT status FROM anclax.tasks ORDER BY id")]
        assert statuses == ["completed"] * 7
