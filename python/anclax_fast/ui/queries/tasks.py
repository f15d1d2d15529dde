"""The Tasks page: filtered listings with keyset pagination, each page reading a bounded number of rows.

A listing walks one index in order (the *driver*) and filters what it reads:

==================  ==========================================  ======================
status filter       driver (index)                              order
==================  ==========================================  ======================
completed, failed,  tasks_finished_idx (status, finished_at)    finished, newest first
cancelled
retrying            tasks_retrying_idx (run_at)                 next retry first
running             tasks_running_idx                           newest first
anything else       the primary key                             newest first
==================  ==========================================  ======================

A page reads at most :data:`SCAN_BUDGET` rows of its driver. When the other filters (name,
label, error text, ...) match rarely, a page can end short of :data:`PAGE_SIZE` rows before the
driver is exhausted: the page then says how far it searched and offers to search on from there,
instead of reading millions of rows in one request. A unique tag goes straight to its row.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from anclax_fast._core import Tx
from anclax_fast.errors import ConfigurationError
from anclax_fast.filters import SqlCondition, TaskFilter

__all__ = ["COLUMNS", "PAGE_SIZE", "SCAN_BUDGET", "Cursor", "Order", "Searched", "TaskPage", "TaskRow", "load"]

PAGE_SIZE = 50
SCAN_BUDGET = 20_000

COLUMNS = (
    "t.id, t.name, t.status, t.priority, t.run_at, t.attempts, t.max_attempts, t.labels, t.unique_tag, "
    "t.parent_id, t.worker_id, t.cancel_requested, t.started_at, t.finished_at, t.last_error, t.created_at, "
    "t.tags, t.pause_requested"
)


class Order(enum.Enum):
    NEWEST = "newest"
    """By id, highest first."""
    FINISHED = "finished"
    """By finish time, latest first (then id)."""
    DUE = "due"
    """By due time, soonest first (then id)."""


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: after the row with this key in the listing's order."""

    id: int
    time: datetime | None = None

    def encode(self) -> str:
        return str(self.id) if self.time is None else f"{self.time.isoformat()}~{self.id}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        moment, _, ident = text.rpartition("~")
        try:
            time = datetime.fromisoformat(moment) if moment else None
            cursor = cls(int(ident), time)
        except ValueError:
            raise ConfigurationError(f"invalid page cursor {text!r}") from None
        if cursor.time is not None and cursor.time.tzinfo is None:
            raise ConfigurationError(f"invalid page cursor {text!r} (a time without its zone)")
        return cursor


@dataclass(frozen=True)
class TaskRow:
    id: int
    name: str
    status: str
    priority: int
    run_at: datetime
    attempts: int
    max_attempts: int
    labels: list[str]
    unique_tag: str | None
    parent_id: int | None
    worker_id: int | None
    cancel_requested: bool
    started_at: datetime | None
    finished_at: datetime | None
    last_error: str | None
    created_at: datetime
    tags: list[str]
    pause_requested: bool


@dataclass(frozen=True)
class Searched:
    """A page that ended short because its scan budget ran out."""

    examined: int
    resume: Cursor
    """Where searching on starts."""


@dataclass(frozen=True)
class TaskPage:
    rows: list[TaskRow]
    order: Order
    next: Cursor | None
    """The next page, when this one is full."""
    searched: Searched | None
    """Set when the page is short but the listing may hold more matches further on."""


@dataclass(frozen=True)
class _Driver:
    order: Order
    condition: str
    """SQL on ``anclax.tasks AS t``, without parameters."""


def _driver(task_filter: TaskFilter) -> _Driver:
    statuses = task_filter.statuses
    if task_filter.retrying:
        return _Driver(Order.DUE, "t.status = 'pending' AND t.attempts > 0")
    if statuses in (("completed",), ("failed",), ("cancelled",)):
        # A literal, not a parameter: the planner must see which partial index applies.
        return _Driver(Order.FINISHED, f"t.status = '{statuses[0]}'")
    if statuses == ("running",):
        return _Driver(Order.NEWEST, "t.status = 'running' AND t.worker_id IS NOT NULL")
    return _Driver(Order.NEWEST, "true")


