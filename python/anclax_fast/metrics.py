"""Prometheus metrics of a worker process (``anclax-fast worker --metrics-port``).

Exported at scrape time from the Rust engine's counters, so recording costs nothing per task on
the Python side. Uses ``prometheus-client`` for the exposition format and the HTTP endpoint.

- ``anclax_tasks_started_total{task}``, ``..._completed_total``, ``..._retried_total``,
  ``..._failed_total``: attempts this process ran and what it decided;
- ``anclax_tasks_enqueued_total{task}``: tasks this process enqueued;
- ``anclax_task_duration_seconds{task}``: histogram, claim to result;
- ``anclax_worker_in_flight``: attempts running; ``anclax_claim_batch_size``: histogram;
- ``anclax_lease_rescues_total``: tasks this worker's rescuer handed back from dead workers;
- ``anclax_worker_events_total{event}``: timeouts, releases, discarded stale results, hook runs
  and failures, cron fires, lease losses, retention deletions;
- ``anclax_queue_depth{status}``: tasks per status in the database (one query per scrape at
  most every ``depth_interval`` seconds): pending and running exact, the final statuses the
  planner's estimates (:meth:`~anclax_fast.Client.counts_by_status`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from anclax_fast._counters import enqueued

if TYPE_CHECKING:
    from anclax_fast.client import Client
    from anclax_fast.worker import Worker

__all__ = ["WorkerCollector", "serve_metrics"]

_EVENTS = ("timed_out", "released", "discarded_results", "hooks_run", "hooks_failed", "cron_fires", "lease_losses")


def _histogram(name: str, documentation: str, labels: Sequence[str]) -> HistogramMetricFamily:
    return HistogramMetricFamily(name, documentation, labels=list(labels))


def _buckets(snapshot: tuple[list[tuple[float, int]], float]) -> tuple[list[tuple[str, float]], float]:
    buckets, total = snapshot
    return [("+Inf" if bound == float("inf") else repr(bound), float(count)) for bound, count in buckets], total


class WorkerCollector(Collector):
    """Collects a worker's metrics (and the queue depth, through its client) at scrape time."""

    def __init__(self, worker: Worker, client: Client | None = None, depth_interval: float = 5.0) -> None:
        self._worker = worker
        self._client = client
        self._depth_interval = depth_interval
        self._depth: dict[str, int] = {}
        self._depth_at = 0.0
        self._depth_lock = threading.Lock()

    def _queue_depth(self) -> dict[str, int]:
        if self._client is None:
            return {}
        with self._depth_lock:
            if time.monotonic() - self._depth_at >= self._depth_interval:
                try:
                    self._depth = self._client.counts_by_status()
                except Exception:
                    self._depth = {}
                self._depth_at = time.monotonic()
            return dict(self._depth)

    def collect(self) -> Iterable[Metric]:
        metrics: dict[str, Any] = self._worker.metrics()
        stats = self._worker.stats()
        tasks: dict[str, dict[str, Any]] = metrics.get("tasks", {})
        for field, help_text in (
            ("started", "Attempts started by this worker."),
            ("completed", "Attempts that completed."),
            ("retried", "Attempts that failed and were scheduled for a retry."),
            ("failed", "Attempts that failed the task for good."),
        ):
            family = CounterMetricFamily(f"anclax_tasks_{field}", help_text, labels=["task"])
            for name, values in sorted(tasks.items()):
                family.add_metric([name], float(values[field]))
            yield family
        family = CounterMetricFamily("anclax_tasks_enqueued", "Tasks enqueued by this process.", labels=["task"])
        for name, count in sorted(enqueued().items()):
            family.add_metric([name], float(count))
        yield family
        duration = _histogram("anclax_task_duration_seconds", "Attempt duration, claim to result.", ["task"])
        for name, values in sorted(tasks.items()):
            buckets, total = _buckets(values["duration"])
            duration.add_metric([name], buckets, total)
        yield duration
        if "claim_batch_size" in metrics:
            batch = _histogram("anclax_claim_batch_size", "Tasks claimed per claim statement.", [])
            buckets, total = _buckets(metrics["claim_batch_size"])
            batch.add_metric([], buckets, total)
            yield batch
        yield GaugeMetricFamily(
            "anclax_worker_in_flight", "Attempts running.", value=float(metrics.get("in_flight", 0))
        )
        yield CounterMetricFamily(
            "anclax_lease_rescues",
            "Tasks handed back to the queue from workers whose lease expired.",
            value=float(stats.get("rescued", 0)),
        )
        events = CounterMetricFamily("anclax_worker_events", "Engine events by kind.", labels=["event"])
        for event in _EVENTS:
            events.add_metric([event], float(stats.get(event, 0)))
        yield events
        depth = GaugeMetricFamily(
            "anclax_queue_depth",
            "Tasks per status in the database (pending/running exact, final statuses estimated).",
            labels=["status"],
        )
        for status, count in sorted(self._queue_depth().items()):
            depth.add_metric([status], float(count))
        yield depth


def serve_metrics(worker: Worker, client: Client | None, port: int, addr: str = "0.0.0.0") -> int:
    """Serve ``/metrics`` for ``worker`` on ``port`` (0: any free port); returns the bound port."""
    registry = CollectorRegistry()
    registry.register(WorkerCollector(worker, client))
    server, _thread = start_http_server(port, addr=addr, registry=registry)
    bound: int = server.server_port
    return bound
