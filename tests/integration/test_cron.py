"""Cron schedules (SEMANTICS.md §4): from the spec and from the application, exactly one row per fire."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timedelta, timezone

import pytest

from anclax_fast import Client
from tests.support import CRON_SPEC, NeedsKey, Recorder, Runner, running_worker, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def fire_rows(client: Client, name: str) -> list[dict[str, object]]:
    with client.transaction() as tx:
        return tx.fetch(
            "SELECT id, fire_at, run_at, started_at, status, payload::text AS payload FROM anclax.tasks "
            "WHERE name = $1 ORDER BY fire_at",
            name,
        )


def test_a_spec_schedule_starts_with_the_worker_and_fires_every_second_on_time(client: Client) -> None:
    recorder = Recorder()
    with running_worker(client, recorder, spec=CRON_SPEC, poll_interval=30.0):
        schedules = {s.task_name: s for s in client.schedules()}
        assert schedules["Tick"].source == "spec"
        assert "AppCron" not in schedules  # its required parameter comes from the application
        wait_until(lambda: sum(1 for c in recorder.calls if c[0] == "Tick") >= 4, timeout=10)
    rows = [r for r in fire_rows(client, "Tick") if r["status"] == "completed"]
    assert len(rows) >= 4
    for row in rows[1:]:  # the first fire may have been created late, at start-up
        fire_at, started_at = row["fire_at"], row["started_at"]
        assert isinstance(fire_at, datetime)
        assert isinstance(started_at, datetime)
        assert fire_at.microsecond == 0
        assert timedelta(0) <= started_at - fire_at < timedelta(milliseconds=50), (fire_at, started_at)
    fires = [r["fire_at"] for r in fire_rows(client, "Tick")]
    assert len(fires) == len(set(fires))
    expected_key = rows[1]["fire_at"]
    assert isinstance(expected_key, datetime)
    assert f'"key": "{expected_key.strftime("%Y-%m-%dT%H:%M:%SZ")}"' in str(rows[1]["payload"])


def test_missed_fires_coalesce_into_one_run(client: Client) -> None:
    with running_worker(client, Recorder(), spec=CRON_SPEC):
        wait_until(lambda: len(fire_rows(client, "Tick")) >= 2, timeout=10)
    before = len(fire_rows(client, "Tick"))
    time.sleep(3.5)  # ~3 fires pass with no worker
    recorder = Recorder()
    with running_worker(client, recorder, spec=CRON_SPEC):
        time.sleep(1.5)
    rows = fire_rows(client, "Tick")
    fires = [r["fire_at"] for r in rows]
    assert len(fires) == len(set(fires))
    # One pending row waited through the gap (the coalesced run); then one per second again.
    assert len(rows) - before <= 3
    gap = [b - a for a, b in itertools.pairwise(fires) if isinstance(a, datetime) and isinstance(b, datetime)]
    assert max(gap) >= timedelta(seconds=3)


def test_run_registers_an_app_schedule_idempotently_and_unschedule_removes_it(client: Client) -> None:
    runner = Runner(client)
    first = runner.run("AppCron", NeedsKey(key="v1"))
    again = runner.run("AppCron", NeedsKey(key="v2"))  # updates the parameters, same next fire
    assert first == again
    assert client.task(first).params == {"key": "v2"}
    tagged = runner.run("AppCron", NeedsKey(key="other"), unique_tag="tenant-7")
    assert tagged != first
    schedules = {(s.task_name, s.unique_tag): s for s in client.schedules()}
    assert schedules[("AppCron", None)].next_task_id == first
    assert schedules[("AppCron", "tenant-7")].params == {"key": "other"}
    recorder = Recorder()
    with running_worker(client, recorder, spec=CRON_SPEC):
        wait_until(lambda: sum(1 for c in recorder.calls if c[0] == "AppCron") >= 4, timeout=10)
    assert client.unschedule("AppCron", "tenant-7") is True
    assert client.unschedule("AppCron", "tenant-7") is False
    assert {(s.task_name, s.unique_tag) for s in client.schedules()} >= {("AppCron", None)}
    client.unschedule("AppCron")
    with client.transaction() as tx:
        pending = tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE name = 'AppCron' AND status = 'pending'")
    assert pending == 0


def test_a_failing_fire_does_not_stop_the_schedule(client: Client) -> None:
    class Failing(Recorder):
        def execute_tick(self, ctx: object, params: object) -> None:
            raise RuntimeError("this fire fails")

    with running_worker(client, Failing(), spec=CRON_SPEC):
        time.sleep(3.2)
    rows = fire_rows(client, "Tick")
    recent = [
        r
        for r in rows
        if isinstance(r["fire_at"], datetime) and r["fire_at"] > datetime.now(timezone.utc) - timedelta(seconds=3)
    ]
    assert sum(1 for r in recent if r["status"] == "failed") >= 2