def _order_by(order: Order) -> str:
    if order is Order.NEWEST:
        return "t.id DESC"
    if order is Order.FINISHED:
        return "t.finished_at DESC, t.id DESC"
    return "t.run_at, t.id"


def _after(order: Order, cursor: Cursor, where: SqlCondition) -> None:
    """Rows after ``cursor`` in the listing's order, written so the driver's index bounds the scan."""
    if order is Order.NEWEST:
        where.add("t.id < {}", cursor.id)
    elif order is Order.FINISHED:
        where.add("t.finished_at <= {0} AND (t.finished_at < {0} OR t.id < {1})", cursor.time, cursor.id)
    else:
        where.add("t.run_at >= {0} AND (t.run_at > {0} OR t.id > {1})", cursor.time, cursor.id)


def _row_cursor(order: Order, row: TaskRow) -> Cursor:
    if order is Order.NEWEST:
        return Cursor(row.id)
    return Cursor(row.id, row.finished_at if order is Order.FINISHED else row.run_at)


def load(tx: Tx, task_filter: TaskFilter, cursor: Cursor | None = None, page_size: int = PAGE_SIZE) -> TaskPage:
    if task_filter.unique_tag is not None:
        condition = task_filter.condition()
        tagged = tx.fetch(f"SELECT {COLUMNS} FROM anclax.tasks AS t WHERE {condition.sql}", *condition.params)
        return TaskPage([TaskRow(**row) for row in tagged], Order.NEWEST, None, None)
    driver = _driver(task_filter)
    forward = _order_by(driver.order)
    inner = SqlCondition()
    inner.add_fixed(driver.condition)
    if cursor is not None:
        if (cursor.time is None) != (driver.order is Order.NEWEST):
            raise ConfigurationError("this page cursor belongs to a listing of another status")
        _after(driver.order, cursor, inner)
    if driver.order is Order.FINISHED:
        # The time range bounds the driver's index scan itself.
        if task_filter.until is not None:
            inner.add("t.finished_at < {}", task_filter.until)
        if isinstance(task_filter.since, datetime):
            inner.add("t.finished_at >= {}", task_filter.since)
        elif task_filter.since is not None:
            inner.add("t.finished_at >= now() - {}::float8 * interval '1 second'", task_filter.since.total_seconds())
    budget_at = inner.next_parameter
    outer = task_filter.condition(budget_at + 2)
    scan = f"SELECT {COLUMNS} FROM anclax.tasks AS t WHERE {inner.sql} ORDER BY {forward} LIMIT ${budget_at}"
    sql = f"SELECT t.* FROM ({scan}) AS t WHERE {outer.sql} ORDER BY {forward} LIMIT ${budget_at + 1}"
    found = [TaskRow(**row) for row in tx.fetch(sql, *inner.params, SCAN_BUDGET, page_size + 1, *outer.params)]
    if len(found) > page_size:
        rows = found[:page_size]
        return TaskPage(rows, driver.order, _row_cursor(driver.order, rows[-1]), None)
    # A short page: did it read everything there is, or stop at the budget? The budget's last
    # row says (none: the driver ran out first). Only its keys are read: for the primary key, an
    # index-only scan.
    time_key = {Order.NEWEST: None, Order.FINISHED: "finished_at", Order.DUE: "run_at"}[driver.order]
    since_check = driver.order is Order.NEWEST and isinstance(task_filter.since, datetime)
    keys = ", ".join(["t.id"] + [f"t.{k}" for k in (time_key, "created_at" if since_check else None) if k])
    boundary = tx.fetchrow(
        f"SELECT {keys} FROM anclax.tasks AS t WHERE {inner.sql} ORDER BY {forward} OFFSET ${budget_at} - 1 LIMIT 1",
        *inner.params,
        SCAN_BUDGET,
    )
    if boundary is None:
        return TaskPage(found, driver.order, None, None)
    # Newest first by id follows creation time: past `since`, nothing further can match.
    if since_check and isinstance(task_filter.since, datetime) and boundary["created_at"] < task_filter.since:
        return TaskPage(found, driver.order, None, None)
    resume = Cursor(int(boundary["id"]), boundary[time_key] if time_key else None)
    return TaskPage(found, driver.order, None, Searched(SCAN_BUDGET, resume))
