"""``Worker``: runs an executor's tasks from the queue on Rust-owned threads.

The worker resolves, once at start, which executor method serves each task of the spec
(``execute_<task>``, and ``on_<task>_failed`` for tasks with ``onFailed``) and refuses to start
when one is missing, rather than failing tasks later.
"""

from __future__ import annotations

import inspect
import json
import signal
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from types import FrameType, TracebackType
from typing import Any

from pydantic import ValidationError

from anclax_fast._async_bridge import AsyncBridge
from anclax_fast._core import WorkerCore
from anclax_fast._tracing import installed as installed_tracer
from anclax_fast.async_client import AsyncClient
from anclax_fast.client import Client
from anclax_fast.errors import ConfigurationError, ExecutorIncomplete, WorkerFailed
from anclax_fast.naming import snake_case
from anclax_fast.runner import resolve_options
from anclax_fast.spec import Spec, TaskDef

__all__ = [
    "DEFAULT_ASYNC_CONCURRENCY",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_LEASE_TTL",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_SHUTDOWN_GRACE",
    "Worker",
]

DEFAULT_CONCURRENCY = 16
DEFAULT_ASYNC_CONCURRENCY = 1000
DEFAULT_LEASE_TTL = 30.0
DEFAULT_POLL_INTERVAL = 1.0
DEFAULT_SHUTDOWN_GRACE = 20.0
DEFAULT_TIMEOUT_GRACE = 10.0
DEFAULT_RETENTION_COMPLETED: timedelta | None = timedelta(days=1)
DEFAULT_RETENTION_FAILED: timedelta | None = timedelta(days=7)
DEFAULT_MAINTENANCE_INTERVAL = 30.0

Seconds = float | timedelta


def _seconds(name: str, value: Seconds) -> float:
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise ConfigurationError(f"{name} must not be negative, got {value!r}")
    return seconds


# What ${fireTime} / ${fireDate} stand for when checking that spec parameters validate.
_SAMPLE_FIRE = {"${fireTime}": "2000-01-01T00:00:00Z", "${fireDate}": "2000-01-01"}


def spec_schedule_payload(task: TaskDef, spec: Spec) -> bytes | None:
    """The parameters template of a cron task that starts from the spec, or None when the
    application starts it (its ``cronjob.parameters`` do not give every required parameter)."""
    if task.cron is None:
        return None
    template = json.dumps(dict(task.cron.parameters or {}), separators=(",", ":"))
    sample = template
    for placeholder, value in _SAMPLE_FIRE.items():
        sample = sample.replace(placeholder, value)
    model = spec.models.get(task.name)
    if model is None:
        return None
    try:
        model.model_validate_json(sample)
    except ValidationError:
        return None
    return template.encode()


Handler = tuple[Callable[..., Any], Callable[..., Any], bool, Callable[..., Any] | None]


def resolve_handlers(executor: object, spec: Spec, task_names: Sequence[str] | None) -> dict[str, Handler]:
    """``{task name: (execute, validate_json, is_async, hook)}``; raises when methods are missing."""
    tasks: list[TaskDef] = list(spec.tasks)
    if task_names is not None:
        unknown = sorted(set(task_names) - {t.name for t in tasks})
        if unknown:
            raise ConfigurationError(f"tasks {unknown} are not in the spec {spec.source}")
        tasks = [t for t in tasks if t.name in task_names]
    handlers: dict[str, Handler] = {}
    missing: list[str] = []
    for task in tasks:
        snake = snake_case(task.name)
        execute = getattr(executor, f"execute_{snake}", None)
        if not callable(execute):
            missing.append(f"execute_{snake}")
            continue
        hook = None
        if task.on_failed:
            hook = getattr(executor, f"on_{snake}_failed", None)
            if not callable(hook):
                missing.append(f"on_{snake}_failed")
                continue
            if inspect.iscoroutinefunction(hook):
                raise ConfigurationError(
                    f"on_{snake}_failed must be a plain `def`: failure hooks run inside the failing "
                    "database transaction, on an executor thread"
                )
        model = spec.models.get(task.name)
        if model is None:
            raise ConfigurationError(f"the spec has no parameter model for task {task.name!r}")
        handlers[task.name] = (execute, model.model_validate_json, inspect.iscoroutinefunction(execute), hook)
    if missing:
        raise ExecutorIncomplete(
            f"{type(executor).__name__} lacks {', '.join(missing)} for tasks of {spec.source}; implement them, "
            "or serve only some tasks (Worker(tasks=[...]), anclax-fast worker --tasks a,b)"
        )
    return handlers


def traced_handlers(handlers: dict[str, Handler], client: Client) -> dict[str, Handler]:
    """The executor methods wrapped by the installed tracer (``anclax_fast.otel``), if any: each
    call becomes an attempt span, which reads the task's propagation headers back first."""
    tracer = installed_tracer()
    if tracer is None:
        return handlers

    def headers_of(task_id: int) -> Mapping[str, str]:
        return dict(client.core.task(task_id).get("headers") or {})

    lookups: list[AsyncClient] = []

    async def async_headers_of(task_id: int) -> Mapping[str, str]:
        # A small client of its own, created on the worker's asyncio loop at the first attempt.
        if not lookups:
            lookups.append(AsyncClient(client.dsn_secret, pool_size=2))
        row = await lookups[0].core.task(lookups[0].completions(), task_id)
        return dict(row.get("headers") or {})

    wrapped: dict[str, Handler] = {}
    for name, (execute, validate, is_async, hook) in handlers.items():
        if is_async:
            traced = tracer.wrap_async(name, execute, async_headers_of)
        else:
            traced = tracer.wrap_sync(name, execute, headers_of)
        wrapped[name] = (traced, validate, is_async, hook)
    return wrapped


