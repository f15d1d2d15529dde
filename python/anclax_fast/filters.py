"""``TaskFilter``: which tasks a bulk operation (``Client.retry``, the dashboard's actions) or a
listing applies to, and the SQL condition it stands for."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from anclax_fast.errors import AnclaxError, ConfigurationError
from anclax_fast.records import FINAL_STATUSES, TaskStatus
from anclax_fast.retry import parse_duration

__all__ = ["STATUSES", "SqlCondition", "TaskFilter", "parse_moment"]

STATUSES: tuple[TaskStatus, ...] = ("pending", "running", "paused", "completed", "failed", "cancelled")


@dataclass(frozen=True)
class TaskFilter:
    """Tasks matching every field given (a field left ``None`` matches anything).

    - ``status``: one status or several;
    - ``name``: the task name, exactly;
    - ``label``: tasks carrying this label (among others);
    - ``tag``: tasks carrying this tag (among others);
    - ``unique_tag``: the task's unique tag, exactly;
    - ``error_contains``: text found in the last error message (case-insensitive);
    - ``fingerprint``: the error fingerprint the dashboard groups failures by
      (``anclax.error_fingerprint(last_error)``: the first line of the error with its numbers,
      UUIDs and hex values replaced);
    - ``retrying``: True for pending tasks waiting for a retry after a failed attempt;
    - ``since`` / ``until``: a time range, as datetimes (tz-aware) or, for ``since``, a duration
      before now (``timedelta(hours=1)``). It applies to the finish time when every status
      filtered on is final (completed, failed, cancelled), else to the creation time.
    """

    status: TaskStatus | Sequence[TaskStatus] | None = None
    name: str | None = None
    label: str | None = None
    tag: str | None = None
    unique_tag: str | None = None
    error_contains: str | None = None
    fingerprint: str | None = None
    retrying: bool = False
    since: datetime | timedelta | None = None
    until: datetime | None = None
    statuses: tuple[TaskStatus, ...] | None = field(init=False)

    def __post_init__(self) -> None:
        statuses: tuple[TaskStatus, ...] | None
        if self.status is None:
            statuses = None
        elif isinstance(self.status, str):
            statuses = (self.status,)
        else:
            statuses = tuple(self.status)
        if statuses is not None:
            unknown = [s for s in statuses if s not in STATUSES]
            if unknown or not statuses:
                raise ConfigurationError(
                    f"unknown task status {', '.join(map(repr, unknown)) or '(none given)'}; "
                    f"the statuses are {', '.join(STATUSES)}"
                )
        object.__setattr__(self, "statuses", statuses)
        if self.retrying and statuses is not None and "pending" not in statuses:
            raise ConfigurationError("retrying=True selects pending tasks, but the status filter excludes 'pending'")
        for key in ("name", "label", "tag", "unique_tag", "error_contains", "fingerprint"):
            value: object = getattr(self, key)
            if value is not None and (not isinstance(value, str) or not value or "\x00" in value):
                raise ConfigurationError(f"TaskFilter.{key} must be a non-empty string without NUL, got {value!r}")
        for key in ("since", "until"):
            moment: object = getattr(self, key)
            if isinstance(moment, datetime) and moment.tzinfo is None:
                raise ConfigurationError(f"TaskFilter.{key} must be a tz-aware datetime, got {moment!r}")
        if isinstance(self.since, timedelta) and self.since <= timedelta(0):
            raise ConfigurationError(f"TaskFilter.since must be a positive duration, got {self.since}")

    @property
    def on_finish_time(self) -> bool:
        """Whether ``since``/``until`` apply to the finish time (every status filtered on is final)."""
        return self.statuses is not None and all(s in FINAL_STATUSES for s in self.statuses)

    def condition(self, first_parameter: int = 1) -> SqlCondition:
        """The SQL condition on ``anclax.tasks AS t`` with its parameters, numbered from ``first_parameter``."""
        sql = SqlCondition(first_parameter)
        if self.statuses is not None:
            if len(self.statuses) == 1:
                sql.add("t.status = {}", self.statuses[0])
            else:
                sql.add("t.status = ANY({}::text[])", list(self.statuses))
        if self.retrying:
            # The predicate of tasks_retrying_idx, spelled the same so the planner can use it.
            sql.add_fixed("t.status = 'pending' AND t.attempts > 0")
        self._add_names(sql)
        if self.error_contains is not None:
            sql.add("t.last_error ILIKE {}", "%" + escape_like(self.error_contains) + "%")
        if self.fingerprint is not None:
            sql.add("anclax.error_fingerprint(t.last_error) = {}", self.fingerprint)
        column = "t.finished_at" if self.on_finish_time else "t.created_at"
        if isinstance(self.since, timedelta):
            sql.add(f"{column} >= now() - {{}}::float8 * interval '1 second'", self.since.total_seconds())
        elif self.since is not None:
            sql.add(f"{column} >= {{}}", self.since)
        if self.until is not None:
            sql.add(f"{column} < {{}}", self.until)
        return sql

    def _add_names(self, sql: SqlCondition) -> None:
        """The conditions on the task's name, labels, tags and unique tag."""
        if self.name is not None:
            sql.add("t.name = {}", self.name)
        if self.label is not None:
            sql.add("t.labels @> ARRAY[{}::text]", self.label)
        if self.tag is not None:
            # `tags <> '{}'`: the predicate of tasks_tags_idx, which holds only tagged tasks.
            sql.add("t.tags @> ARRAY[{}::text] AND t.tags <> '{{}}'", self.tag)
        if self.unique_tag is not None:
            sql.add("t.unique_tag = {}", self.unique_tag)


def parse_moment(text: str, now: datetime, what: str = "time") -> datetime:
    """A duration before ``now`` (``30m``, ``1h``, ``2d``) or a date and time (``2026-11-30 12:00``,
    UTC unless it names its zone). Raises ``ConfigurationError`` saying how to write it."""
    try:
        return now - parse_duration(text)
    except AnclaxError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigurationError(
            f"{what}: {text!r} is neither a duration before now (30m, 1h, 2d) nor a date and time "
            "(2026-11-30 12:00, UTC unless a zone is given)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def escape_like(text: str) -> str:
    """``text`` with LIKE's wildcards escaped (the default escape character is the backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlCondition:
    """A conjunction of SQL fragments whose values are bound as ``$n`` parameters, never spliced."""

    def __init__(self, first_parameter: int = 1) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []
        self._first = first_parameter

    @property
    def next_parameter(self) -> int:
        return self._first + len(self.params)

    def add(self, fragment: str, *values: object) -> None:
        """Add ``fragment``, whose ``{}``s are replaced by placeholders bound to ``values``, in order."""
        first = self.next_parameter
        self.parts.append(fragment.format(*(f"${first + i}" for i in range(len(values)))))
        self.params.extend(values)

    def extend(self, other: SqlCondition) -> None:
        """Add every part of ``other``, which must number its parameters from this one's next."""
        if other._first != self.next_parameter:
            raise ValueError("the conditions' parameters do not line up")
        self.parts.extend(other.parts)
        self.params.extend(other.params)

    def add_fixed(self, fragment: str) -> None:
        """Add a fragment without parameters (a literal condition of this module's own)."""
        self.parts.append(fragment)

    @property
    def sql(self) -> str:
        return " AND ".join(self.parts) if self.parts else "true"
