# Hand-written stub of the compiled module, checked against it by `make stubtest`.
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, final

__version__: str

@final
class TaskContext:
    """What an executor learns about the attempt it runs."""

    @property
    def task_id(self) -> int: ...
    @property
    def task_name(self) -> str: ...
    @property
    def attempt(self) -> int:
        """1 on the first execution."""
    @property
    def max_attempts(self) -> int:
        """Total executions allowed, -1 for unlimited."""
    @property
    def deadline(self) -> datetime:
        """When this attempt times out (tz-aware, UTC)."""
    @property
    def labels(self) -> tuple[str, ...]: ...
    @property
    def cancelled(self) -> bool:
        """True once the task was cancelled, timed out, or the worker lost its lease."""

class Tx:
    """A database transaction (from ``Client.transaction()`` or given to failure hooks)."""

    def execute(self, sql: str, *args: Any) -> int: ...
    def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]: ...
    def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None: ...
    def fetchval(self, sql: str, *args: Any) -> Any: ...

@final
class CronSchedule:
    """A parsed cron expression; the dialect is described in ``docs/cron.md``.

    Equality and hashing go by the expression text. Raises ``anclax_fast.errors.CronError``
    for an invalid expression (or one that can never fire, such as ``"0 0 30 2 *"``).
    """

    def __new__(cls, expr: str) -> CronSchedule: ...
    def next_after(self, dt: datetime) -> datetime:
        """The first fire time strictly after ``dt``, as a tz-aware UTC datetime.

        ``dt`` must be tz-aware (a naive datetime raises ``TypeError``); any zone works.
        Raises ``OverflowError`` when there is no fire time up to the end of year 9999.
        """
    def iter_after(self, dt: datetime) -> CronIterator:
        """The fire times strictly after ``dt`` (tz-aware), in order, as UTC datetimes."""
    @property
    def expression(self) -> str:
        """The expression exactly as given."""
    @property
    def timezone(self) -> str:
        """The IANA name of the zone the fields are read in (``"UTC"`` unless ``CRON_TZ=`` says)."""
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def __reduce__(self) -> tuple[type[CronSchedule], tuple[str]]: ...

@final
class CronIterator:
    """What ``CronSchedule.iter_after`` returns; stops after year 9999."""

    def __iter__(self) -> CronIterator: ...
    def __next__(self) -> datetime: ...

def parse_duration(text: str) -> timedelta:
    """Parses a duration such as ``"1h30m"``, ``"500ms"``, ``"2d"`` or ``"1.5h"``.

    Raises ``anclax_fast.errors.IntervalError`` (with the position of the problem).
    """

def parse_interval(text: str) -> list[timedelta]:
    """Parses a retry interval: one duration (``"30m"``) or a comma list (``"1m, 2m, 4m"``).

    Raises ``anclax_fast.errors.IntervalError`` (with the position of the problem).
    """

def delay_for_retry(intervals: Sequence[timedelta], retry_number: int) -> timedelta:
    """The delay before retry ``retry_number`` (1-based): the k-th interval, the last once used up.

    Raises ``anclax_fast.errors.ConfigurationError`` (a ``ValueError``) when ``retry_number < 1``
    or ``intervals`` is empty.
    """
