"""The Task page: one task with its parameters, attempts, events (tracebacks included), parent
and children, schedule, and the workers that ran it. Every lookup goes by primary key or by an
index on the task's id."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from anclax_fast._core import Tx

__all__ = ["CHILDREN_SHOWN", "EVENTS_SHOWN", "Attempt", "Detail", "Event", "Related", "load"]

CHILDREN_SHOWN = 100
EVENTS_SHOWN = 500

_TASK = """
SELECT id, name, status, payload::text AS payload, priority, run_at, attempts, max_attempts, retry_intervals_ms,
       timeout_ms, labels, unique_tag, parent_id, schedule_id, fire_at, worker_id, cancel_requested, started_at,
       deadline_at, finished_at, last_error, created_at, anclax.error_fingerprint(last_error) AS fingerprint,
       tags, pause_requested
FROM anclax.tasks WHERE id = $1
"""
_EVENTS = f"""
SELECT id, kind, attempt, message, traceback, worker_id, created_at
FROM anclax.events WHERE task_id = $1 ORDER BY id LIMIT {EVENTS_SHOWN}
"""
_RELATED = "SELECT id, name, status FROM anclax.tasks WHERE id = $1"
_CHILDREN = f"""
SELECT id, name, status FROM anclax.tasks WHERE parent_id = $1 ORDER BY id LIMIT {CHILDREN_SHOWN + 1}
"""
_WORKERS = "SELECT id, hostname, pid FROM anclax.workers WHERE id = ANY($1::bigint[])"
_SCHEDULE = "SELECT id, task_name, unique_tag, cron_expression FROM anclax.schedules WHERE id = $1"


@dataclass(frozen=True)
class Related:
    id: int
    name: str
    status: str


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    attempt: int | None
    message: str | None
    traceback: str | None
    worker_id: int | None
    created_at: datetime


@dataclass
class Attempt:
    """One execution, as the events and the row tell it."""

    number: int
    outcome: str
    """running, completed, error (retried), failed, cancelled, released, lost (lease expired)."""
    ended_at: datetime | None = None
    worker_id: int | None = None
    message: str | None = None
    events: list[Event] = field(default_factory=list)


@dataclass(frozen=True)
class Detail:
    task: dict[str, Any]
    params_json: str
    events: list[Event]
    attempts: list[Attempt]
    parent: Related | None
    children: list[Related]
    more_children: bool
    schedule: dict[str, Any] | None
    workers: dict[int, str]
    """Worker id → "host (pid N)" for the workers still registered; others are gone."""
    hook_failed: bool


def _attempts(task: dict[str, Any], events: list[Event]) -> list[Attempt]:
    attempts: dict[int, Attempt] = {}
    for event in events:
        if event.attempt is None or event.kind in ("HookFailed", "TaskRetried") or event.attempt < 1:
            continue
        attempt = attempts.setdefault(event.attempt, Attempt(event.attempt, "error"))
        attempt.events.append(event)
        attempt.ended_at = event.created_at
        attempt.worker_id = event.worker_id if event.worker_id is not None else attempt.worker_id
        message = event.message or ""
        if event.kind == "TaskFailed":
            attempt.outcome = "failed"
        elif event.kind == "TaskCancelled":
            attempt.outcome = "cancelled"
        elif message.startswith("released:"):
            attempt.outcome = "released"
        elif message.startswith("lease expired"):
            attempt.outcome = "lost"
        attempt.message = attempt.message or event.message
    last = task["attempts"]
    if last >= 1 and task["status"] in ("running", "completed") and last not in attempts:
        attempts[last] = Attempt(
            last,
            task["status"],
            task["finished_at"],
            task["worker_id"],
        )
    elif last >= 1 and last in attempts and task["status"] == "running":
        attempts[last].outcome = "running"
    return [attempts[n] for n in sorted(attempts)]


def load(tx: Tx, task_id: int) -> Detail | None:
    task = tx.fetchrow(_TASK, task_id)
    if task is None:
        return None
    events = [Event(**row) for row in tx.fetch(_EVENTS, task_id)]
    parent_row = tx.fetchrow(_RELATED, task["parent_id"]) if task["parent_id"] is not None else None
    children = [Related(**row) for row in tx.fetch(_CHILDREN, task_id)]
    schedule = tx.fetchrow(_SCHEDULE, task["schedule_id"]) if task["schedule_id"] is not None else None
    worker_ids = sorted({e.worker_id for e in events if e.worker_id is not None} | {task["worker_id"] or 0} - {0})
    workers = {int(row["id"]): f"{row['hostname']} (pid {row['pid']})" for row in tx.fetch(_WORKERS, worker_ids)}
    return Detail(
        task=task,
        params_json=json.dumps(json.loads(task["payload"]), indent=2, ensure_ascii=False, sort_keys=True),
        events=events,
        attempts=_attempts(task, events),
        parent=Related(**parent_row) if parent_row is not None else None,
        children=children[:CHILDREN_SHOWN],
        more_children=len(children) > CHILDREN_SHOWN,
        schedule=schedule,
        workers=workers,
        hook_failed=any(e.kind == "HookFailed" for e in events),
    )
