"""The Schedules page: every cron schedule with its next fire times and its last fires.

The schedules table holds one row per schedule (small); the last fires of each come from
``tasks_fire_idx`` (schedule_id, fire_at), newest first, :data:`FIRES_SHOWN` per schedule.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from anclax_fast._core import Tx
from anclax_fast.cron import CronSchedule
from anclax_fast.errors import CronError

__all__ = ["FIRES_SHOWN", "NEXT_SHOWN", "SCHEDULES_SHOWN", "Fire", "Schedule", "load"]

SCHEDULES_SHOWN = 500
FIRES_SHOWN = 6
NEXT_SHOWN = 3

_SCHEDULES = f"""
SELECT id, task_name, unique_tag, cron_expression, timezone, source, payload::text AS payload, next_fire_at,
       created_at, updated_at, paused
FROM anclax.schedules ORDER BY task_name, unique_tag LIMIT {SCHEDULES_SHOWN + 1}
"""
_FIRES = f"""
SELECT s.id AS schedule_id, f.id, f.status, f.fire_at, f.finished_at, f.attempts, f.last_error
FROM anclax.schedules AS s
CROSS JOIN LATERAL (
    SELECT t.id, t.status, t.fire_at, t.finished_at, t.attempts, t.last_error FROM anclax.tasks AS t
    WHERE t.schedule_id = s.id AND t.fire_at <= now()
    ORDER BY t.fire_at DESC LIMIT {FIRES_SHOWN}
) AS f
WHERE s.id = ANY($1::bigint[])
ORDER BY s.id, f.fire_at DESC
"""


@dataclass(frozen=True)
class Fire:
    id: int
    status: str
    fire_at: datetime
    finished_at: datetime | None
    attempts: int
    last_error: str | None


@dataclass(frozen=True)
class Schedule:
    id: int
    task_name: str
    unique_tag: str
    cron_expression: str
    timezone: str
    source: str
    params: Any
    next_fire_at: datetime
    next_fires: list[datetime]
    """The coming fire times, computed with the engine's cron parser."""
    fires: list[Fire]
    created_at: datetime
    updated_at: datetime
    paused: bool = False


def load(tx: Tx, now: datetime) -> tuple[list[Schedule], bool]:
    """The schedules (and whether there are more than shown)."""
    rows = tx.fetch(_SCHEDULES)
    more = len(rows) > SCHEDULES_SHOWN
    rows = rows[:SCHEDULES_SHOWN]
    fires: dict[int, list[Fire]] = {}
    for row in tx.fetch(_FIRES, [row["id"] for row in rows]):
        schedule_id = row.pop("schedule_id")
        fires.setdefault(int(schedule_id), []).append(Fire(**row))
    schedules: list[Schedule] = []
    for row in rows:
        try:
            coming = list(itertools.islice(CronSchedule(row["cron_expression"]).iter_after(now), NEXT_SHOWN))
        except (CronError, OverflowError):
            coming = []
        schedules.append(
            Schedule(
                id=row["id"],
                task_name=row["task_name"],
                unique_tag=row["unique_tag"],
                cron_expression=row["cron_expression"],
                timezone=row["timezone"],
                source=row["source"],
                params=json.loads(row["payload"]),
                next_fire_at=row["next_fire_at"],
                next_fires=coming,
                fires=fires.get(int(row["id"]), []),
                created_at=row["created_at"],
                updated_at=row["updated_at"],
                paused=bool(row["paused"]),
            )
        )
    return schedules, more
