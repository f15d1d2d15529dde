"""Shared option types of the public API (kept apart so every module can import them)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypedDict

if TYPE_CHECKING:
    from anclax_fast.spec import RetryPolicy

__all__ = ["Duration", "EnqueueOptions", "ExternalTx", "IfExists", "WorkerOptions"]

Duration = str | timedelta
"""A duration given as text (``"1h30m"``, ``"500ms"``) or a :class:`datetime.timedelta`."""

IfExists = Literal["return", "raise"]


class ExternalTx(Protocol):
    """A connection or cursor of another driver, in a transaction the caller controls.

    psycopg 3's ``Connection`` and ``Cursor`` satisfy it (``execute(query, params)``); the task
    row is inserted through it, so it commits or rolls back with the caller's transaction.
    Declared structurally so that neither the package nor generated code imports psycopg.
    """

    def execute(self, query: Any, params: Any = ..., /) -> Any: ...


class EnqueueOptions(TypedDict, total=False):
    """Per-call overrides of a task definition (SEMANTICS.md §5)."""

    retry_policy: RetryPolicy | None
    timeout: Duration | None
    unique_tag: str | None
    if_exists: IfExists
    delay: Duration | None
    run_at: datetime | None
    priority: int | None
    labels: Sequence[str] | None
    parent_id: int | None


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
