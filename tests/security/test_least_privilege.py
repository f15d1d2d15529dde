"""A worker and a client run under a role limited to the ``anclax`` schema (docs/security.md):
enqueue (single, batch, in a transaction, unique tags), claim, complete, retry, fail with a
hook, cron, cancel, wait, heartbeats, the rescuer and retention all work with those privileges,
and nothing in the logs says a privilege was missing. The role cannot change the schema."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from anclax_fast import Client, DatabaseError, RetryPolicy, Worker
from tests.security.conftest import SecureCluster
from tests.support import CRON_SPEC, FAST, SPEC, Params, Recorder, Runner, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _permission_problems(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if "permission denied" in r.getMessage() or "42501" in r.getMessage() or "must be owner" in r.getMessage()
    ]


def test_a_worker_and_a_client_run_with_the_application_role(
    secure_cluster: SecureCluster, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with Client(secure_cluster.app_dsn) as client:
        runner = Runner(client)
        echo = runner.run("Echo", Params(n=1))
        batch = runner.run_many("Echo", [Params(n=i) for i in range(10)])
        with client.transaction() as tx:
            in_tx = runner.run_with_tx(tx, "Echo", Params(n=2))
        tagged = runner.run("Echo", Params(n=3), unique_tag="least-privilege")
        assert runner.run("Echo", Params(n=4), unique_tag="least-privilege") == tagged
        flaky = runner.run("Flaky", Params(fail_times=1))
        hooked = runner.run("HookWrites", Params(key="written by the hook"))
        later = runner.run("Echo", Params(n=5), delay="1h")
        assert client.cancel(later)
        recorder = Recorder()
        short_lease: dict[str, Any] = {**FAST, "lease_ttl": 1.0}  # rescue passes every half second
        worker = Worker(client, recorder, SPEC, **short_lease, auto_migrate=False)
        cron = Worker(client, Recorder(), CRON_SPEC, tasks=["Tick"], **FAST, auto_migrate=False)
        with worker, cron:
            for task_id in (echo, *batch, in_tx, tagged):
                assert client.wait(task_id, timeout=30).status == "completed"
            assert client.wait(flaky, timeout=30).status == "completed"
            assert client.task(flaky).attempts == 2
            assert client.wait(hooked, timeout=30).status == "failed"
            with client.transaction() as tx:
                assert tx.fetchval("SELECT note FROM audit WHERE task_id = $1", hooked) == "written by the hook"
            wait_until(
                lambda: (
                    _count(client, "SELECT count(*) FROM anclax.tasks WHERE name = 'Tick' AND status = 'completed'")
                    >= 2
                ),
                timeout=30,
            )
            # Heartbeats and several rescue passes (every lease_ttl / 2) ran meanwhile.
            time.sleep(1.5)
        assert client.task(later).status == "cancelled"
        assert [e.kind for e in client.events(later)] == ["TaskCancelled"]
        assert {s.task_name for s in client.schedules()} == {"Tick"}
        assert client.unschedule("Tick")
        # Retention deletes finished tasks and their events.
        pruner = Worker(
            client, Recorder(), SPEC, **FAST, auto_migrate=False, retention_completed=0.001, maintenance_interval=0.2
        )
        with pruner:
            wait_until(
                lambda: _count(client, "SELECT count(*) FROM anclax.tasks WHERE status = 'completed'") == 0, timeout=30
            )
        assert _count(client, "SELECT count(*) FROM anclax.workers") == 0  # every worker left the fleet
    # (Claims, completions, heartbeats and rescues that fail log at WARNING or above, which reach
    # caplog even when the Rust side cached a higher level for a logger earlier in the session.)
    assert _permission_problems(caplog) == []


def _count(client: Client, sql: str) -> int:
    with client.transaction() as tx:
        return int(tx.fetchval(sql))


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE anclax.intruder (id int)",
        "DROP TABLE anclax.events",
        "ALTER TABLE anclax.tasks ADD COLUMN intruder int",
        "TRUNCATE anclax.tasks",
        "CREATE SCHEMA intruder",
        "CREATE OR REPLACE FUNCTION anclax.cancel(p_id bigint) RETURNS text LANGUAGE sql AS $$ SELECT 'x' $$",
        "CREATE INDEX ON anclax.tasks (name)",
    ],
)
def test_the_application_role_cannot_change_the_schema(secure_cluster: SecureCluster, statement: str) -> None:
    with Client(secure_cluster.app_dsn) as client:
        with pytest.raises(DatabaseError) as err, client.transaction() as tx:
            tx.execute(statement)
        assert err.value.sqlstate == "42501", err.value


def test_migrations_need_the_owner(secure_cluster: SecureCluster) -> None:
    with Client(secure_cluster.app_dsn) as client, pytest.raises(DatabaseError, match="permission denied") as err:
        client.migrate()
    assert err.value.sqlstate == "42501"
    with Client(secure_cluster.owner_dsn) as owner:
        assert owner.migrate() == []  # up to date: nothing to apply


def test_a_retry_policy_override_is_stored_under_the_application_role(secure_cluster: SecureCluster) -> None:
    with Client(secure_cluster.app_dsn) as client:
        task_id = Runner(client).run("Echo", Params(), retry_policy=RetryPolicy("1s", 4), labels=["a", "b"])
        info = client.task(task_id)
        assert (info.max_attempts, info.labels) == (4, ("a", "b"))
        assert client.cancel(task_id)


def test_a_worker_of_the_application_role_needs_auto_migrate_off(secure_cluster: SecureCluster) -> None:
    """docs/security.md: with the default auto_migrate=True, start-up runs the migration bootstrap,
    which needs CREATE on the database even when the schema is current."""
    with Client(secure_cluster.app_dsn) as client:
        with pytest.raises(DatabaseError, match="permission denied for database") as err:
            Worker(client, Recorder(), SPEC, **FAST).start()
        assert err.value.sqlstate == "42501"
