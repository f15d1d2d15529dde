"""``Client``: enqueue, inspect, wait for and cancel tasks, over a Rust-side connection pool."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Generator
from types import TracebackType

from anclax_fast._core import ClientCore, Tx, redact_dsn
from anclax_fast.errors import ConfigurationError
from anclax_fast.records import TaskEvent, TaskInfo

__all__ = ["DEFAULT_POOL_SIZE", "Client", "resolve_dsn"]

DEFAULT_POOL_SIZE = 8


def resolve_dsn(dsn: str | None) -> str:
    """The given DSN, else ``$ANCLAX_DSN``; a clear error when neither is set."""
    resolved = dsn if dsn is not None else os.environ.get("ANCLAX_DSN")
    if not resolved:
        raise ConfigurationError(
            "no database DSN: pass one (Client(dsn), --dsn) or set ANCLAX_DSN, "
            "e.g. ANCLAX_DSN=postgresql://user@localhost:5432/app"
        )
    return resolved


class Client:
    """A handle on one anclax database. Thread-safe; share one per process (create it after forking).

    Operations release the GIL while they wait on the database.
    """

    def __init__(self, dsn: str | None = None, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self._dsn = resolve_dsn(dsn)
        self._core = ClientCore(self._dsn, pool_size)

    @property
    def dsn(self) -> str:
        """The DSN with its password redacted."""
        return redact_dsn(self._dsn)

    @property
    def core(self) -> ClientCore:
        """The Rust half (used by TaskRunner and Worker)."""
        return self._core

    def migrate(self) -> list[int]:
        """Create or upgrade the ``anclax`` schema; returns the migration versions applied now."""
        return self._core.migrate()

    def task(self, task_id: int) -> TaskInfo:
        """The task's current row; raises :class:`~anclax_fast.errors.TaskNotFound`."""
        return TaskInfo.from_row(self._core.task(task_id))

    def events(self, task_id: int) -> list[TaskEvent]:
        """The task's events (failed attempts, final failure, cancel, hook failures), oldest first."""
        return [TaskEvent.from_row(row) for row in self._core.events(task_id)]

    def wait(self, task_id: int, timeout: float | None = None) -> TaskInfo:
        """Block until the task is completed, failed or cancelled; woken by NOTIFY, not polling.

        Raises :class:`~anclax_fast.errors.WaitTimeout` after ``timeout`` seconds.
        """
        self._core.wait(task_id, timeout)
        return self.task(task_id)

    def cancel(self, task_id: int) -> bool:
        """Cancel a task. Pending: cancelled now. Running: ``ctx.cancelled`` turns true and the
        attempt ends ``cancelled`` when it returns. Returns False when the task was already final."""
        return self._core.cancel(task_id) != "final"

    @contextlib.contextmanager
    def transaction(self) -> Generator[Tx]:
        """A transaction: committed when the block exits normally, rolled back on an exception.

        Pass it to ``run_<task>_with_tx`` to enqueue atomically with your own writes.
        """
        tx = self._core.begin()
        try:
            yield tx
        except BaseException:
            tx._finish(False)
            raise
        tx._finish(True)

    def close(self) -> None:
        """Close the pool's connections. The client cannot be used afterwards."""
        self._core.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(dsn={self.dsn!r})"
