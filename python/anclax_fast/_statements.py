"""The statements that enqueue through a caller's transaction, with their arguments: the Rust
core's own SQL files, so a task inserted through any driver follows the same rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from anclax_fast._core import ENQUEUE_SQL, REGISTER_SCHEDULE_SQL
from anclax_fast.cron import CronSchedule
from anclax_fast.errors import ConfigurationError

if TYPE_CHECKING:
    from anclax_fast.runner import ResolvedOptions
    from anclax_fast.spec import TaskDef

__all__ = ["Statement", "enqueue", "register_schedule"]


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL with ``$1, $2, ...`` placeholders and its positional arguments. Every parameter is
    cast in the SQL, so drivers that send untyped values bind it the same way."""

    sql: str
    args: tuple[Any, ...]


def enqueue(name: str, payload: bytes, options: ResolvedOptions) -> Statement:
    """``anclax.enqueue(...)``; returns one row ``(task_id, inserted)``."""
    o = options
    return Statement(
        ENQUEUE_SQL,
        (
            name,
            payload.decode(),
            o.priority,
            o.run_at,
            o.max_attempts,
            o.retry_intervals_ms,
            o.timeout_ms,
            o.labels,
            o.unique_tag,
            o.parent_id,
            o.headers,
            o.tags,
        ),
    )


def register_schedule(
    task: TaskDef, *, unique_tag: str, payload: bytes, options: ResolvedOptions, source: str
) -> Statement:
    """``anclax.register_schedule(...)``; returns one row: the task id of the next fire."""
    if task.cron is None:  # pragma: no cover - checked by the caller
        raise ConfigurationError(f"{task.name} has no cronjob")
    schedule = CronSchedule(task.cron.expression)
    o = options
    return Statement(
        REGISTER_SCHEDULE_SQL,
        (
            task.name,
            unique_tag,
            task.cron.expression,
            schedule.timezone,
            payload.decode(),
            source,
            o.priority,
            o.max_attempts,
            o.retry_intervals_ms,
            o.timeout_ms,
            o.labels,
            schedule.next_after(datetime.now(timezone.utc)),
        ),
    )
