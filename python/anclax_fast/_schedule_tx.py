"""Registering a cron schedule inside the caller's transaction (``run_<task>_with_tx`` for cron tasks)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, cast

from anclax_fast._core import REGISTER_SCHEDULE_SQL, Tx
from anclax_fast._sql import for_psycopg, row_values
from anclax_fast._types import ExternalTx
from anclax_fast.cron import CronSchedule
from anclax_fast.errors import ConfigurationError

if TYPE_CHECKING:
    from anclax_fast.runner import ResolvedOptions
    from anclax_fast.spec import TaskDef

__all__ = ["register_in_transaction"]

_PSYCOPG_SQL = for_psycopg(REGISTER_SCHEDULE_SQL)


def register_in_transaction(
    tx: Tx | ExternalTx, task: TaskDef, *, unique_tag: str, payload: bytes, options: ResolvedOptions, source: str
) -> int:
    if task.cron is None:  # pragma: no cover - checked by the caller
        raise ConfigurationError(f"{task.name} has no cronjob")
    schedule = CronSchedule(task.cron.expression)
    next_fire = schedule.next_after(datetime.now(timezone.utc))
    args: tuple[Any, ...] = (
        task.name,
        unique_tag,
        task.cron.expression,
        schedule.timezone,
        payload.decode(),
        source,
        options.priority,
        options.max_attempts,
        options.retry_intervals_ms,
        options.timeout_ms,
        options.labels,
        next_fire,
    )
    if isinstance(tx, Tx):
        return int(tx.fetchval(REGISTER_SCHEDULE_SQL, *args))
    (task_id,) = row_values(cast(Any, tx).execute(_PSYCOPG_SQL, args).fetchone())
    return int(task_id)
