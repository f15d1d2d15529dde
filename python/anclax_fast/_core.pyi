# Hand-written stub of the compiled module, checked against it by `make stubtest`.
from datetime import datetime
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
