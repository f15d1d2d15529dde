"""Reading what a browser sends: the Tasks page's filter (query string) and action forms (POST
bodies), each value checked, with errors that say what is wrong and how to write it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qsl

from starlette.requests import Request

from anclax_fast import filters
from anclax_fast.errors import ConfigurationError
from anclax_fast.filters import STATUSES, TaskFilter
from anclax_fast.records import TaskStatus
from anclax_fast.ui.queries.failures import WINDOWS

__all__ = [
    "MAX_FORM_BYTES",
    "STATUS_CHOICES",
    "Form",
    "FormError",
    "TaskQuery",
    "group_filter",
    "parse_moment",
    "read_form",
    "safe_back",
    "task_query",
]

MAX_FORM_BYTES = 1 << 20
# The statuses, plus "retrying": pending tasks waiting for a retry after a failed attempt.
STATUS_CHOICES = ("", *STATUSES[:1], "retrying", *STATUSES[1:])
# What each choice filters on: "retrying" is a filter of its own (TaskFilter.retrying).
_STATUS_OF: dict[str, TaskStatus | None] = {"": None, "retrying": None, **{s: s for s in STATUSES}}
FILTER_FIELDS = ("status", "name", "label", "tag", "unique_tag", "error", "since", "until")


class FormError(ValueError):
    """A value a person typed cannot be used; the message says why (shown on a 400 page)."""


@dataclass(frozen=True)
class Form:
    """Submitted fields, each possibly repeated (checkboxes)."""

    fields: Sequence[tuple[str, str]]

    def get(self, key: str) -> str | None:
        value = next((v for k, v in self.fields if k == key), None)
        return value.strip() if value is not None and value.strip() else None

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.fields if k == key]

    def pairs(self, keys: Sequence[str]) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.fields if k in keys and v.strip()]


async def read_form(request: Request) -> Form:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        raise FormError("actions are sent as HTML forms (application/x-www-form-urlencoded)")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise FormError("the form is too large")
    try:
        return Form(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError:
        raise FormError("the form is not UTF-8") from None


def parse_moment(text: str, now: datetime, field: str) -> datetime:
    try:
        return filters.parse_moment(text, now, field)
    except ConfigurationError as err:
        raise FormError(str(err)) from None


@dataclass(frozen=True)
class TaskQuery:
    """The Tasks page's filter as given (to refill the form) and as a TaskFilter."""

    values: Mapping[str, str]
    filter: TaskFilter
    task_id: int | None


def task_query(form: Form, now: datetime) -> TaskQuery:
    values = {key: form.get(key) or "" for key in (*FILTER_FIELDS, "id")}
    status = values["status"]
    if status not in STATUS_CHOICES:
        raise FormError(f"status: {status!r} is not one of {', '.join(s for s in STATUS_CHOICES if s)}")
    task_id: int | None = None
    if values["id"]:
        if not values["id"].lstrip("#").isdigit():
            raise FormError(f"id: {values['id']!r} is not a task id (a whole number)")
        task_id = int(values["id"].lstrip("#"))
    since = parse_moment(values["since"], now, "since") if values["since"] else None
    until = parse_moment(values["until"], now, "until") if values["until"] else None
    try:
        task_filter = TaskFilter(
            status=_STATUS_OF[status],
            retrying=status == "retrying",
            name=values["name"] or None,
            label=values["label"] or None,
            tag=values["tag"] or None,
            unique_tag=values["unique_tag"] or None,
            error_contains=values["error"] or None,
            since=since,
            until=until,
        )
    except ConfigurationError as err:
        raise FormError(str(err)) from None
    return TaskQuery(values, task_filter, task_id)


def group_filter(form: Form, verb: str, now: datetime) -> TaskFilter:
    """The tasks of a Failures page group that ``verb`` applies to: its failed tasks in the window
    (retry, delete) or its tasks waiting for a retry (cancel)."""
    name, fingerprint, window = form.get("name"), form.get("fingerprint"), form.get("window") or "24h"
    if name is None or fingerprint is None:
        raise FormError("a failure group is named by its task name and error fingerprint")
    if window not in WINDOWS:
        raise FormError(f"window: {window!r} is not one of {', '.join(WINDOWS)}")
    try:
        if verb == "cancel":
            return TaskFilter(status="pending", retrying=True, name=name, fingerprint=fingerprint)
        return TaskFilter(status="failed", name=name, fingerprint=fingerprint, since=now - WINDOWS[window])
    except ConfigurationError as err:
        raise FormError(str(err)) from None


def safe_back(value: str | None, default: str) -> str:
    """Where to go after an action: a path of this site only (no other host, no scheme)."""
    if value is None or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value
