"""The exception hierarchy of anclax-fast.

Every exception the library raises derives from :class:`AnclaxError`. The Rust core imports these
classes and raises them; it defines no exception types of its own, so ``except`` clauses and
``isinstance`` checks work the same whichever side raised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AnclaxError",
    "ConfigurationError",
    "CronError",
    "DatabaseError",
    "DatabaseUnavailable",
    "ExecutorIncomplete",
    "FatalTaskError",
    "IntervalError",
    "PostgresNotFound",
    "RetryWithoutErrorEvent",
    "ScheduleNotFound",
    "SchemaNotMigrated",
    "SpecError",
    "SpecProblem",
    "TaskAlreadyExists",
    "TaskNotFound",
    "TaskTimeout",
    "WaitTimeout",
    "WorkerFailed",
]


class AnclaxError(Exception):
    """Base class of every error raised by anclax-fast."""


@dataclass(frozen=True)
class SpecProblem:
    """One problem found in a task spec; ``line`` and ``col`` are 1-based."""

    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        where = ":".join(str(part) for part in (self.file, self.line, self.col) if part is not None)
        return f"{where}: {self.message}" if where else self.message


class SpecError(AnclaxError, ValueError):
    """A task spec (or a part of one: a cron expression, a duration) is invalid.

    ``problems`` lists every problem found, each with its location when known; ``str()`` gives
    them one per line in ``file:line:col: message`` form.
    """

    problems: list[SpecProblem]

    def __init__(self, problems: Sequence[SpecProblem] | str) -> None:
        self.problems = [SpecProblem(problems)] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CronError(SpecError):
    """A cron expression is invalid; ``field`` names the offending field when there is one."""

    expression: str
    field: str | None

    def __init__(self, expression: str, message: str, field: str | None = None) -> None:
        self.expression = expression
        self.field = field
        super().__init__(f"invalid cron expression {expression!r}: {message}")


class IntervalError(SpecError):
    """A duration or retry interval is invalid; ``position`` is the 0-based offset of the problem."""

    text: str
    position: int

    def __init__(self, text: str, message: str, position: int) -> None:
        self.text = text
        self.position = position
        super().__init__(f"invalid duration {text!r} at position {position}: {message}")


class ConfigurationError(AnclaxError, ValueError):
    """An option, override or DSN is invalid. Raised before anything is written."""


class ExecutorIncomplete(ConfigurationError):
    """The executor given to a worker lacks methods for tasks of its spec."""


class PostgresNotFound(AnclaxError):
    """No PostgreSQL server binaries were found for the embedded cluster."""


class DatabaseError(AnclaxError):
    """A database operation failed. ``sqlstate`` is the Postgres error code when the server sent one."""

    sqlstate: str | None

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        self.sqlstate = sqlstate
        super().__init__(message)


class DatabaseUnavailable(DatabaseError):
    """The database could not be reached or the connection was lost."""


class SchemaNotMigrated(DatabaseError):
    """The ``anclax`` schema is missing or older than this version; run ``anclax-fast migrate``."""


class TaskNotFound(AnclaxError, LookupError):
    """No task with the given id exists (it may have been pruned by retention)."""


class ScheduleNotFound(AnclaxError, LookupError):
    """No cron schedule with the given task name (and unique tag) exists."""


class WaitTimeout(AnclaxError, TimeoutError):
    """``Client.wait`` gave up before the task reached a final state."""


class TaskAlreadyExists(AnclaxError):
    """A task with the unique tag exists and ``if_exists="raise"`` was given. ``task_id`` is its id."""

    task_id: int
    unique_tag: str

    def __init__(self, unique_tag: str, task_id: int) -> None:
        self.unique_tag = unique_tag
        self.task_id = task_id
        super().__init__(f"a task with unique tag {unique_tag!r} already exists (id {task_id})")


class WorkerFailed(AnclaxError, RuntimeError):
    """The worker's engine could not go on (one of its loops panicked or ended unexpectedly):
    :meth:`Worker.run` stops the worker and raises this, so that the process exits with an error
    and its supervisor restarts it, instead of heartbeating while doing nothing."""


class FatalTaskError(AnclaxError):
    """Raise in an executor to fail the task now, without retrying; the failure hook runs."""


class RetryWithoutErrorEvent(AnclaxError):
    """Raise in an executor to retry per the policy without writing a ``TaskError`` event."""


class TaskTimeout(AnclaxError):
    """Raised into a running task when it passes its deadline (and recorded as the attempt's error).

    Task code that catches it (``except Exception`` does) cannot rescue the attempt: once the
    deadline has passed, the attempt counts as timed out and whatever it returns is discarded.
    """