class Worker:
    """Claims and runs tasks of ``spec`` with ``executor``'s methods.

    ``concurrency`` executor threads run sync methods; ``async def`` methods run on one asyncio
    loop, up to ``async_concurrency`` at a time. Durations are seconds or timedeltas.
    """

    def __init__(
        self,
        client: Client,
        executor: object,
        spec: Spec,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        async_concurrency: int = DEFAULT_ASYNC_CONCURRENCY,
        labels: Sequence[str] = (),
        tasks: Sequence[str] | None = None,
        lease_ttl: Seconds = DEFAULT_LEASE_TTL,
        poll_interval: Seconds = DEFAULT_POLL_INTERVAL,
        shutdown_grace: Seconds = DEFAULT_SHUTDOWN_GRACE,
        timeout_grace: Seconds = DEFAULT_TIMEOUT_GRACE,
        retention_completed: Seconds | None = DEFAULT_RETENTION_COMPLETED,
        retention_failed: Seconds | None = DEFAULT_RETENTION_FAILED,
        maintenance_interval: Seconds = DEFAULT_MAINTENANCE_INTERVAL,
        pool_size: int | None = None,
        auto_migrate: bool = True,
    ) -> None:
        if isinstance(labels, str):
            raise ConfigurationError(f"labels must be a sequence of strings, not the string {labels!r}")
        self.client = client
        self.executor = executor
        self.spec = spec
        handlers = traced_handlers(resolve_handlers(executor, spec, tasks), client)
        self._served = frozenset(handlers)
        has_async = any(entry[2] for entry in handlers.values())
        self._core = WorkerCore(
            client.dsn_secret,
            handlers,
            bridge_factory=AsyncBridge if has_async else None,
            concurrency=concurrency,
            async_concurrency=async_concurrency,
            labels=list(labels),
            task_names=None if tasks is None else list(tasks),
            lease_ttl=_seconds("lease_ttl", lease_ttl),
            poll_interval=_seconds("poll_interval", poll_interval),
            shutdown_grace=_seconds("shutdown_grace", shutdown_grace),
            timeout_grace=_seconds("timeout_grace", timeout_grace),
            retention_completed=None if retention_completed is None else _seconds("retention", retention_completed),
            retention_failed=None if retention_failed is None else _seconds("retention", retention_failed),
            maintenance_interval=_seconds("maintenance_interval", maintenance_interval),
            pool_size=pool_size if pool_size is not None else 4 + (1 if has_async else 0),
            auto_migrate=auto_migrate,
            hostname=socket.gethostname(),
        )
        self._stop_requested = threading.Event()
        self._stopped = threading.Event()
        self._lock = threading.Lock()

    @property
    def worker_id(self) -> int | None:
        return self._core.worker_id

    @property
    def running(self) -> bool:
        return self._core.running

    @property
    def failure(self) -> str | None:
        """Why the worker's engine cannot go on (one of its loops panicked or ended), or None.
        :meth:`run` stops the worker and raises :class:`~anclax_fast.WorkerFailed` when it is set."""
        return self._core.failure

    def stats(self) -> dict[str, int]:
        """Counters since start (claimed, completed, retried, failed, ...) and ``in_flight``."""
        return self._core.stats()

    def metrics(self) -> dict[str, Any]:
        """Per-task-name counters and attempt-duration histograms, the claim-batch histogram and
        gauges (see :mod:`anclax_fast.metrics`, which exports them for Prometheus)."""
        return self._core.metrics()

    def start(self) -> None:
        """Connect, migrate the schema (unless ``auto_migrate=False``), register, start working,
        and start the cron schedules the spec fully defines."""
        self._core.start()
        self._stopped.clear()
        try:
            self._start_spec_schedules()
        except BaseException:
            self._core.stop(0.0)
            raise

    def _start_spec_schedules(self) -> None:
        for task in self.spec.tasks:
            if task.name not in self._served:
                continue
            payload = spec_schedule_payload(task, self.spec)
            if payload is not None:
                self.client.register_schedule(task, payload, resolve_options(task, {}), source="spec")

    def stop(self, timeout: float | None = None) -> None:
        """Stop gracefully: claim nothing new, let running attempts finish within ``timeout``
        (default: ``shutdown_grace``), hand the rest back to the queue, and leave the fleet."""
        self._stop_requested.set()
        with self._lock:
            self._core.stop(timeout)
            self._stopped.set()

    def run(self) -> None:
        """Start and block until :meth:`stop` is called or, in the main thread, SIGTERM/SIGINT arrives."""
        self._stop_requested.clear()
        if not self.running:
            self.start()
        restore = self._install_signal_handlers()
        failure: str | None = None
        try:
            while not self._stop_requested.wait(0.25):
                failure = self.failure
                if failure is not None:
                    break
        finally:
            try:
                self.stop()
            finally:
                for signum, handler in restore:
                    signal.signal(signum, handler)
        if failure is not None:
            raise WorkerFailed(failure)

    def _install_signal_handlers(self) -> list[tuple[int, Any]]:
        if threading.current_thread() is not threading.main_thread():
            return []
        restore: list[tuple[int, Any]] = []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            self._stop_requested.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            restore.append((signum, signal.signal(signum, on_signal)))
        return restore

    def __enter__(self) -> Worker:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
