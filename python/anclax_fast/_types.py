"""Shared option types of the public API (kept apart so every module can import them)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypedDict

if TYPE_CHECKING:
    from anclax_fast._core import AsyncTx, Tx
    from anclax_fast.spec import RetryPolicy

__all__ = [
    "AsyncExternalTx",
    "AsyncTransaction",
    "BatchEnqueueOptions",
    "DjangoConnection",
    "Duration",
    "EnqueueOptions",
    "ExternalTx",
    "IfExists",
    "SyncTransaction",
    "WorkerOptions",
]

Duration = str | timedelta
"""A duration given as text (``"1h30m"``, ``"500ms"``) or a :class:`datetime.timedelta`."""

IfExists = Literal["return", "raise"]


class _RowSource(Protocol):
    def fetchone(self) -> Any: ...


class ExternalTx(Protocol):
    """A connection of another driver, in a transaction the caller controls: psycopg 3's
    ``Connection`` and ``Cursor``, SQLAlchemy's ``Connection`` and ``Session`` (its psycopg driver).

    The task row is inserted through it, so it commits or rolls back with the caller's
    transaction. Declared structurally so that neither the package nor generated code imports a
    driver; which driver it is gets decided at run time, by type.
    """

    def execute(self, query: Any, /) -> _RowSource: ...


class DjangoConnection(Protocol):
    """Django's ``django.db.connection`` (or ``connections[alias]``) of a PostgreSQL database,
    typically inside ``transaction.atomic()``."""

    def cursor(self) -> Any: ...
    @property
    def in_atomic_block(self) -> bool: ...


class AsyncExternalTx(Protocol):
    """An asyncio connection of another driver, in a transaction the caller controls: asyncpg's
    ``Connection``, psycopg 3's ``AsyncConnection`` and ``AsyncCursor``, SQLAlchemy's
    ``AsyncConnection`` and ``AsyncSession`` (asyncpg or psycopg driver)."""

    def execute(self, query: Any, /) -> Awaitable[Any]: ...


SyncTransaction: TypeAlias = "Tx | ExternalTx | DjangoConnection"
"""What ``TaskRunner.run_<task>_with_tx`` enqueues through."""

AsyncTransaction: TypeAlias = "AsyncTx | AsyncExternalTx"
"""What ``AsyncTaskRunner.run_<task>_with_tx`` enqueues through."""


class BatchEnqueueOptions(TypedDict, total=False):
    """Per-call overrides of a task definition for a batch (``run_<task>_many``)."""

    retry_policy: RetryPolicy | None
    timeout: Duration | None
    delay: Duration | None
    run_at: datetime | None
    priority: int | None
    labels: Sequence[str] | None
    tags: Sequence[str] | None
    parent_id: int | None


class EnqueueOptions(BatchEnqueueOptions, total=False):
    """Per-call overrides of a task definition (SEMANTICS.md §5): the keyword arguments of
    ``run_<task>`` and ``run_<task>_with_tx``. A new option is one line here (and one where it is
    validated, ``anclax_fast.runner.resolve_options``)."""

    unique_tag: str | None
    if_exists: IfExists


class WorkerOptions(TypedDict, total=False):
    """Keyword options of :class:`anclax_fast.Worker` (and of generated ``make_worker``).

    Durations are seconds or timedeltas; ``None`` retention keeps final tasks forever.
    """

    concurrency: int
    async_concurrency: int
    labels: Sequence[str]
    tasks: Sequence[str] | None
    lease_ttl: float | timedelta
    poll_interval: float | timedelta
    shutdown_grace: float | timedelta
    timeout_grace: float | timedelta
    retention_completed: float | timedelta | None
    retention_failed: float | timedelta | None
    maintenance_interval: float | timedelta
    pool_size: int | None
    auto_migrate: bool
