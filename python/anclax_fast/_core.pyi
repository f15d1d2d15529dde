# Hand-written stub of the compiled module, checked against it by `make stubtest`.
from datetime import datetime
from typing import Any, final

__version__: str
ENQUEUE_SQL: str
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
    SQL errors raise :class:`anclax_fast.DatabaseError` with ``.sqlstate``.
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
    def enqueue(
        self,
        name: str,
        payload: bytes,
        priority: int,
        run_at_us: int | None,
        max_attempts: int,
        retry_intervals_ms: list[int],
        timeout_ms: int,
        labels: list[str],
        unique_tag: str | None,
        parent_id: int | None,
        if_exists_raise: bool,
    ) -> tuple[int, bool]: ...
    def enqueue_many(
        self,
        name: str,
        payloads: list[bytes],
        priority: int,
        run_at_us: int | None,
        max_attempts: int,
        retry_intervals_ms: list[int],
        timeout_ms: int,
        labels: list[str],
        parent_id: int | None,
    ) -> list[int]: ...
    def task(self, task_id: int) -> dict[str, Any]: ...
    def events(self, task_id: int) -> list[dict[str, Any]]: ...
    def cancel(self, task_id: int) -> str: ...
    def wait(self, task_id: int, timeout: float | None = None) -> str: ...
    def begin(self) -> Tx: ...
    def close(self) -> None: ...
