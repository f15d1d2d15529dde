"""``AsyncClient``: the asyncio twin of :class:`~anclax_fast.Client`.

Every method is a coroutine whose database work runs on the client's Rust runtime: the event
loop never blocks on a round trip, and no thread is borrowed per call. Results come back to the
loop through one watched socket per loop (see ``rust/src/py/awaitable.rs``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncGenerator, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from anclax_fast import control
from anclax_fast._core import AsyncClientCore, AsyncTx, Completions, redact_dsn
from anclax_fast.client import DEFAULT_POOL_SIZE, LIST_WINDOW, counts_sql, listing_sql, resolve_dsn
from anclax_fast.errors import ConfigurationError
from anclax_fast.records import ScheduleInfo, TaskEvent, TaskInfo

if TYPE_CHECKING:
    from anclax_fast.runner import ResolvedOptions
    from anclax_fast.spec import TaskDef

__all__ = ["AsyncClient"]


class AsyncClient:
    """A handle on one anclax database for asyncio code. Share one per process (create it after
    forking); it may serve several event loops (each gets its own completion queue).

    ``async with AsyncClient() as client: ...`` closes it at the end.
    """

    def __init__(self, dsn: str | None = None, *, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self._dsn = resolve_dsn(dsn)
        self._core = AsyncClientCore(self._dsn, pool_size)
        self._loops: dict[asyncio.AbstractEventLoop, Completions] = {}

    @property
    def dsn(self) -> str:
        """The DSN with its password redacted."""
        return redact_dsn(self._dsn)

    @property
    def dsn_secret(self) -> str:
        """The DSN as given, password included."""
        return self._dsn

    @property
    def core(self) -> AsyncClientCore:
        """The Rust half (used by AsyncTaskRunner)."""
        return self._core

    def completions(self) -> Completions:
        """Where the running event loop collects this client's results (watched from first use)."""
        loop = asyncio.get_running_loop()
        found = self._loops.get(loop)
        return found if found is not None else self._watch(loop)

    def _watch(self, loop: asyncio.AbstractEventLoop) -> Completions:
        # A closed loop let go of its reader (and so of its Completions and their sockets).
        for closed in [known for known in self._loops if known.is_closed()]:
            del self._loops[closed]
        completions = Completions(loop)
        loop.add_reader(completions.fileno(), completions.drain)
        self._loops[loop] = completions
        return completions

    async def migrate(self) -> list[int]:
        """Create or upgrade the ``anclax`` schema; returns the migration versions applied now."""
        applied: list[int] = await self._core.migrate(self.completions())
        return applied

    async def task(self, task_id: int) -> TaskInfo:
        """The task's current row; raises :class:`~anclax_fast.errors.TaskNotFound`."""
        return TaskInfo.from_row(await self._core.task(self.completions(), task_id))

    async def events(self, task_id: int) -> list[TaskEvent]:
        """The task's events (failed attempts, final failure, cancel, hook failures), oldest first."""
        rows: list[dict[str, Any]] = await self._core.events(self.completions(), task_id)
        return [TaskEvent.from_row(row) for row in rows]

    async def wait(self, task_id: int, timeout: float | None = None) -> TaskInfo:
        """Until the task is completed, failed or cancelled; woken by NOTIFY, not polling.

        Raises :class:`~anclax_fast.errors.WaitTimeout` after ``timeout`` seconds. Cancelling the
        awaiting coroutine stops the wait.
        """
        await self._core.wait(self.completions(), task_id, timeout)
        return await self.task(task_id)

    async def cancel(
        self, task_id: int | None = None, *, tags: Sequence[str] | None = None, cascade: bool = True
    ) -> list[int]:
        """Cancel a task or the tasks carrying ``tags``, with their descendants unless
        ``cascade=False``; returns the ids whose cancel took effect (see
        :meth:`anclax_fast.Client.cancel`)."""
        plan = control.cancel_plan(task_id, tags, cascade=cascade)
        async with self.transaction() as tx:
            return await control.drive_async(tx, plan)

    async def pause(
        self,
        *,
        task_ids: Iterable[int] | None = None,
        unique_tag: str | None = None,
        tags: Sequence[str] | None = None,
        task_name: str | None = None,
    ) -> int:
        """Pause tasks or a task name; returns how many tasks changed (see :meth:`anclax_fast.Client.pause`)."""
        selection = control.selector("pause", task_ids=task_ids, unique_tag=unique_tag, tags=tags, task_name=task_name)
        async with self.transaction() as tx:
            return await control.drive_async(tx, control.pause_plan(selection))

    async def resume(
        self,
        *,
        task_ids: Iterable[int] | None = None,
        unique_tag: str | None = None,
        tags: Sequence[str] | None = None,
        task_name: str | None = None,
    ) -> int:
        """Undo :meth:`pause`; returns how many tasks changed (see :meth:`anclax_fast.Client.resume`)."""
        selection = control.selector("resume", task_ids=task_ids, unique_tag=unique_tag, tags=tags, task_name=task_name)
        async with self.transaction() as tx:
            return await control.drive_async(tx, control.resume_plan(selection))

    async def paused_task_names(self) -> list[str]:
        """The task names paused with ``pause(task_name=...)``, sorted."""
        async with self.transaction() as tx:
            return await control.drive_async(tx, control.paused_names_plan())

    async def pause_schedule(self, task_name: str, unique_tag: str | None = None) -> bool:
        """Pause a cron schedule (see :meth:`anclax_fast.Client.pause_schedule`)."""
        async with self.transaction() as tx:
            return await control.drive_async(tx, control.pause_schedule_plan(task_name, unique_tag))

    async def resume_schedule(self, task_name: str, unique_tag: str | None = None) -> bool:
        """Resume a paused cron schedule, skipping missed fires (see :meth:`anclax_fast.Client.resume_schedule`)."""
        async with self.transaction() as tx:
            return await control.drive_async(tx, control.resume_schedule_plan(task_name, unique_tag))

    async def trigger_schedule(self, task_name: str, unique_tag: str | None = None) -> int:
        """Run a schedule's task once now; returns its id (see :meth:`anclax_fast.Client.trigger_schedule`)."""
        async with self.transaction() as tx:
            return await control.drive_async(tx, control.trigger_schedule_plan(task_name, unique_tag))

    async def tasks(
        self, *, status: str | None = None, name: str | None = None, limit: int = 50, before_id: int | None = None
    ) -> list[TaskInfo]:
        """The most recent tasks (highest ids first), optionally filtered by status and name,
        within :data:`anclax_fast.client.LIST_WINDOW` ids below ``before_id`` (see
        :meth:`anclax_fast.Client.tasks`)."""
        newest_sql, list_sql = listing_sql()
        async with self.transaction() as tx:
            start = before_id if before_id is not None else int(await tx.fetchval(newest_sql))
            rows = await tx.fetch(list_sql, status, name, start, limit, LIST_WINDOW)
        return [TaskInfo.from_row(row) for row in rows]

    async def counts_by_status(self, *, exact: bool = False) -> dict[str, int]:
        """How many tasks are in each status (see :meth:`anclax_fast.Client.counts_by_status`:
        final statuses are estimates unless ``exact=True``)."""
        counts: dict[str, int] = dict.fromkeys(("pending", "running", "paused", "completed", "failed", "cancelled"), 0)
        async with self.transaction() as tx:
            rows = await tx.fetch(counts_sql(exact=exact))
        counts.update({row["status"]: int(row["n"]) for row in rows})
        return counts

    async def schedules(self) -> list[ScheduleInfo]:
        """Every cron schedule, with its next fire."""
        rows: list[dict[str, Any]] = await self._core.schedules(self.completions())
        return [
            ScheduleInfo(
                id=row["id"],
                task_name=row["task_name"],
                unique_tag=row["unique_tag"] or None,
                cron_expression=row["cron_expression"],
                params=json.loads(row["payload"]),
                source=row["source"],
                next_fire_at=row["next_fire_at"],
                next_task_id=row["next_task_id"],
                paused=bool(row.get("paused", False)),
            )
            for row in rows
        ]

    async def unschedule(self, task_name: str, unique_tag: str | None = None) -> bool:
        """Remove a cron schedule (its pending next fire is cancelled). False when it did not exist."""
        return bool(await self._core.unschedule(self.completions(), task_name, unique_tag or ""))

    async def register_schedule(
        self, task: TaskDef, payload: bytes, options: ResolvedOptions, *, source: str = "app"
    ) -> int:
        """Register (or update) the schedule of cron task ``task``; returns the task id of its next fire."""
        if task.cron is None:
            raise ConfigurationError(f"{task.name} has no cronjob in its spec")
        task_id: int = await self._core.register_schedule(
            self.completions(), task.name, options.unique_tag or "", task.cron.expression, payload, source, options
        )
        return task_id

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncGenerator[AsyncTx]:
        """A transaction: committed when the block exits normally, rolled back on an exception.

        Pass it to ``run_<task>_with_tx`` of an ``AsyncTaskRunner`` to enqueue atomically with
        your own writes.
        """
        tx: AsyncTx = await self._core.begin(self.completions())
        try:
            yield tx
        except BaseException:
            await tx._finish(False)
            raise
        await tx._finish(True)

    async def close(self) -> None:
        """Close the pool's connections. The client cannot be used afterwards.

        Loops keep watching their completion sockets until they close, so that operations still
        in flight elsewhere get their (failed) results instead of hanging.
        """
        self._core.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def __repr__(self) -> str:
        return f"AsyncClient(dsn={self.dsn!r})"
