"""OpenTelemetry (``anclax_fast.otel``), checked with the SDK's in-memory exporter: a span per
enqueue and per attempt, the trace context stored on the task, the first attempt a child of the
enqueue, later attempts new traces linked to it, no parameters unless asked for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from anclax_fast import AsyncClient, Client, otel
from tests.support import AsyncRunner, Params, Runner, running_worker

pytestmark = pytest.mark.postgres


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    otel.instrument(tracer_provider=provider)
    try:
        yield spans
    finally:
        otel.uninstrument()
        provider.shutdown()


def named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in spans.get_finished_spans() if span.name == name]


def attribute(span: ReadableSpan, key: str) -> object:
    assert span.attributes is not None
    return span.attributes.get(key)


def test_first_attempt_continues_the_trace_and_retries_link_back(
    exporter: InMemorySpanExporter, client: Client
) -> None:
    tracer = TracerProvider().get_tracer("test")  # only for an outer request span; exported or not
    with tracer.start_as_current_span("request") as request:
        task_id = Runner(client).run("Flaky", Params(fail_times=1))
    info = client.task(task_id)
    traceparent = info.headers["traceparent"]
    (enqueue,) = named(exporter, "enqueue Flaky")
    assert enqueue.context is not None
    assert enqueue.kind is SpanKind.PRODUCER
    assert enqueue.parent is not None
    assert enqueue.parent.span_id == request.get_span_context().span_id
    assert traceparent.startswith(f"00-{enqueue.context.trace_id:032x}-{enqueue.context.span_id:016x}-")
    assert attribute(enqueue, "anclax.task.id") == task_id
    assert attribute(enqueue, "messaging.system") == "anclax"

    with running_worker(client):
        assert client.wait(task_id, timeout=10).status == "completed"

    first, second = sorted(
        named(exporter, "run Flaky"), key=lambda span: int(str(attribute(span, "anclax.task.attempt")))
    )
    assert first.context is not None
    assert second.context is not None
    assert first.kind is second.kind is SpanKind.CONSUMER
    # Attempt 1: a child of the enqueue span, in the request's trace.
    assert first.parent is not None
    assert first.parent.span_id == enqueue.context.span_id
    assert first.context.trace_id == enqueue.context.trace_id
    assert (attribute(first, "anclax.task.outcome"), first.status.status_code) == ("retried", StatusCode.ERROR)
    assert attribute(first, "error.type") == "builtins.RuntimeError"
    # Attempt 2: a trace of its own, linked to the enqueue span.
    assert second.parent is None
    assert second.context.trace_id != enqueue.context.trace_id
    assert [link.context.span_id for link in second.links] == [enqueue.context.span_id]
    assert attribute(second, "anclax.task.outcome") == "completed"
    assert (attribute(second, "anclax.task.id"), attribute(second, "anclax.task.name")) == (task_id, "Flaky")
    # No parameters anywhere unless asked for.
    assert all(
        "anclax.task.parameters" not in (span.attributes or {})
        and "failTimes" not in json.dumps(dict(span.attributes or {}))
        for span in exporter.get_finished_spans()
    )


def test_final_failures_and_async_methods(exporter: InMemorySpanExporter, client: Client, module_dsn: str) -> None:
    async def enqueue() -> list[int]:
        async with AsyncClient(module_dsn) as aclient:
            runner = AsyncRunner(aclient)
            return [await runner.run("Fatal"), await runner.run("AsyncSleep", Params(sleep=0.01))]

    fatal, sleeper = asyncio.run(enqueue())
    assert [span.name for span in exporter.get_finished_spans()] == ["enqueue Fatal", "enqueue AsyncSleep"]
    assert "traceparent" in client.task(sleeper).headers
    with running_worker(client):
        assert client.wait(fatal, timeout=10).status == "failed"
        assert client.wait(sleeper, timeout=10).status == "completed"
    (failed,) = named(exporter, "run Fatal")
    assert attribute(failed, "anclax.task.outcome") == "failed"
    assert attribute(failed, "error.type") == "anclax_fast.errors.FatalTaskError"
    (slept,) = named(exporter, "run AsyncSleep")
    (enqueued,) = named(exporter, "enqueue AsyncSleep")
    assert slept.parent is not None
    assert enqueued.context is not None
    assert slept.parent.span_id == enqueued.context.span_id
    assert attribute(slept, "anclax.task.outcome") == "completed"


def test_batches_share_one_span(exporter: InMemorySpanExporter, client: Client) -> None:
    ids = Runner(client).run_many("Echo", [Params(n=1), Params(n=2), Params(n=3)], delay="1h")
    (batch,) = named(exporter, "enqueue Echo")
    assert attribute(batch, "messaging.batch.message_count") == 3
    assert len({client.task(task_id).headers["traceparent"] for task_id in ids}) == 1


def test_parameters_only_when_asked(client: Client) -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    otel.instrument(tracer_provider=provider, record_parameters=True)
    try:
        task_id = Runner(client).run("Echo", Params(n=42))
        with running_worker(client):
            client.wait(task_id, timeout=10)
    finally:
        otel.uninstrument()
    recorded = [json.loads(str(attribute(span, "anclax.task.parameters"))) for span in spans.get_finished_spans()]
    assert [r["n"] for r in recorded] == [42, 42]


def test_uninstrumented_enqueues_store_no_headers(client: Client) -> None:
    task_id = Runner(client).run("Echo", delay="1h")
    assert client.task(task_id).headers == {}
