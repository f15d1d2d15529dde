"""``Client``: enqueue, inspect, wait for and cancel tasks, over a Rust-side connection pool."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Generator, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING

from typing_extensions import LiteralString

from anclax_fast import bulk, control
from anclax_fast._core import ClientCore, Tx, redact_dsn
from anclax_fast.errors import ConfigurationError
from anclax_fast.filters import TaskFilter
from anclax_fast.records import ScheduleInfo, TaskEvent, TaskInfo

if TYPE_CHECKING:
    from anclax_fast.runner import ResolvedOptions
    from anclax_fast.spec import TaskDef

__all__ = ["DEFAULT_POOL_SIZE", "LIST_WINDOW", "Client", "resolve_dsn"]

DEFAULT_POOL_SIZE = 8

# Newest first along the primary key, within a window of ids below the starting point, so that a
# filter that matches little (a rare name or status) costs a bounded walk, not the whole table.
_LIST_TASKS_SQL = """
SELECT id, name, status, payload::text, priority, run_at, attempts, max_attempts, retry_intervals_ms, timeout_ms,
       labels, unique_tag, parent_id, schedule_id, fire_at, worker_id, cancel_requested, started_at, deadline_at,
       finished_at, last_error, created_at, headers
FROM anclax.tasks
WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR name = $2)
  AND id < $3::bigint AND id >= $3::bigint - $5::bigint
