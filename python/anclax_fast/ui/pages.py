"""The pages: each builder loads its data (one read-only transaction) and names its template.

A page's live part (its ``live`` block) is what ``/live`` re-renders for open pages; the builders
serve both the full page and those updates, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from starlette.datastructures import QueryParams

from anclax_fast.ui import charts
from anclax_fast.ui.cron_words import describe
from anclax_fast.ui.forms import STATUS_CHOICES, Form, FormError, task_query
from anclax_fast.ui.queries import failures, overview, schedules, task, tasks, workers
from anclax_fast.ui.queries.tasks import Cursor

if TYPE_CHECKING:
    from anclax_fast.ui.app import Dashboard

__all__ = ["PAGES", "Page", "PageNotFound"]


class PageNotFound(LookupError):
    """The page names something that does not exist (a task id)."""


@dataclass
class Page:
    template: str
    title: str
    context: dict[str, Any] = field(default_factory=dict)
    live: dict[str, str] | None = None
    """The ``/live`` parameters that re-render this page's live part; None: not live."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _form(params: QueryParams) -> Form:
    return Form(list(params.multi_items()))


async def overview_page(ui: Dashboard, params: QueryParams) -> Page:
    data = await ui.db.read(overview.load)
    names = list(data.completed_by_name)
    return Page(
        "overview.html.jinja",
        "Overview",
        {
            "data": data,
            "throughput": charts.throughput_chart(data.minutes, names),
            "failures_chart": charts.failures_chart(data.failures_per_minute),
            "exact_up_to": overview.EXACT_UP_TO,
            "counted": overview.COUNTED_PER_MINUTE,
            "sampled": overview.SAMPLED_PER_MINUTE,
        },
        live={"view": "overview"},
    )


async def tasks_page(ui: Dashboard, params: QueryParams) -> Page:
    query = task_query(_form(params), _now())
    cursor_text = params.get("cursor")
    cursor = Cursor.decode(cursor_text) if cursor_text else None
    listing = await ui.db.read(lambda tx: tasks.load(tx, query.filter, cursor))
    filter_pairs = [(k, v) for k, v in query.values.items() if v and k != "id"]
    return Page(
        "tasks.html.jinja",
        "Tasks",
        {
            "listing": listing,
            "query": query,
            "filter_pairs": filter_pairs,
            "statuses": STATUS_CHOICES,
            "cursor": cursor_text,
            "scan_budget": tasks.SCAN_BUDGET,
            "page_size": tasks.PAGE_SIZE,
        },
        # Only the first page updates itself: a later page is a fixed slice someone is reading.
        live={"view": "tasks", **dict(filter_pairs)} if cursor is None else None,
    )


async def task_page(ui: Dashboard, params: QueryParams) -> Page:
    text = params.get("id", "")
    if not text.isdigit():
        raise FormError(f"{text!r} is not a task id")
    task_id = int(text)
    detail = await ui.db.read(lambda tx: task.load(tx, task_id))
    if detail is None:
        raise PageNotFound(f"there is no task {task_id} (it may have been deleted by retention)")
    return Page(
        "task.html.jinja",
        f"Task {task_id}",
        {"detail": detail, "t": detail.task},
        # Live even when final: a retry (from here or elsewhere) brings it back.
        live={"view": "task", "id": str(task_id)},
    )


async def failures_page(ui: Dashboard, params: QueryParams) -> Page:
    window = params.get("window") or "24h"
    if window not in failures.WINDOWS:
        raise FormError(f"window: {window!r} is not one of {', '.join(failures.WINDOWS)}")
    now = _now()
    data = await ui.db.read(lambda tx: failures.load(tx, window, now))
    return Page(
        "failures.html.jinja",
        "Failures",
        {"data": data, "windows": list(failures.WINDOWS), "sample": failures.SAMPLE},
        live={"view": "failures", "window": window},
    )


async def schedules_page(ui: Dashboard, params: QueryParams) -> Page:
    now = _now()
    rows, more = await ui.db.read(lambda tx: schedules.load(tx, now))
    return Page(
        "schedules.html.jinja",
        "Schedules",
        {
            "schedules": rows,
            "more": more,
            "describe": describe,
        },
        live={"view": "schedules"},
    )


async def workers_page(ui: Dashboard, params: QueryParams) -> Page:
    rows = await ui.db.read(workers.load)
    return Page(
        "workers.html.jinja",
        "Workers",
        {"workers": rows, "running_shown": workers.RUNNING_SHOWN},
        live={"view": "workers"},
    )


PAGES: dict[str, Callable[[Dashboard, QueryParams], Awaitable[Page]]] = {
    "overview": overview_page,
    "tasks": tasks_page,
    "task": task_page,
    "failures": failures_page,
    "schedules": schedules_page,
    "workers": workers_page,
}
