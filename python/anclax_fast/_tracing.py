"""Where a tracing integration (``anclax_fast.otel``) plugs in, without the package importing it.

Two places: around each enqueue (a span whose propagation headers are stored on the task rows,
``anclax.tasks.headers``), and around each executor method a worker calls (the attempt's span,
which reads those headers back). With nothing installed, an enqueue pays one ``with`` of a
do-nothing object and workers call executor methods unwrapped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Protocol

__all__ = ["EnqueueTrace", "Tracer", "enqueue_trace", "install", "installed"]

HeadersOf = Callable[[int], Mapping[str, str]]
"""The headers stored on a task, by id (a blocking lookup, for sync executor methods)."""
AsyncHeadersOf = Callable[[int], Awaitable[Mapping[str, str]]]
"""The same lookup for ``async def`` executor methods."""


class EnqueueTrace(Protocol):
    """One enqueue (of one task or a batch) being traced."""

    @property
    def headers(self) -> str | None:
        """What to store on the task rows: a JSON object of strings, or None."""
        ...

    def record(self, task_ids: Sequence[int]) -> None:
        """The ids the enqueue produced."""
        ...

    def __enter__(self) -> EnqueueTrace: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class Tracer(Protocol):
    def enqueue(self, task_name: str, payloads: Sequence[bytes]) -> EnqueueTrace:
        """A trace of one enqueue, entered around the database call."""
        ...

    def wrap_sync(
        self, task_name: str, execute: Callable[[Any, Any], Any], headers_of: HeadersOf
    ) -> Callable[..., Any]:
        """``execute`` (a plain executor method) with each call traced as one attempt."""
        ...

    def wrap_async(
        self, task_name: str, execute: Callable[[Any, Any], Awaitable[Any]], headers_of: AsyncHeadersOf
    ) -> Callable[..., Awaitable[Any]]:
        """The same for an ``async def`` executor method; the result is an ``async def`` too."""
        ...


class _NoTrace:
    headers = None

    def record(self, task_ids: Sequence[int]) -> None:
        pass

    def __enter__(self) -> _NoTrace:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pass


_NO_TRACE = _NoTrace()
_tracer: Tracer | None = None


def install(tracer: Tracer | None) -> None:
    """Trace from now on with ``tracer`` (None: stop). Workers created earlier keep their methods."""
    global _tracer  # noqa: PLW0603 - one process-wide switch, like OpenTelemetry's own providers
    _tracer = tracer


def installed() -> Tracer | None:
    return _tracer


def enqueue_trace(task_name: str, payloads: Sequence[bytes]) -> EnqueueTrace:
    return _NO_TRACE if _tracer is None else _tracer.enqueue(task_name, payloads)
