"""Read-only views of tasks, their events and cron schedules, as returned by :class:`Client`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

__all__ = ["FINAL_STATUSES", "ScheduleInfo", "TaskEvent", "TaskInfo", "TaskStatus"]

TaskStatus = Literal["pending", "running", "completed", "failed", "cancelled", "paused"]
FINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


@dataclass(frozen=True, slots=True)
class TaskInfo:
    """One task row. ``attempts`` counts executions started so far (1 during the first)."""

    id: int
    name: str
    status: TaskStatus
    params: Mapping[str, Any]
    priority: int
    run_at: datetime
    attempts: int
    max_attempts: int
    retry_intervals: tuple[timedelta, ...]
    timeout: timedelta
    labels: tuple[str, ...]
    unique_tag: str | None
    parent_id: int | None
    schedule_id: int | None
    fire_at: datetime | None
    worker_id: int | None
    cancel_requested: bool
    started_at: datetime | None
    deadline: datetime | None
    finished_at: datetime | None
    last_error: str | None
    created_at: datetime
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    """Propagation headers stored at enqueue (the W3C ``traceparent`` when tracing is on)."""
    tags: tuple[str, ...] = ()
    """Tags given at enqueue or in the spec (what ``Client.pause``, ``resume`` and ``cancel`` select by)."""
    pause_requested: bool = False
    """Running and paused: it becomes ``paused`` instead of retrying when its attempt ends."""

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TaskInfo:
        return cls(
            id=row["id"],
            name=row["name"],
            status=cast(TaskStatus, row["status"]),
            params=json.loads(row["payload"]),
            priority=row["priority"],
            run_at=row["run_at"],
            attempts=row["attempts"],
            max_attempts=row["max_attempts"],
            retry_intervals=tuple(timedelta(milliseconds=ms) for ms in row["retry_intervals_ms"]),
            timeout=timedelta(milliseconds=row["timeout_ms"]),
            labels=tuple(row["labels"]),
            unique_tag=row["unique_tag"],
            parent_id=row["parent_id"],
            schedule_id=row["schedule_id"],
            fire_at=row["fire_at"],
            worker_id=row["worker_id"],
            cancel_requested=row["cancel_requested"],
            started_at=row["started_at"],
            deadline=row["deadline_at"],
            finished_at=row["finished_at"],
            last_error=row["last_error"],
            created_at=row["created_at"],
            headers=row.get("headers") or {},
            tags=tuple(row.get("tags") or ()),
            pause_requested=bool(row.get("pause_requested", False)),
        )


EventKind = Literal["TaskError", "TaskFailed", "TaskCancelled", "HookFailed", "TaskRetried"]


@dataclass(frozen=True, slots=True)
class TaskEvent:
    """Something that happened to a task: a failed attempt, its permanent failure, a cancel, a failing hook,
    a retry asked for by someone (``Client.retry``, the dashboard: the message names who)."""

    id: int
    task_id: int
    kind: EventKind
    attempt: int | None
    message: str | None
    traceback: str | None
    worker_id: int | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TaskEvent:
        return cls(
            id=row["id"],
            task_id=row["task_id"],
            kind=cast(EventKind, row["kind"]),
            attempt=row["attempt"],
            message=row["message"],
            traceback=row["traceback"],
            worker_id=row["worker_id"],
            created_at=row["created_at"],
        )


@dataclass(frozen=True, slots=True)
class ScheduleInfo:
    """A cron schedule: from the spec (``source="spec"``) or registered by ``run_<task>(...)``."""

    id: int
    task_name: str
    unique_tag: str | None
    cron_expression: str
    params: Mapping[str, Any]
    source: Literal["spec", "app"]
    next_fire_at: datetime
    next_task_id: int | None
    paused: bool = False
    """Paused with ``Client.pause_schedule``: the scheduler skips it until ``resume_schedule``."""
