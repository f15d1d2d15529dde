# pyright: reportMissingModuleSource=false
# (Django 6 runs in its own environment; linting sees django-stubs only.)
"""``AnclaxBackend``: Django's task framework (``django.tasks``) on anclax.

``task.enqueue(...)`` writes the anclax task through Django's own database connection, so inside
``transaction.atomic()`` the task commits or rolls back with the block. The ``anclax_worker``
management command runs the tasks. ``get_result()`` reads the task row and its events back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.tasks import Task, TaskResult, TaskResultStatus
from django.tasks.backends.base import BaseTaskBackend
from django.tasks.base import TaskError
from django.tasks.exceptions import TaskResultDoesNotExist
from django.tasks.signals import task_enqueued
from django.utils import timezone
from django.utils.module_loading import import_string
from typing_extensions import ParamSpec, TypeVar

from anclax_fast.client import Client
from anclax_fast.django.calls import DjangoTaskCall, TaskSettings, enqueue_options
from anclax_fast.errors import ConfigurationError
from anclax_fast.runner import enqueue_through, resolve_options

__all__ = ["FAILED", "READY", "RUNNING", "SUCCESSFUL", "AnclaxBackend", "database_dsn"]

if TYPE_CHECKING:
    # Generic in django-stubs only, not at run time.
    from typing import TypeAlias

    AnyTask: TypeAlias = Task[..., Any]
    AnyResult: TypeAlias = TaskResult[..., Any]
# (By value: the stubs declare the members without their types.)
READY = TaskResultStatus("READY")
RUNNING = TaskResultStatus("RUNNING")
SUCCESSFUL = TaskResultStatus("SUCCESSFUL")
FAILED = TaskResultStatus("FAILED")
_P = ParamSpec("_P")
_R = TypeVar("_R")
_STATUSES = {"pending": READY, "running": RUNNING, "completed": SUCCESSFUL, "failed": FAILED, "cancelled": FAILED}

_TASK_SQL = """
SELECT name, status, payload::text, attempts, worker_id, started_at, finished_at, created_at
FROM anclax.tasks WHERE id = %s
"""
_ERRORS_SQL = """
SELECT attempt, traceback, message, worker_id FROM anclax.events
WHERE task_id = %s AND kind = 'TaskError' ORDER BY id
"""


def database_dsn(alias: str) -> str:
    """A libpq URL for Django's database ``alias`` (the worker's own connections)."""
    db = settings.DATABASES[alias]
    if db.get("ENGINE") != "django.db.backends.postgresql":
        raise ConfigurationError(f"DATABASES[{alias!r}] is not PostgreSQL ({db.get('ENGINE')})")
    user = quote(str(db.get("USER") or ""), safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{credentials}{host}{port}/{quote(str(db['NAME']), safe='')}"


class AnclaxBackend(BaseTaskBackend):
    """``TASKS = {"default": {"BACKEND": "anclax_fast.django.AnclaxBackend", "OPTIONS": {...}}}``

    ``OPTIONS``: ``DATABASE`` (the Django database alias holding the ``anclax`` schema, default
    ``"default"``), ``ENQUEUE_ON_COMMIT`` (default False: enqueue in the current transaction;
    True: wait for the ``atomic()`` block to commit, as brokers outside the database must),
    ``RETRY`` (``{"interval": "30s", "max_attempts": 3}``; default one attempt), ``TIMEOUT``
    (``"10m"``; default 1h). Priorities -100..100 become anclax priorities 0..200; a queue other
    than ``default`` becomes a label (``anclax_worker --queue NAME`` serves it); ``run_after``
    becomes ``run_at``.
    """

    supports_defer = True
    supports_async_task = True
    supports_get_result = True
    supports_priority = True

    def __init__(self, alias: str, params: dict[str, Any]) -> None:
        super().__init__(alias, params)
        options: Mapping[str, Any] = self.options
        self.database: str = options.get("DATABASE", DEFAULT_DB_ALIAS)
        self.enqueue_on_commit = bool(options.get("ENQUEUE_ON_COMMIT", False))
        self.settings = TaskSettings(options)
        self._lanes: Client | None = None

    def enqueue(self, task: Task[_P, _R], args: list[Any], kwargs: dict[str, Any]) -> TaskResult[_P, _R]:
        self.validate_task(task)
        result: TaskResult[_P, _R] = TaskResult(
            task=task,
            id="",
            status=READY,
            enqueued_at=None,
            started_at=None,
            finished_at=None,
            last_attempted_at=None,
            args=list(args),
            kwargs=dict(kwargs),
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        if self.enqueue_on_commit and connections[self.database].in_atomic_block:
            # The result gets its id when the block commits (and none if it rolls back).
            transaction.on_commit(lambda: self._insert(result), using=self.database)
        else:
            self._insert(result)
        return result

    def _insert(self, result: AnyResult) -> None:
        task = result.task
        definition = self.settings.task_def(task.module_path)
        options = enqueue_options(task.priority, task.queue_name, task.run_after)
        lane = resolve_options(definition, options)
        self._ensure_lane(definition.name, lane.labels, lane.priority)
        task_id = enqueue_through(
            connections[self.database],
            definition,
            DjangoTaskCall(args=result.args, kwargs=result.kwargs),
            **options,
        )
        object.__setattr__(result, "id", str(task_id))
        object.__setattr__(result, "enqueued_at", timezone.now())
        task_enqueued.send(type(self), task_result=result)

    def _ensure_lane(self, name: str, labels: list[str], priority: int) -> None:
        # A lane first used inside the caller's transaction would make other enqueues into it wait
        # for that transaction: create it outside, on a connection of anclax's own.
        if self._lanes is None:
            self._lanes = Client(database_dsn(self.database), pool_size=1)
        self._lanes.core.ensure_lane(name, labels, priority)

    def get_result(self, result_id: str) -> AnyResult:
        try:
            task_id = int(result_id)
        except ValueError:
            raise TaskResultDoesNotExist(result_id) from None
        cursor: Any = connections[self.database].cursor()
        with cursor:
            cursor.execute(_TASK_SQL, [task_id])
            row = cursor.fetchone()
            if row is None:
                raise TaskResultDoesNotExist(result_id)
            cursor.execute(_ERRORS_SQL, [task_id])
            failures = cursor.fetchall()
        return self._result(task_id, row, failures)

    def _result(self, task_id: int, row: Sequence[Any], failures: Sequence[Sequence[Any]]) -> AnyResult:
        name, status, payload, attempts, worker_id, started_at, finished_at, created_at = row
        try:
            task: object = import_string(name)
        except ImportError as err:
            raise TaskResultDoesNotExist(f"{task_id}: task {name!r} cannot be imported ({err})") from err
        if not isinstance(task, Task):
            raise TaskResultDoesNotExist(f"{task_id}: {name!r} is not a Django task")
        call = DjangoTaskCall.model_validate_json(payload)
        workers = {attempt: str(worker) for attempt, _, _, worker in failures}
        result: AnyResult = TaskResult(
            task=cast("AnyTask", task),
            id=str(task_id),
            status=_STATUSES[status],
            enqueued_at=created_at,
            started_at=started_at,
            finished_at=finished_at,
            last_attempted_at=started_at,
            args=call.args,
            kwargs=call.kwargs,
            backend=self.alias,
            errors=[_error(traceback, message) for _, traceback, message, _ in failures],
            worker_ids=[workers.get(attempt, str(worker_id)) for attempt in range(1, attempts + 1)],
        )
        # anclax keeps no return values (yet): a successful task's is None.
        return result


def _error(traceback: str | None, message: str) -> TaskError:
    """Django wants the exception's import path; the traceback's last line names it
    (``module.Class: text``, or just ``Class: text`` for builtins)."""
    last = (traceback or message).rstrip().splitlines()[-1] if (traceback or message) else ""
    name = last.split(":", 1)[0].strip() or "Exception"
    return TaskError(exception_class_path=name if "." in name else f"builtins.{name}", traceback=traceback or message)
