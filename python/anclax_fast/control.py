"""The control plane (docs/control-plane.md): pause and resume tasks and task names, cancel with
descendants or by tags, pause, resume and trigger cron schedules.

Each operation is written once, as a *plan*: a generator that yields the statements it needs
(``(sql, args)``) and receives their rows, so that :class:`~anclax_fast.Client` drives it through
a :class:`~anclax_fast.Tx` and :class:`~anclax_fast.AsyncClient` through an ``AsyncTx``, in one
transaction either way, with the same SQL.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from anclax_fast.cron import CronSchedule
from anclax_fast.errors import ConfigurationError, ScheduleNotFound, TaskNotFound
from anclax_fast.tags import check_tags

if TYPE_CHECKING:
    from anclax_fast._core import AsyncTx, Tx

__all__ = [
    "Plan",
    "Selector",
    "cancel_plan",
    "drive",
    "drive_async",
    "pause_by_ids_sql",
    "pause_plan",
    "pause_schedule_plan",
    "paused_names_plan",
    "resume_by_ids_sql",
    "resume_plan",
    "resume_schedule_plan",
    "selector",
    "trigger_schedule_plan",
]

T = TypeVar("T")
Rows = list[dict[str, Any]]
Query = tuple[str, tuple[object, ...]]
Plan = Generator[Query, Rows, T]

SelectorKind = Literal["task_ids", "unique_tag", "tags", "task_name"]


@dataclass(frozen=True, slots=True)
class Selector:
    """Which tasks a pause or resume applies to (exactly one way of naming them)."""

    kind: SelectorKind
    value: object
    """``list[int]`` for task_ids, ``list[str]`` for tags, ``str`` otherwise."""


def _text(what: str, value: object) -> str:
    if not isinstance(value, str) or not value or "\x00" in value:
        raise ConfigurationError(f"{what} must be a non-empty string without NUL characters, got {value!r}")
    return value


def task_ids_of(task_ids: Iterable[int], what: str = "task_ids") -> list[int]:
    """The ids as a list of ints (ConfigurationError for anything else, a lone int included)."""
    if isinstance(task_ids, (str, bytes)) or not isinstance(task_ids, Iterable):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigurationError(f"{what} must be a sequence of task ids, got {task_ids!r}")
    ids: list[int] = []
    for value in task_ids:
        # Typed as ints, but callers pass what they have: refuse "12" or True before any SQL runs.
        if isinstance(value, bool) or not isinstance(value, int):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(f"{what} must be integers, got {value!r}")
        ids.append(value)
    return ids


def tag_selection(tags: object) -> list[str]:
    """Tags that select tasks: at least one (tasks carrying all of them)."""
    checked = check_tags(tags)
    if not checked:
        # `tags @> '{}'` holds for every task: an empty list would select the whole table.
        raise ConfigurationError("tags must name at least one tag (an empty list would select every task)")
    return checked


def selector(
    verb: str,
    *,
    task_ids: Iterable[int] | None,
    unique_tag: str | None,
    tags: Sequence[str] | None,
    task_name: str | None,
) -> Selector:
    """The one selector given, checked; ConfigurationError when none or several are given."""
    given = {
        key: value
        for key, value in (("task_ids", task_ids), ("unique_tag", unique_tag), ("tags", tags), ("task_name", task_name))
        if value is not None
    }
    if len(given) != 1:
        named = ", ".join(f"{key}=" for key in given) or "none"
        raise ConfigurationError(f"{verb}: give exactly one of task_ids=, unique_tag=, tags=, task_name= (got {named})")
    kind, value = next(iter(given.items()))
    if kind == "task_ids":
        return Selector("task_ids", task_ids_of(task_ids or ()))
    if kind == "tags":
        return Selector("tags", tag_selection(value))
    return Selector("unique_tag" if kind == "unique_tag" else "task_name", _text(kind, value))


# The statements below name their rows `t`, take the selector's value as $1, and spell out the
# predicates of the partial indexes they are meant to use (tasks_lane_idx, tasks_running_idx,
# tasks_paused_idx, tasks_tags_idx).
_MATCH: dict[SelectorKind, str] = {
    "task_ids": "t.id = ANY($1::bigint[])",
    "unique_tag": "t.unique_tag = $1::text",
    "tags": "t.tags @> $1::text[] AND t.tags <> '{}'",
}

# One statement each, so that a task that changes status while it runs (a claim taking a pending
# task, an attempt ending) is re-checked on its newest version (READ COMMITTED's re-check of a
# row updated concurrently) instead of being missed between two statements.
_PAUSE_SQL = """
WITH changed AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.status = 'pending' THEN 'paused' ELSE t.status END,
        pause_requested = (t.status = 'running')
    WHERE {where}
    RETURNING t.id
)
SELECT count(*) AS n FROM changed
"""

_RESUME_SQL = """
WITH changed AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.status = 'paused' THEN 'pending' ELSE t.status END,
        pause_requested = false
    WHERE {where}
    RETURNING t.id, t.status
), woken AS (
    -- An empty payload: workers re-check every lane they serve (resumed tasks may be in any).
    SELECT pg_notify('anclax_tasks', '') FROM changed WHERE status = 'pending' HAVING count(*) > 0
)
SELECT count(*) AS n, (SELECT count(*) FROM woken) AS woken FROM changed
"""


def _pause_where(selection: Selector) -> str:
    if selection.kind == "task_name":
        return (
            "((t.status = 'pending'"
            " AND t.lane = ANY(ARRAY(SELECT l.id FROM anclax.lanes AS l WHERE l.name = $1::text)))"
            " OR (t.status = 'running' AND t.worker_id IS NOT NULL AND t.name = $1::text AND NOT t.pause_requested))"
        )
    return f"{_MATCH[selection.kind]} AND (t.status = 'pending' OR (t.status = 'running' AND NOT t.pause_requested))"


def _resume_where(selection: Selector) -> str:
    if selection.kind == "task_name":
        return (
            "((t.status = 'paused' AND t.name = $1::text)"
            " OR (t.status = 'running' AND t.worker_id IS NOT NULL AND t.name = $1::text AND t.pause_requested))"
        )
    return f"{_MATCH[selection.kind]} AND (t.status = 'paused' OR (t.status = 'running' AND t.pause_requested))"


def pause_by_ids_sql() -> str:
    """The pause statement for ``$1`` = task ids (the dashboard's bulk action); returns the count."""
    return _PAUSE_SQL.format(where=_pause_where(Selector("task_ids", [])))


def resume_by_ids_sql() -> str:
    """The resume statement for ``$1`` = task ids; its first column is the count."""
    return _RESUME_SQL.format(where=_resume_where(Selector("task_ids", [])))


def _require_tasks(selection: Selector) -> Plan[None]:
    """Tasks named by id or unique tag must exist: a typo is an error, not a silent zero."""
    if selection.kind == "task_ids":
        rows = yield (
            "SELECT array_agg(i.id ORDER BY i.id) AS missing FROM unnest($1::bigint[]) AS i(id) "
            "WHERE NOT EXISTS (SELECT 1 FROM anclax.tasks AS t WHERE t.id = i.id)",
            (selection.value,),
        )
        missing: list[int] | None = rows[0]["missing"] if rows else None
        if missing:
            shown = ", ".join(map(str, missing[:10])) + (", ..." if len(missing) > 10 else "")
            raise TaskNotFound(f"no task with id {shown} (nothing was changed)")
    elif selection.kind == "unique_tag":
        rows = yield ("SELECT 1 AS found FROM anclax.tasks WHERE unique_tag = $1::text", (selection.value,))
        if not rows:
            raise TaskNotFound(f"no task with unique tag {selection.value!r} (nothing was changed)")


def pause_plan(selection: Selector) -> Plan[int]:
    """Pause: pending tasks become ``paused``; running ones finish their attempt and then become
    ``paused`` instead of retrying. A task name is also recorded, so that its new tasks start
    paused. Returns how many tasks changed."""
    yield from _require_tasks(selection)
    if selection.kind == "task_name":
        yield ("INSERT INTO anclax.paused_names (name) VALUES ($1::text) ON CONFLICT DO NOTHING", (selection.value,))
    rows = yield (_PAUSE_SQL.format(where=_pause_where(selection)), (selection.value,))
    return int(rows[0]["n"])


def resume_plan(selection: Selector) -> Plan[int]:
    """Resume: paused tasks become ``pending`` again (their ``run_at`` unchanged, so a task paused
    before it was due still waits for its time) and workers are woken; running tasks lose their
    pause request. A task name stops being paused. Returns how many tasks changed."""
    yield from _require_tasks(selection)
    if selection.kind == "task_name":
        yield ("DELETE FROM anclax.paused_names WHERE name = $1::text", (selection.value,))
    rows = yield (_RESUME_SQL.format(where=_resume_where(selection)), (selection.value,))
    return int(rows[0]["n"])


def paused_names_plan() -> Plan[list[str]]:
    rows = yield ("SELECT name FROM anclax.paused_names ORDER BY name", ())
    return [str(row["name"]) for row in rows]


_CANCEL_TREE_SQL = "SELECT task_id, outcome FROM anclax.cancel_tree($1::bigint[], $2::boolean)"
_TAGGED_SQL = (
    "SELECT t.id FROM anclax.tasks AS t WHERE t.tags @> $1::text[] AND t.tags <> '{}' "
    "AND t.status IN ('pending', 'running', 'paused') ORDER BY t.id"
)


def cancel_plan(task_id: int | None, tags: Sequence[str] | None, *, cascade: bool) -> Plan[list[int]]:
    """Cancel a task (or every unfinished task carrying all of ``tags``) and, with ``cascade``,
    every descendant. Returns the ids whose cancel took effect (cancelled now, or requested of a
    running attempt), in id order."""
    if (task_id is None) == (tags is None):
        raise ConfigurationError("cancel: give a task id or tags=, not both and not neither")
    if not isinstance(cascade, bool):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigurationError(f"cascade must be True or False, got {cascade!r}")
    if task_id is not None:
        ids = task_ids_of([task_id], "task_id")
    else:
        rows = yield (_TAGGED_SQL, (tag_selection(tags),))
        ids = [int(row["id"]) for row in rows]
        if not ids:
            return []
    rows = yield (_CANCEL_TREE_SQL, (ids, cascade))
    if task_id is not None and not rows:
        raise TaskNotFound(f"no task with id {task_id}")
    return [int(row["task_id"]) for row in rows if row["outcome"] in ("cancelled", "requested")]


_SCHEDULE_SQL = (
    "SELECT id, cron_expression, paused, date_trunc('second', now()) AS now FROM anclax.schedules "
    "WHERE task_name = $1::text AND unique_tag = $2::text"
)


def _schedule(task_name: str, unique_tag: str | None) -> Plan[dict[str, Any]]:
    name = _text("task_name", task_name)
    tag = "" if unique_tag is None else _text("unique_tag", unique_tag)
    rows = yield (_SCHEDULE_SQL, (name, tag))
    if not rows:
        which = f"{name!r}" + (f" with unique tag {tag!r}" if tag else "")
        raise ScheduleNotFound(f"no cron schedule for task {which} (see `anclax-fast schedules list`)")
    return rows[0]


def pause_schedule_plan(task_name: str, unique_tag: str | None) -> Plan[bool]:
    schedule = yield from _schedule(task_name, unique_tag)
    rows = yield ("SELECT anclax.pause_schedule($1::bigint) AS changed", (schedule["id"],))
    return bool(rows[0]["changed"])


def resume_schedule_plan(task_name: str, unique_tag: str | None) -> Plan[bool]:
    schedule = yield from _schedule(task_name, unique_tag)
    now: datetime = schedule["now"]
    # The first fire after now, by the same parser as the scheduler's: resuming skips the fires
    # that fell while the schedule was paused.
    next_fire = CronSchedule(str(schedule["cron_expression"])).next_after(now)
    rows = yield ("SELECT anclax.resume_schedule($1::bigint, $2::timestamptz) AS changed", (schedule["id"], next_fire))
    return bool(rows[0]["changed"])


def trigger_schedule_plan(task_name: str, unique_tag: str | None) -> Plan[int]:
    schedule = yield from _schedule(task_name, unique_tag)
    rows = yield ("SELECT anclax.trigger_schedule($1::bigint) AS task_id", (schedule["id"],))
    return int(rows[0]["task_id"])


def drive(tx: Tx, plan: Plan[T]) -> T:
    """Run ``plan``'s statements through ``tx``; returns what the plan returns."""
    try:
        sql, args = next(plan)
        while True:
            sql, args = plan.send(tx.fetch(sql, *args))
    except StopIteration as done:
        result: T = done.value
        return result


async def drive_async(tx: AsyncTx, plan: Plan[T]) -> T:
    """:func:`drive` for an ``AsyncTx``."""
    try:
        sql, args = next(plan)
        while True:
            rows: Rows = await tx.fetch(sql, *args)
            sql, args = plan.send(rows)
    except StopIteration as done:
        result: T = done.value
        return result