ORDER BY id DESC
LIMIT $4
"""

# How many ids below its starting point one listing looks at (see Client.tasks).
LIST_WINDOW = 100_000
_NEWEST_SQL = "SELECT coalesce(max(id), 0) + 1 FROM anclax.tasks"

# Pending, running and paused through the partial indexes that hold only those rows (tasks_lane_idx,
# tasks_running_idx, tasks_paused_idx); the final statuses from the planner's statistics of the status column.
_COUNTS_SQL: LiteralString = """
SELECT 'pending' AS status, count(*) AS n FROM anclax.tasks WHERE status = 'pending'
UNION ALL
SELECT 'running', count(*) FROM anclax.tasks WHERE status = 'running' AND worker_id IS NOT NULL
UNION ALL
SELECT 'paused', count(*) FROM anclax.tasks WHERE status = 'paused'
UNION ALL
SELECT s.status, (f.freq * greatest(c.reltuples, 0))::bigint
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace AND n.nspname = 'anclax'
JOIN pg_stats AS st ON st.schemaname = 'anclax' AND st.tablename = 'tasks' AND st.attname = 'status'
CROSS JOIN LATERAL unnest(st.most_common_vals::text::text[], st.most_common_freqs) AS f(status, freq)
JOIN (VALUES ('completed'), ('failed'), ('cancelled')) AS s(status) ON s.status = f.status
WHERE c.relname = 'tasks'
"""

_EXACT_COUNTS_SQL: LiteralString = "SELECT status, count(*) AS n FROM anclax.tasks GROUP BY status"


def listing_sql() -> tuple[str, str]:
    """The statements of ``tasks()`` (shared with ``AsyncClient``): the id after the newest task,
    and the listing (status, name, starting id, limit, window)."""
    return _NEWEST_SQL, _LIST_TASKS_SQL


def counts_sql(*, exact: bool) -> LiteralString:
    """The statement of ``counts_by_status`` (shared with ``AsyncClient``)."""
    return _EXACT_COUNTS_SQL if exact else _COUNTS_SQL


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
    def dsn_secret(self) -> str:
        """The DSN as given, password included (for the worker's own connections)."""
        return self._dsn

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

    def cancel(
        self, task_id: int | None = None, *, tags: Sequence[str] | None = None, cascade: bool = True
    ) -> list[int]:
        """Cancel a task, or every unfinished task carrying all of ``tags``, and with ``cascade``
        (the default) every descendant (children by ``parent_id``, their children, ...).

        Pending or paused: cancelled now. Running: ``ctx.cancelled`` turns true and the attempt
        ends ``cancelled`` when it returns. Final tasks are left alone. Returns the ids whose
        cancel took effect, in id order: empty (falsy) when everything was already final.
        Raises :class:`~anclax_fast.errors.TaskNotFound` for an unknown id.
        """
        with self.transaction() as tx:
            return control.drive(tx, control.cancel_plan(task_id, tags, cascade=cascade))

    def pause(
        self,
        *,
        task_ids: Iterable[int] | None = None,
        unique_tag: str | None = None,
        tags: Sequence[str] | None = None,
        task_name: str | None = None,
    ) -> int:
        """Pause tasks: by id, by unique tag, by tags (tasks carrying all of them), or a whole
        task name (exactly one of these). Pending tasks become ``paused`` and are not claimed;
        running ones finish their attempt, then become ``paused`` instead of retrying (a success
        or a final failure stands). A paused task name also makes every new task of that name
        start ``paused``, until :meth:`resume`.

        Returns how many tasks changed. An unknown id or unique tag raises
        :class:`~anclax_fast.errors.TaskNotFound` and changes nothing; tags or a name that match
        no task change nothing and return 0 (a name is paused all the same).
        """
        selection = control.selector("pause", task_ids=task_ids, unique_tag=unique_tag, tags=tags, task_name=task_name)
        with self.transaction() as tx:
            return control.drive(tx, control.pause_plan(selection))

    def resume(
        self,
        *,
        task_ids: Iterable[int] | None = None,
        unique_tag: str | None = None,
        tags: Sequence[str] | None = None,
        task_name: str | None = None,
    ) -> int:
        """Undo :meth:`pause` (same selectors): paused tasks become ``pending`` (due at their
        ``run_at``, now if that passed) and workers are woken; running tasks lose their pause
        request; a task name stops being paused. Returns how many tasks changed."""
        selection = control.selector("resume", task_ids=task_ids, unique_tag=unique_tag, tags=tags, task_name=task_name)
        with self.transaction() as tx:
            return control.drive(tx, control.resume_plan(selection))

    def paused_task_names(self) -> list[str]:
        """The task names paused with ``pause(task_name=...)``, sorted."""
        with self.transaction() as tx:
            return control.drive(tx, control.paused_names_plan())

    def tasks(
        self, *, status: str | None = None, name: str | None = None, limit: int = 50, before_id: int | None = None
    ) -> list[TaskInfo]:
        """The most recent tasks (highest ids first), optionally filtered by status and name.

        Looks at the :data:`LIST_WINDOW` (100,000) ids below ``before_id`` (default: the newest
        task) at most, so that a filter matching little stays cheap on a big table; when fewer
        than ``limit`` tasks come back, page further back with ``before_id=`` the lowest id looked
        at, ``(before_id or newest) - LIST_WINDOW``.
        """
        with self.transaction() as tx:
            start = before_id if before_id is not None else int(tx.fetchval(_NEWEST_SQL))
            rows = tx.fetch(_LIST_TASKS_SQL, status, name, start, limit, LIST_WINDOW)
        return [TaskInfo.from_row(row) for row in rows]

    def counts_by_status(self, *, exact: bool = False) -> dict[str, int]:
        """How many tasks are in each status.

        ``pending`` and ``running`` are exact (counted through their partial indexes: the cost
        grows with the backlog and the tasks in flight, not with the table). ``completed``,
        ``failed`` and ``cancelled`` are the planner's estimates, as of the table's last
        ``ANALYZE`` (autovacuum keeps them current), unless ``exact=True``, which counts every
        row: a scan of the whole table, for scripts, not for dashboards or metrics scrapes.
        """
        counts: dict[str, int] = dict.fromkeys(("pending", "running", "paused", "completed", "failed", "cancelled"), 0)
        with self.transaction() as tx:
            rows = tx.fetch(counts_sql(exact=exact))
        counts.update({row["status"]: int(row["n"]) for row in rows})
        return counts

    def retry(self, target: Iterable[int] | TaskFilter, *, dry_run: bool = False, actor: str | None = None) -> int:
        """Send failed or cancelled tasks back to the queue: the tasks with these ids, or every one
        matching a :class:`~anclax_fast.filters.TaskFilter`. Other statuses are left alone.

        Each becomes ``pending``, due now, with a fresh attempt budget (as many attempts again as
        it had), and gets a ``TaskRetried`` event naming ``actor`` (default ``user@host``).
        Returns how many tasks were retried; with ``dry_run``, how many would be, changing nothing.
        Large selections go in batches of 1,000, each its own transaction.
        """
        if dry_run:
            return bulk.count(self, bulk.RETRY, target)
        return bulk.run(self, bulk.RETRY, target, actor=actor)

    def schedules(self) -> list[ScheduleInfo]:
        """Every cron schedule (from specs and from ``run_<task>``), with its next fire."""
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
            for row in self._core.schedules()
        ]

    def pause_schedule(self, task_name: str, unique_tag: str | None = None) -> bool:
        """Pause a cron schedule: the scheduler skips it and its next fire waits ``paused``.
        False when it was paused already; :class:`~anclax_fast.errors.ScheduleNotFound` when it
        does not exist."""
        with self.transaction() as tx:
            return control.drive(tx, control.pause_schedule_plan(task_name, unique_tag))

    def resume_schedule(self, task_name: str, unique_tag: str | None = None) -> bool:
        """Resume a paused cron schedule. Fires whose time passed while it was paused are skipped,
        not caught up: the schedule continues at its first fire time after now. False when it
        was not paused."""
        with self.transaction() as tx:
            return control.drive(tx, control.resume_schedule_plan(task_name, unique_tag))

    def trigger_schedule(self, task_name: str, unique_tag: str | None = None) -> int:
        """Run a schedule's task once now, outside its cron times (paused or not); returns the
        new task's id. The schedule's own fire times are untouched."""
        with self.transaction() as tx:
            return control.drive(tx, control.trigger_schedule_plan(task_name, unique_tag))

    def unschedule(self, task_name: str, unique_tag: str | None = None) -> bool:
        """Remove a cron schedule (its pending next fire is cancelled). False when it did not exist.

        A schedule from the spec comes back when a worker serving that spec starts again.
        """
        return self._core.unschedule(task_name, unique_tag or "")

    def register_schedule(self, task: TaskDef, payload: bytes, options: ResolvedOptions, *, source: str = "app") -> int:
        """Register (or update) the schedule of cron task ``task``; returns the task id of its next fire.

        Called by ``run_<task>(params)`` for cron tasks, and by workers for spec schedules.
        """
        if task.cron is None:
            raise ConfigurationError(f"{task.name} has no cronjob in its spec")
        return self._core.register_schedule(
            task.name, options.unique_tag or "", task.cron.expression, payload, source, options
        )

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
