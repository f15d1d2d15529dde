# pyright: reportMissingModuleSource=false
# (Django 6 runs in its own environment; linting sees django-stubs only.)
"""Running Django tasks on an anclax worker: find them, describe them as a spec, call them.

Tasks are found by importing each installed app's ``tasks`` module (as the admin finds
``admin`` modules) and taking the module-level ``django.tasks.Task`` objects of this backend.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.db import close_old_connections, connections
from django.tasks import Task, TaskContext, TaskResult, task_backends
from django.tasks.signals import task_finished, task_started
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from anclax_fast._core import TaskContext as AttemptContext
from anclax_fast.client import Client
from anclax_fast.django.backend import FAILED, RUNNING, SUCCESSFUL, AnclaxBackend, database_dsn
from anclax_fast.django.calls import DjangoTaskCall, labels_for_queue
from anclax_fast.errors import ConfigurationError
from anclax_fast.naming import snake_case
from anclax_fast.spec import Spec
from anclax_fast.worker import Worker

if TYPE_CHECKING:
    from anclax_fast.django.backend import AnyResult, AnyTask

__all__ = ["DjangoExecutor", "backend", "database_dsn", "discover_tasks", "make_worker"]


def backend(alias: str) -> AnclaxBackend:
    found = task_backends[alias]
    if not isinstance(found, AnclaxBackend):
        raise ConfigurationError(f"TASKS[{alias!r}] is {type(found).__name__}, not anclax_fast.django.AnclaxBackend")
    return found


def discover_tasks(alias: str, modules: Iterable[str] = ()) -> list[AnyTask]:
    """The tasks of backend ``alias`` defined at module level in the installed apps' ``tasks``
    modules and in ``modules``, by module path."""
    autodiscover_modules("tasks")
    for path in modules:
        __import__(path)
    found: dict[str, AnyTask] = {}
    for module_name, module in list(sys.modules.items()):
        if module_name.split(".")[-1] != "tasks" and module_name not in modules:
            continue
        for value in vars(module).values():
            if isinstance(value, Task) and value.backend == alias:
                found[value.module_path] = value
    return [found[path] for path in sorted(found)]


class DjangoExecutor:
    """Executor methods (``execute_<snake name>``) calling the Django tasks, with a
    ``TaskResult`` as Django's own backends build it (for ``takes_context`` tasks and the
    ``task_started``/``task_finished`` signals)."""

    def __init__(self, tasks: Sequence[AnyTask], alias: str, worker_name: str) -> None:
        self._alias = alias
        self._worker_name = worker_name
        self._methods: dict[str, Callable[..., Any]] = {}
        for task in tasks:
            method = f"execute_{snake_case(task.module_path)}"
            if method in self._methods:
                raise ConfigurationError(f"two tasks map onto {method}; rename one of them ({task.module_path})")
            self._methods[method] = (
                self._async_method(task) if inspect.iscoroutinefunction(task.func) else self._method(task)
            )

    def __getattr__(self, name: str) -> Callable[..., Any]:
        try:
            return self._methods[name]
        except KeyError:
            raise AttributeError(name) from None

    def _result(self, task: AnyTask, ctx: AttemptContext, call: DjangoTaskCall) -> AnyResult:
        now = timezone.now()
        result: AnyResult = TaskResult(
            task=task,
            id=str(ctx.task_id),
            status=RUNNING,
            enqueued_at=None,
            started_at=now,
            finished_at=None,
            last_attempted_at=now,
            args=call.args,
            kwargs=call.kwargs,
            backend=self._alias,
            errors=[],
            worker_ids=[self._worker_name] * ctx.attempt,
        )
        return result

    def _arguments(self, task: AnyTask, result: AnyResult) -> tuple[list[Any], dict[str, Any]]:
        args = [TaskContext(task_result=result), *result.args] if task.takes_context else list(result.args)
        return args, result.kwargs

    def _finished(self, result: AnyResult, error: BaseException | None) -> None:
        object.__setattr__(result, "finished_at", timezone.now())
        status = SUCCESSFUL if error is None else FAILED
        object.__setattr__(result, "status", status)
        task_finished.send(AnclaxBackend, task_result=result)

    def _method(self, task: AnyTask) -> Callable[[AttemptContext, DjangoTaskCall], None]:
        def execute(ctx: AttemptContext, call: DjangoTaskCall) -> None:
            close_old_connections()
            result = self._result(task, ctx, call)
            task_started.send(AnclaxBackend, task_result=result)
            args, kwargs = self._arguments(task, result)
            try:
                task.func(*args, **kwargs)
            except BaseException as error:
                self._finished(result, error)
                raise
            finally:
                close_old_connections()
            self._finished(result, None)

        return execute

    def _async_method(self, task: AnyTask) -> Callable[[AttemptContext, DjangoTaskCall], Awaitable[None]]:
        async def execute(ctx: AttemptContext, call: DjangoTaskCall) -> None:
            result = self._result(task, ctx, call)
            args, kwargs = self._arguments(task, result)
            try:
                await task.func(*args, **kwargs)
            except BaseException as error:
                self._finished(result, error)
                raise
            self._finished(result, None)

        return execute


def make_worker(
    alias: str = "default", *, queues: Sequence[str] = (), modules: Iterable[str] = (), **options: Any
) -> Worker:
    """An anclax worker for the Django tasks of backend ``alias``, serving the ``default`` queue
    and ``queues``. ``options`` are :class:`anclax_fast.Worker`'s."""
    tasks = discover_tasks(alias, modules)
    if not tasks:
        raise ConfigurationError(f"no tasks of the {alias!r} backend found in the installed apps' tasks modules")
    anclax = backend(alias)
    spec = Spec(
        source=f"django TASKS[{alias!r}]",
        tasks=tuple(anclax.settings.task_def(task.module_path) for task in tasks),
        models={task.module_path: DjangoTaskCall for task in tasks},
    )
    labels = [label for queue in queues for label in labels_for_queue(queue)]
    client = Client(database_dsn(anclax.database))
    executor = DjangoExecutor(tasks, alias, worker_name=f"anclax:{connections[anclax.database].alias}")
    return Worker(client, executor, spec, labels=labels, **options)
