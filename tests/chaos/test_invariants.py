"""The checker can fail: a consistent end state passes every check, and each way of breaking it
is reported by the check that guards it, naming the right task.

The states are written by hand into a migrated database (no workers), as the engine and the
harness would have left them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from psycopg import sql

from anclax_fast.testing import EmbeddedPostgres
from tests.chaos.invariants import run_checks
from tests.chaos.observe import create_observation_tables, index_observations, prepare_database

pytestmark = pytest.mark.postgres

QUICK, FLAKY, DOOMED, FATAL, HOOK_RAISES, RESCUED = 101, 102, 103, 104, 105, 106
BEAT_SCHEDULE = 1
T0 = datetime(2030, 1, 1, tzinfo=timezone.utc)


@dataclass
class World:
    dsn: str
    conn: psycopg.Connection[Any]

    def sql(self, statement: str, *args: Any) -> None:
        self.conn.execute(statement, args)  # pyright: ignore[reportArgumentType] - constant SQL of this file

    def task(self, task_id: int, name: str, status: str, attempts: int, **columns: Any) -> None:
        values = {"id": task_id, "name": name, "payload": "{}", "status": status, "attempts": attempts}
        values.update({"max_attempts": 20, **columns})
        query = sql.SQL("INSERT INTO anclax.tasks ({}) VALUES ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, values)), sql.SQL(", ").join(sql.Placeholder() * len(values))
        )
        self.conn.execute(query, list(values.values()))

    def event(self, task_id: int, kind: str, attempt: int, message: str) -> None:
        self.sql(
            "INSERT INTO anclax.events (task_id, kind, attempt, message) VALUES (%s, %s, %s, %s)",
            task_id,
            kind,
            attempt,
            message,
        )

    def run(self, kind: str, task_id: int, attempt: int, pid: int = 7) -> None:
        self.sql("INSERT INTO chaos.runs VALUES (%s, %s, %s, %s, 0)", kind, task_id, attempt, pid)

    def ack(self, task_id: int, name: str) -> None:
        self.sql("INSERT INTO chaos.acked VALUES (%s, %s)", task_id, name)

    def audit(self, task_id: int) -> None:
        self.sql("INSERT INTO chaos.audit (task_id, attempt, pid) VALUES (%s, 1, 7)", task_id)

    def violations(self) -> dict[str, list[int]]:
        index_observations(self.conn)
        return {r.name: [ident for ident, _ in r.samples] for r in run_checks(self.dsn) if not r.passed}


def build_consistent_world(w: World) -> None:
    """What a healthy run leaves behind: one task of each kind, a rescued one, a unique tag."""
    w.task(QUICK, "Quick", "completed", 1, unique_tag="tag-1")
    w.run("S", QUICK, 1)
    w.run("K", QUICK, 1)
    w.sql("INSERT INTO chaos.tag_acks VALUES ('tag-1', %s), ('tag-1', %s)", QUICK, QUICK)

    w.task(FLAKY, "Flaky", "completed", 2)
    w.event(FLAKY, "TaskError", 1, "RuntimeError: flaky failure on attempt 1 of 1")
    for kind, attempt in (("S", 1), ("S", 2), ("K", 2)):
        w.run(kind, FLAKY, attempt)

    w.task(DOOMED, "Doomed", "failed", 3, max_attempts=3)
    for attempt in (1, 2, 3):
        w.run("S", DOOMED, attempt)
        w.event(DOOMED, "TaskError", attempt, f"RuntimeError: doomed attempt {attempt}")
    w.event(DOOMED, "TaskFailed", 3, "RuntimeError: doomed attempt 3")
    w.run("H", DOOMED, 3)
    w.audit(DOOMED)

    w.task(FATAL, "Fatal", "failed", 1, max_attempts=5)
    w.run("S", FATAL, 1)
    w.event(FATAL, "TaskFailed", 1, "FatalTaskError: fatal on purpose")
    w.audit(FATAL)

    w.task(HOOK_RAISES, "HookRaises", "failed", 1, max_attempts=5)
    w.run("S", HOOK_RAISES, 1)
    w.event(HOOK_RAISES, "TaskFailed", 1, "FatalTaskError: fatal, and the hook will raise")
    w.event(HOOK_RAISES, "HookFailed", 1, "LookupError: the hook raised on purpose")

    # Its first attempt returned, but only after the worker had lost the lease: discarded.
    w.task(RESCUED, "Quick", "completed", 2)
    w.event(RESCUED, "TaskError", 1, "lease expired: worker 3 stopped heartbeating")
    for kind, attempt, pid in (("S", 1, 7), ("K", 1, 7), ("S", 2, 8), ("K", 2, 8)):
        w.run(kind, RESCUED, attempt, pid)

    for task_id, name in (
        (QUICK, "Quick"),
        (FLAKY, "Flaky"),
        (DOOMED, "Doomed"),
        (FATAL, "Fatal"),
        (HOOK_RAISES, "HookRaises"),
        (RESCUED, "Quick"),
    ):
        w.ack(task_id, name)


@pytest.fixture
def world(postgres: EmbeddedPostgres, migrated_template: str, request: pytest.FixtureRequest) -> Iterator[World]:
    name = "inv_" + re.sub(r"\W", "_", request.node.name)[:50].lower()
    with psycopg.connect(postgres.dsn, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(migrated_template))
        )
    dsn = postgres.dsn_for(name)
    prepare_database(dsn)
    with psycopg.connect(dsn, autocommit=True) as conn:
        create_observation_tables(conn)
        w = World(dsn, conn)
        build_consistent_world(w)
        yield w


def test_a_consistent_end_state_passes_every_check(world: World) -> None:
    assert world.violations() == {}


Breakage = Callable[[World], None]

BREAKAGES: dict[str, tuple[Breakage, str, int]] = {
    "an acknowledged task vanished": (lambda w: w.ack(999, "Quick"), "lost", 999),
    "a task is stuck running": (lambda w: w.task(200, "Slow", "running", 1, worker_id=42), "not_final", 200),
    "a pending task was never run": (lambda w: w.task(201, "Quick", "pending", 0), "not_final", 201),
    "a doomed task completed": (
        lambda w: w.sql("UPDATE anclax.tasks SET status = 'completed' WHERE id = %s", DOOMED),
        "wrong_final_state",
        DOOMED,
    ),
    "the applied attempt succeeded twice": (lambda w: w.run("K", QUICK, 1, pid=9), "completed_twice", QUICK),
    "completed without a successful run": (
        lambda w: w.sql("DELETE FROM chaos.runs WHERE task_id = %s AND kind = 'K'", QUICK),
        "completed_without_success",
        QUICK,
    ),
    "ran again after completing": (lambda w: w.run("S", QUICK, 2), "run_after_final", QUICK),
    "a success was recorded as an ordinary error": (
        lambda w: w.run("K", FLAKY, 1),
        "success_discarded_without_cause",
        FLAKY,
    ),
    "an attempt lost its TaskError event": (
        lambda w: w.sql("DELETE FROM anclax.events WHERE task_id = %s AND attempt = 2", DOOMED),
        "attempt_events",
        DOOMED,
    ),
    "an attempt has two TaskError events": (
        lambda w: w.event(FLAKY, "TaskError", 1, "lease expired: worker 1 stopped heartbeating"),
        "attempt_events",
        FLAKY,
    ),
    "a completed task has a TaskError for its final attempt": (
        lambda w: w.event(QUICK, "TaskError", 1, "RuntimeError: x"),
        "attempt_events",
        QUICK,
    ),
    "two TaskFailed events": (
        lambda w: w.event(FATAL, "TaskFailed", 1, "FatalTaskError: again"),
        "task_failed_events",
        FATAL,
    ),
    "a hook's writes committed twice": (lambda w: w.audit(DOOMED), "hook_writes", DOOMED),
    "a hook's writes were lost": (
        lambda w: w.sql("DELETE FROM chaos.audit WHERE task_id = %s", FATAL),
        "hook_writes",
        FATAL,
    ),
    "a raising hook's writes were kept": (lambda w: w.audit(HOOK_RAISES), "hook_writes", HOOK_RAISES),
    "a hook ran for a completed task": (lambda w: w.audit(QUICK), "hook_writes", QUICK),
    "a raising hook left no HookFailed event": (
        lambda w: w.sql("DELETE FROM anclax.events WHERE task_id = %s AND kind = 'HookFailed'", HOOK_RAISES),
        "hook_failed_events",
        HOOK_RAISES,
    ),
    "a unique tag was acknowledged with two ids": (
        lambda w: w.sql("INSERT INTO chaos.tag_acks VALUES ('tag-1', %s)", FLAKY),
        "unique_tag_ids",
        QUICK,
    ),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES), ids=list(BREAKAGES))
def test_each_breakage_is_reported_by_its_check_naming_the_task(world: World, breakage: str) -> None:
    apply, check, task_id = BREAKAGES[breakage]
    apply(world)
    violations = world.violations()
    assert check in violations, violations
    assert task_id in violations[check]


def _beat_world(w: World, seconds: range, missing: set[int]) -> None:
    w.sql(
        "INSERT INTO anclax.schedules (id, task_name, cron_expression, payload, source, next_fire_at) "
        "OVERRIDING SYSTEM VALUE VALUES (%s, 'Beat', '*/1 * * * * *', '{}', 'spec', %s)",
        BEAT_SCHEDULE,
        T0 + timedelta(seconds=seconds.stop),
    )
    for s in [*seconds, seconds.stop]:
        if s in missing:
            continue
        fire = T0 + timedelta(seconds=s)
        payload = json.dumps({"note": fire.strftime("%Y-%m-%dT%H:%M:%SZ")})
        if s == seconds.stop:  # the schedule's next fire, not yet due when the fleet stopped
            w.task(1000 + s, "Beat", "pending", 0, schedule_id=BEAT_SCHEDULE, fire_at=fire, payload=payload)
            continue
        w.task(1000 + s, "Beat", "completed", 1, schedule_id=BEAT_SCHEDULE, fire_at=fire, payload=payload)
        w.run("S", 1000 + s, 1)
        w.run("K", 1000 + s, 1)
    w.sql(
        "INSERT INTO chaos.uptime VALUES (0, 1, 1, 1, %s, %s)",
        T0 + timedelta(seconds=seconds.start),
        T0 + timedelta(seconds=seconds.stop),
    )


def test_a_cron_fire_missing_while_a_worker_was_up_is_reported(world: World) -> None:
    _beat_world(world, range(0, 20), missing={10})
    violations = world.violations()
    assert list(violations) == ["cron_missed_fires"]
    assert violations["cron_missed_fires"] == [int((T0 + timedelta(seconds=10)).timestamp())]


def test_a_cron_fire_missing_while_the_only_worker_was_frozen_or_postgres_down_is_excused(world: World) -> None:
    _beat_world(world, range(0, 30), missing={10, 20})
    world.sql("INSERT INTO chaos.frozen VALUES (1, %s, %s)", T0 + timedelta(seconds=9), T0 + timedelta(seconds=11))
    world.sql("INSERT INTO chaos.outages VALUES (%s, %s)", T0 + timedelta(seconds=19), T0 + timedelta(seconds=20))
    assert world.violations() == {}


def test_a_wrong_fire_payload_is_reported(world: World) -> None:
    _beat_world(world, range(0, 5), missing=set())
    world.sql('UPDATE anclax.tasks SET payload = \'{"note": "${fireTime}"}\' WHERE id = 1002')
    assert world.violations() == {"cron_fire_payload": [1002]}


def test_a_duplicate_cron_fire_is_reported(world: World) -> None:
    _beat_world(world, range(0, 5), missing=set())
    # The unique index makes this impossible in a healthy schema; the check guards against losing it.
    world.sql("DROP INDEX anclax.tasks_fire_idx")
    world.task(
        2002,
        "Beat",
        "completed",
        1,
        schedule_id=BEAT_SCHEDULE,
        fire_at=T0 + timedelta(seconds=2),
        payload='{"note": "2030-01-01T00:00:02Z"}',
    )
    world.run("S", 2002, 1)
    world.run("K", 2002, 1)
    assert world.violations() == {"cron_duplicate_fires": [1002]}


def test_a_cron_fire_left_pending_is_excused_only_if_it_came_due_as_the_fleet_stopped(world: World) -> None:
    _beat_world(world, range(0, 10), missing={7})
    world.task(
        1007,
        "Beat",
        "pending",
        0,
        schedule_id=BEAT_SCHEDULE,
        fire_at=T0 + timedelta(seconds=7),
        payload='{"note": "2030-01-01T00:00:07Z"}',
    )
    assert world.violations() == {"not_final": [1007]}
    world.sql("UPDATE chaos.run_info SET fleet_stopping_at = %s", T0 + timedelta(seconds=7, milliseconds=500))
    assert world.violations() == {}
