# Hand-written stub of the compiled module, checked against it by `make stubtest`.
import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, final

from anclax_fast.runner import ResolvedOptions

__version__: str
ENQUEUE_SQL: str
REGISTER_SCHEDULE_SQL: str
SCHEMA_VERSION: int

def redact_dsn(dsn: str) -> str:
    """The DSN with its password replaced by ``***``."""

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

@final
class Tx:
    """A database transaction (from ``Client.transaction()``, or given to failure hooks).

    Placeholders are ``$1``, ``$2``, ...; arguments may be None, bool, int, float, str, bytes,
    Decimal, date, datetime, UUID, dict or list (dict/list go to json/jsonb, lists also to arrays).
    SQL errors raise :class:`anclax_fast.DatabaseError` with ``.sqlstate``. An argument its
    parameter cannot take raises before anything is sent, leaving the transaction usable:
    ``TypeError`` for a wrong type (``bytes`` for an ``int4``), ``ValueError`` for a bad value
    (out of range, a ``str`` that is not JSON for a ``jsonb``).
    """

    def execute(self, sql: str, *args: Any) -> int:
        """Run a statement; returns the number of rows affected."""
    def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]: ...
    def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None: ...
    def fetchval(self, sql: str, *args: Any) -> Any:
        """The first column of the first row, or None."""
    @property
    def closed(self) -> bool: ...
    def _finish(self, commit: bool) -> None: ...

@final
class ClientCore:
    def __new__(cls, dsn: str, pool_size: int) -> ClientCore: ...
    def migrate(self) -> list[int]: ...
    def check_schema(self) -> None: ...
    def enqueue(self, name: str, payload: bytes, options: ResolvedOptions) -> tuple[int, bool]: ...
    def enqueue_many(self, name: str, payloads: list[bytes], options: ResolvedOptions) -> list[int]: ...
    def ensure_lane(self, name: str, labels: list[str], priority: int) -> None: ...
    def task(self, task_id: int) -> dict[str, Any]: ...
    def events(self, task_id: int) -> list[dict[str, Any]]: ...
    def cancel(self, task_id: int) -> str: ...
    def wait(self, task_id: int, timeout: float | None = None) -> str: ...
    def register_schedule(
        self, name: str, unique_tag: str, expression: str, payload: bytes, source: str, options: ResolvedOptions
    ) -> int: ...
    def unschedule(self, task_name: str, unique_tag: str) -> bool: ...
    def schedules(self) -> list[dict[str, Any]]: ...
    def begin(self) -> Tx: ...
    def close(self) -> None: ...

@final
class Completions:
    """Where one event loop collects the results of operations run by a Rust runtime; the loop
    watches ``fileno()`` and calls ``drain()`` to resolve their futures."""

    def __new__(cls, event_loop: asyncio.AbstractEventLoop) -> Completions: ...
    def fileno(self) -> int: ...
    @property
    def event_loop(self) -> asyncio.AbstractEventLoop: ...
    def drain(self) -> None: ...

@final
class AsyncTx:
    """A database transaction driven from asyncio (``AsyncClient.transaction()``): the methods
    of :class:`Tx`, each returning an awaitable."""

    def execute(self, sql: str, *args: Any) -> asyncio.Future[int]:
        """Run a statement; resolves to the number of rows affected."""
    def fetch(self, sql: str, *args: Any) -> asyncio.Future[list[dict[str, Any]]]: ...
    def fetchrow(self, sql: str, *args: Any) -> asyncio.Future[dict[str, Any] | None]: ...
    def fetchval(self, sql: str, *args: Any) -> asyncio.Future[Any]:
        """The first column of the first row, or None."""
    @property
    def closed(self) -> bool: ...
    def _finish(self, commit: bool) -> asyncio.Future[None]: ...

@final
class AsyncClientCore:
    def __new__(cls, dsn: str, pool_size: int) -> AsyncClientCore: ...
    def migrate(self, completions: Completions) -> asyncio.Future[list[int]]: ...
    def enqueue(
        self, completions: Completions, name: str, payload: bytes, options: ResolvedOptions
    ) -> asyncio.Future[tuple[int, bool]]: ...
    def enqueue_many(
        self, completions: Completions, name: str, payloads: list[bytes], options: ResolvedOptions
    ) -> asyncio.Future[list[int]]: ...
    def ensure_lane(
        self, completions: Completions, name: str, labels: list[str], priority: int
    ) -> asyncio.Future[None]: ...
    def task(self, completions: Completions, task_id: int) -> asyncio.Future[dict[str, Any]]: ...
    def events(self, completions: Completions, task_id: int) -> asyncio.Future[list[dict[str, Any]]]: ...
    def cancel(self, completions: Completions, task_id: int) -> asyncio.Future[str]: ...
    def wait(self, completions: Completions, task_id: int, timeout: float | None = None) -> asyncio.Future[str]: ...
    def register_schedule(
        self,
        completions: Completions,
        name: str,
        unique_tag: str,
        expression: str,
        payload: bytes,
        source: str,
        options: ResolvedOptions,
    ) -> asyncio.Future[int]: ...
    def unschedule(self, completions: Completions, task_name: str, unique_tag: str) -> asyncio.Future[bool]: ...
    def schedules(self, completions: Completions) -> asyncio.Future[list[dict[str, Any]]]: ...
    def begin(self, completions: Completions) -> asyncio.Future[AsyncTx]: ...
    def close(self) -> None: ...

@final
class Notifications:
    """The engine's NOTIFY channels (``anclax_tasks``, ``anclax_done``, ``anclax_cancel``,
    ``anclax_schedules``) on a LISTEN connection of its own that reconnects by itself.

    Raises ``ConfigurationError`` for a channel not in that list, or for none at all.
    """

    def __new__(cls, client: ClientCore, channels: list[str]) -> Notifications: ...
    def next(self, timeout: float) -> list[tuple[str, str]] | None:
        """Wait up to ``timeout`` seconds for a notification, then return every one received:
        ``(channel, payload)`` pairs, ``("", "")`` when the connection was (re)established (what was
        sent while it was down is lost). An empty list after the timeout; None once closed."""
    def close(self) -> None: ...

@final
class WorkerCore:
    def __new__(
        cls,
        dsn: str,
        handlers: dict[str, tuple[Callable[..., Any], Callable[..., Any], bool, Callable[..., Any] | None]],
        *,
        bridge_factory: Callable[[AsyncDone], Any] | None = None,
        concurrency: int,
        async_concurrency: int,
        labels: list[str],
        task_names: list[str] | None,
        lease_ttl: float,
        poll_interval: float,
        shutdown_grace: float,
        timeout_grace: float,
        retention_completed: float | None,
        retention_failed: float | None,
        maintenance_interval: float,
        pool_size: int,
        auto_migrate: bool,
        hostname: str,
    ) -> WorkerCore: ...
    def start(self) -> int: ...
    def stop(self, grace: float | None = None) -> None: ...
    @property
    def running(self) -> bool: ...
    @property
    def worker_id(self) -> int | None: ...
    @property
    def failure(self) -> str | None:
        """Why the engine failed (one of its loops panicked or ended), or None."""
    def stats(self) -> dict[str, int]: ...
    def metrics(self) -> dict[str, Any]: ...

@final
class AsyncDone:
    """Called on the asyncio loop thread when an attempt's coroutine ends."""

    def __call__(self, key: int, error: BaseException | None = None) -> None: ...

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
