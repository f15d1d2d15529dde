"""Bulk operations on the tasks a :class:`~anclax_fast.filters.TaskFilter` or a list of ids selects:
retry (failed or cancelled → pending), cancel (pending, running or paused), delete (final tasks),
pause (pending or running) and resume (paused).

Each runs in batches of :data:`BATCH_SIZE` tasks, one short transaction per batch, so that a
redrive of a million failures neither holds a million row locks nor makes workers wait for the
last batch before they start on the first. Batches walk an index in order (finish time for final
statuses, id otherwise) from where the previous batch stopped, so each costs the same however
far the walk has gone, and a task the operation leaves in a matching state (a running task whose
cancel is only requested) is not selected twice.
"""

from __future__ import annotations

import getpass
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from anclax_fast import control
from anclax_fast.errors import ConfigurationError
from anclax_fast.filters import SqlCondition, TaskFilter
from anclax_fast.records import FINAL_STATUSES, TaskStatus

if TYPE_CHECKING:
    from anclax_fast._core import Tx
    from anclax_fast.client import Client

__all__ = [
    "BATCH_SIZE",
    "CANCEL",
    "DELETE",
    "PAUSE",
    "RESUME",
    "RETRY",
    "Operation",
    "count",
    "default_actor",
    "run",
    "statuses_of",
]

BATCH_SIZE = 1000


@dataclass(frozen=True)
class Operation:
    """A bulk operation: the statuses it applies to, and how it applies to a batch of ids."""

    verb: str
    statuses: tuple[TaskStatus, ...]
    sql: str
    """``$1``: the ids (``bigint[]``), and ``$2``: who asks, when ``records_actor``; returns how many changed."""
    records_actor: bool = False

    def apply(self, tx: Tx, ids: list[int], actor: str) -> int:
        args: tuple[object, ...] = (ids, actor) if self.records_actor else (ids,)
        return int(tx.fetchval(self.sql, *args))


RETRY = Operation("retry", ("failed", "cancelled"), "SELECT anclax.retry($1::bigint[], $2::text)", records_actor=True)
# anclax.cancel records no actor: its events say how the cancel happened (before or while running).
CANCEL = Operation(
    "cancel",
    ("pending", "running", "paused"),
    "SELECT count(*) FROM unnest($1::bigint[]) AS i(id) CROSS JOIN LATERAL anclax.cancel(i.id) AS r(outcome) "
    "WHERE r.outcome IN ('cancelled', 'requested')",
)
DELETE = Operation("delete", ("completed", "failed", "cancelled"), "SELECT anclax.delete_tasks($1::bigint[])")
# Pause and resume by ids: the statements of Client.pause / Client.resume (anclax_fast.control).
PAUSE = Operation("pause", ("pending", "running"), control.pause_by_ids_sql())
RESUME = Operation("resume", ("paused",), control.resume_by_ids_sql())


def default_actor() -> str:
    """Who is asking, for the events a retry records: ``user@host``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def statuses_of(operation: Operation, task_filter: TaskFilter) -> tuple[TaskStatus, ...]:
    """The statuses ``operation`` changes among those the filter selects (ConfigurationError: none)."""
    if task_filter.statuses is None:
        return operation.statuses
    chosen: tuple[TaskStatus, ...] = tuple(s for s in task_filter.statuses if s in operation.statuses)
    if not chosen:
        raise ConfigurationError(
            f"{operation.verb} applies to {' and '.join(operation.statuses)} tasks; "
            f"the filter selects only {', '.join(task_filter.statuses)} ones"
        )
    return chosen


def count(client: Client, operation: Operation, target: TaskFilter | Iterable[int], *, limit: int | None = None) -> int:
    """How many tasks ``operation`` would change now (at most ``limit`` when given)."""
    with client.transaction() as tx:
        _custom_plans(tx)
        if isinstance(target, TaskFilter):
            condition = target.condition(3)
            sql = f"SELECT 1 FROM anclax.tasks AS t WHERE t.status = ANY($1::text[]) AND {condition.sql} LIMIT $2"
            statuses = list(statuses_of(operation, target))
            return int(tx.fetchval(f"SELECT count(*) FROM ({sql}) AS s", statuses, limit, *condition.params))
        ids = _ids(target)
        return int(
            tx.fetchval(
                "SELECT count(*) FROM anclax.tasks WHERE id = ANY($1::bigint[]) AND status = ANY($2::text[])",
                ids,
                list(operation.statuses),
            )
        )


def run(
    client: Client,
    operation: Operation,
    target: TaskFilter | Iterable[int],
    *,
    actor: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Apply ``operation`` to the tasks ``target`` selects; returns how many changed.

    ``progress`` is called with the running total after each batch.
    """
    who = actor or default_actor()
    done = 0
    for select in _batches(operation, target):
        with client.transaction() as tx:
            _custom_plans(tx)
            ids = select(tx)
            if ids:
                done += operation.apply(tx, ids, who)
        if progress is not None:
            progress(done)
    return done


def _custom_plans(tx: Tx) -> None:
    """Plan each selection for its values: the client caches prepared statements, and a generic
    plan cannot tell which partial index a status selects or how selective a name is."""
    tx.fetchval("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")


def _ids(target: Iterable[int]) -> list[int]:
    ids: list[int] = []
    for value in target:
        # Typed as ints, but callers pass what they have: refuse "12" or True before any SQL runs.
        if isinstance(value, bool) or not isinstance(value, int):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(f"task ids must be integers, got {value!r}")
        ids.append(value)
    return ids


def _batches(operation: Operation, target: TaskFilter | Iterable[int]) -> Iterator[Callable[[Tx], list[int]]]:
    """Selectors of successive batches, each run in the transaction that applies the operation."""
    if not isinstance(target, TaskFilter):
        ids = _ids(target)
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            yield _given(chunk)
        return
    for status in statuses_of(operation, target):
        walk = _Walk(status, target)
        while not walk.finished:
            yield walk.next_batch


def _given(ids: list[int]) -> Callable[[Tx], list[int]]:
    def select(_tx: Tx) -> list[int]:
        return ids

    return select


class _Walk:
    """The tasks of one status matching a filter, a batch at a time, in index order: finish time
    for final statuses (tasks_finished_idx: status, finish time), id otherwise."""

    def __init__(self, status: TaskStatus, task_filter: TaskFilter) -> None:
        self.status = status
        self.filter = task_filter
        self.by_finish = status in FINAL_STATUSES
        self.after_time: datetime | None = None
        self.after_id: int | None = None
        self.finished = False

    def next_batch(self, tx: Tx) -> list[int]:
        where = SqlCondition()
        where.add("t.status = {}", self.status)
        # Each variant is its own statement, so that each gets a plan of its own.
        if self.after_id is not None and self.by_finish:
            where.add("t.finished_at >= {0} AND (t.finished_at > {0} OR t.id > {1})", self.after_time, self.after_id)
        elif self.after_id is not None:
            where.add("t.id > {}", self.after_id)
        where.extend(self.filter.condition(where.next_parameter))
        order = "t.finished_at, t.id" if self.by_finish else "t.id"
        rows = tx.fetch(
            f"SELECT t.id, t.finished_at FROM anclax.tasks AS t WHERE {where.sql} ORDER BY {order} LIMIT {BATCH_SIZE}",
            *where.params,
        )
        self.finished = len(rows) < BATCH_SIZE
        if rows:
            self.after_time = rows[-1]["finished_at"]
            self.after_id = int(rows[-1]["id"])
        return [int(row["id"]) for row in rows]
