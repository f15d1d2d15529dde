"""OpenTelemetry traces of enqueues and attempts (the ``anclax-fast[otel]`` extra).

Call :func:`instrument` once at start-up, in the processes that enqueue and in those that run
workers (before the workers are created):

- each enqueue is a span ``enqueue <Task>`` (kind PRODUCER); its W3C trace context
  (``traceparent``, and ``tracestate``/``baggage`` when set) is stored on the task, in
  ``anclax.tasks.headers``;
- each attempt is a span ``run <Task>`` (kind CONSUMER). The first attempt is a child of the
  enqueue span, so a request and the work it caused form one trace. A later attempt (a retry, a
  re-run after a lost lease) starts a trace of its own with a span link to the enqueue span:
  a task retried for a day does not stretch one trace over that day;
- attributes: ``anclax.task.name``, ``anclax.task.id``, ``anclax.task.attempt``,
  ``anclax.task.outcome`` (``completed``, ``retried``, ``failed``, ``cancelled``), and the
  messaging conventions (``messaging.system = "anclax"``, ``messaging.destination.name``,
  ``messaging.message.id``, ``messaging.operation.type``). Parameters are not recorded unless
  ``record_parameters=True``: they may hold personal data.

An attempt reads the headers back with one primary-key lookup before it starts. Prometheus
metrics are unaffected.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timezone
from types import TracebackType
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from anclax_fast import _tracing
from anclax_fast._core import TaskContext, __version__
from anclax_fast._tracing import AsyncHeadersOf, HeadersOf
from anclax_fast.errors import FatalTaskError, TaskTimeout

__all__ = ["instrument", "uninstrument"]

SYSTEM = "anclax"


def instrument(*, tracer_provider: trace.TracerProvider | None = None, record_parameters: bool = False) -> None:
    """Trace enqueues and attempts from now on, with ``tracer_provider`` (default: the global one)."""
    tracer = trace.get_tracer("anclax_fast", __version__, tracer_provider)
    _tracing.install(_OpenTelemetry(tracer, record_parameters=record_parameters))


def uninstrument() -> None:
    """Stop tracing new enqueues and new workers."""
    _tracing.install(None)


def _common(operation: str, kind: str, task_name: str) -> dict[str, str]:
    return {
        "messaging.system": SYSTEM,
        "messaging.operation.type": kind,
        "messaging.operation.name": operation,
        "messaging.destination.name": task_name,
        "anclax.task.name": task_name,
    }


class _Enqueue:
    """The span of one enqueue, current while the database call runs."""

    def __init__(self, tracer: trace.Tracer, task_name: str, payloads: Sequence[bytes], record_parameters: bool):
        attributes: dict[str, str | int] = {**_common("enqueue", "send", task_name)}
        if len(payloads) != 1:
            attributes["messaging.batch.message_count"] = len(payloads)
        elif record_parameters:
            attributes["anclax.task.parameters"] = payloads[0].decode()
        self._span = tracer.start_span(f"enqueue {task_name}", kind=SpanKind.PRODUCER, attributes=attributes)
        self._scope = trace.use_span(self._span, end_on_exit=True)
        self.headers: str | None = None

    def __enter__(self) -> _Enqueue:
        self._scope.__enter__()
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        self.headers = json.dumps(carrier, separators=(",", ":")) if carrier else None
        return self

    def record(self, task_ids: Sequence[int]) -> None:
        if len(task_ids) == 1:
            self._span.set_attribute("anclax.task.id", task_ids[0])
            self._span.set_attribute("messaging.message.id", str(task_ids[0]))

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._scope.__exit__(exc_type, exc, tb)


def _outcome(ctx: TaskContext, error: BaseException | None) -> str:
    timed_out = isinstance(error, TaskTimeout) or (ctx.cancelled and datetime.now(timezone.utc) >= ctx.deadline)
    if ctx.cancelled and not timed_out:
        return "cancelled"
    if error is None and not timed_out:
        return "completed"
    attempts_left = ctx.max_attempts == -1 or ctx.attempt < ctx.max_attempts
    return "retried" if attempts_left and not isinstance(error, FatalTaskError) else "failed"


class _Attempt:
    """The span of one attempt: a child of the enqueue span on attempt 1, a linked root after."""

    def __init__(
        self, tracer: trace.Tracer, task_name: str, ctx: TaskContext, headers: Mapping[str, str], parameters: Any
    ) -> None:
        enqueued = trace.get_current_span(propagate.extract(dict(headers))).get_span_context()
        first = ctx.attempt == 1 and enqueued.is_valid
        attributes: dict[str, str | int] = {
            **_common("run", "process", task_name),
            "messaging.message.id": str(ctx.task_id),
            "anclax.task.id": ctx.task_id,
            "anclax.task.attempt": ctx.attempt,
        }
        if parameters is not None:
            attributes["anclax.task.parameters"] = parameters
        self._ctx = ctx
        self._span: Span = tracer.start_span(
            f"run {task_name}",
            # An empty context: the attempt is a root unless it is the enqueue's child.
            context=trace.set_span_in_context(trace.NonRecordingSpan(enqueued)) if first else Context(),
            kind=SpanKind.CONSUMER,
            links=[Link(enqueued)] if enqueued.is_valid and not first else [],
            attributes=attributes,
        )
        self._scope = trace.use_span(
            self._span, end_on_exit=True, record_exception=False, set_status_on_exception=False
        )

    def __enter__(self) -> _Attempt:
        self._scope.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        outcome = _outcome(self._ctx, exc)
        self._span.set_attribute("anclax.task.outcome", outcome)
        if exc is not None and outcome != "cancelled":
            self._span.record_exception(exc)
            self._span.set_attribute("error.type", f"{type(exc).__module__}.{type(exc).__qualname__}")
            self._span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        self._scope.__exit__(exc_type, exc, tb)


class _OpenTelemetry:
    def __init__(self, tracer: trace.Tracer, *, record_parameters: bool) -> None:
        self._tracer = tracer
        self._record_parameters = record_parameters

    def enqueue(self, task_name: str, payloads: Sequence[bytes]) -> _Enqueue:
        return _Enqueue(self._tracer, task_name, payloads, self._record_parameters)

    def _parameters(self, params: Any) -> str | None:
        if not self._record_parameters:
            return None
        dump = getattr(params, "model_dump_json", None)
        return str(dump(by_alias=True)) if callable(dump) else repr(params)

    def wrap_sync(
        self, task_name: str, execute: Callable[[Any, Any], Any], headers_of: HeadersOf
    ) -> Callable[..., Any]:
        def traced(ctx: TaskContext, params: Any) -> Any:
            with _Attempt(self._tracer, task_name, ctx, headers_of(ctx.task_id), self._parameters(params)):
                return execute(ctx, params)

        return traced

    def wrap_async(
        self, task_name: str, execute: Callable[[Any, Any], Awaitable[Any]], headers_of: AsyncHeadersOf
    ) -> Callable[..., Awaitable[Any]]:
        async def traced(ctx: TaskContext, params: Any) -> Any:
            headers = await headers_of(ctx.task_id)
            with _Attempt(self._tracer, task_name, ctx, headers, self._parameters(params)):
                return await execute(ctx, params)

        return traced
