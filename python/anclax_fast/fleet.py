"""A supervisor for a fleet of worker processes on one machine (``worker --processes P``).

Each child is a full ``anclax-fast worker`` process with its own engine, so CPU-bound Python
tasks scale past the GIL. The supervisor restarts a child that dies, forwards SIGTERM/SIGINT
for a graceful stop of the whole fleet, and gives up (exit 5) when children keep crashing right
after they start, which usually means a broken deploy rather than a bad task. With
``--metrics-port``, the supervisor serves the children's metrics merged, each series labelled
with the child's ``process`` number.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import Collector

__all__ = ["Fleet"]

_Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers

log = logging.getLogger("anclax_fast.fleet")

# A child that exits within this long of starting counts as crashing at start.
START_WINDOW_S = 10.0
# This many crashes at start in a row (of any children) stop the fleet with exit code 5.
MAX_START_CRASHES = 5
RESTART_BACKOFF_MAX_S = 30.0
# Beyond the shutdown grace, how long the supervisor waits before killing a child on stop.
STOP_MARGIN_S = 15.0
EXIT_CRASHING = 5


@dataclass
class _Child:
    slot: int
    process: subprocess.Popen[bytes]
    started: float
    metrics_file: Path | None
    restarts: int = 0


@dataclass
class Fleet:
    """Runs ``size`` copies of ``argv`` (a single-process worker command line)."""

    argv: list[str]
    size: int
    shutdown_grace: float
    metrics_port: int | None = None
    _children: dict[int, _Child] = field(default_factory=dict[int, _Child])
    _stopping: threading.Event = field(default_factory=threading.Event)
    _crashes_in_a_row: int = 0
    _workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="anclax-fleet-")))

    @classmethod
    def from_worker_args(cls, args: argparse.Namespace) -> Fleet:
        """The fleet for a parsed ``worker`` command line with ``--processes P``."""
        argv = [sys.executable, "-m", "anclax_fast", "worker", args.app, "--processes", "1"]
        for flag, value in (
            ("--spec", args.spec),
            ("--dsn", args.dsn),
            ("--concurrency", args.concurrency),
            ("--async-concurrency", args.async_concurrency),
            ("--lease-ttl", args.lease_ttl),
            ("--shutdown-grace", args.shutdown_grace),
            ("--poll-interval", args.poll_interval),
            ("--log-level", args.log_level),
            ("--log-format", args.log_format),
        ):
            if value is not None:
                argv += [flag, str(value)]
        if args.labels:
            argv += ["--labels", ",".join(args.labels)]
        if args.tasks:
            argv += ["--tasks", ",".join(args.tasks)]
        if args.no_migrate:
            argv.append("--no-migrate")
        return cls(argv=argv, size=args.processes, shutdown_grace=args.shutdown_grace, metrics_port=args.metrics_port)

    def run(self) -> int:
        """Supervise until a signal stops the fleet; returns the exit code."""
        restore = self._install_signal_handlers()
        try:
            if self.metrics_port is not None:
                registry = CollectorRegistry()
                registry.register(_MergedChildMetrics(self))
                start_http_server(self.metrics_port, registry=registry)
                log.info("serving the fleet's Prometheus metrics on :%d/metrics", self.metrics_port)
            for slot in range(self.size):
                self._start(slot)
            log.info("fleet of %d worker processes started (supervisor pid %d)", self.size, os.getpid())
            while not self._stopping.is_set():
                self._stopping.wait(0.2)
                code = self._reap()
                if code is not None:
                    self._stop_children()
                    return code
            return self._stop_children()
        finally:
            for signum, handler in restore:
                signal.signal(signum, handler)

    def _start(self, slot: int, restarts: int = 0) -> None:
        metrics_file = None
        argv = list(self.argv)
        if self.metrics_port is not None:
            metrics_file = self._workdir / f"metrics-{slot}"
            metrics_file.unlink(missing_ok=True)
            argv += ["--metrics-port", "0", "--metrics-port-file", str(metrics_file)]
        process = subprocess.Popen(argv)
        self._children[slot] = _Child(slot, process, time.monotonic(), metrics_file, restarts)

    def _reap(self) -> int | None:
        """Restart children that exited; the exit code when the fleet must give up."""
        for slot, child in list(self._children.items()):
            code = child.process.poll()
            if code is None:
                continue
            lived = time.monotonic() - child.started
            if lived < START_WINDOW_S:
                self._crashes_in_a_row += 1
            else:
                self._crashes_in_a_row = 0
            if self._crashes_in_a_row >= MAX_START_CRASHES:
                log.error(
                    "worker processes keep exiting right after they start (%d in a row, last exit code %s); "
                    "giving up: check the errors above",
                    self._crashes_in_a_row,
                    code,
                )
                del self._children[slot]
                return EXIT_CRASHING
            delay = min(RESTART_BACKOFF_MAX_S, 0.5 * 2 ** min(child.restarts, 6)) if lived < START_WINDOW_S else 0.0
            log.warning(
                "worker process %d (pid %d) exited with %s; restarting it in %.1fs",
                slot,
                child.process.pid,
                code,
                delay,
            )
            del self._children[slot]
            if self._stopping.wait(delay):
                return None
            self._start(slot, child.restarts + 1)
        return None

    def _stop_children(self) -> int:
        for child in self._children.values():
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.shutdown_grace + STOP_MARGIN_S
        codes: list[int] = []
        for child in self._children.values():
            try:
                codes.append(child.process.wait(timeout=max(0.1, deadline - time.monotonic())))
            except subprocess.TimeoutExpired:
                log.error("worker process %d did not stop in time; killing it", child.process.pid)
                child.process.kill()
                codes.append(child.process.wait())
        self._children.clear()
        log.info("fleet stopped")
        return 0 if all(code == 0 for code in codes) else 1

    def _install_signal_handlers(self) -> list[tuple[int, _Handler]]:
        if threading.current_thread() is not threading.main_thread():
            return []

        def on_signal(signum: int, frame: FrameType | None) -> None:
            log.info("received %s; stopping the fleet", signal.Signals(signum).name)
            self._stopping.set()

        restore: list[tuple[int, _Handler]] = []
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous = signal.signal(signum, on_signal)
            restore.append((signum, previous if previous is not None else signal.SIG_DFL))
        return restore

    def children_metrics_ports(self) -> Sequence[tuple[int, int]]:
        """(slot, port) of the children whose metrics endpoint is up."""
        ports: list[tuple[int, int]] = []
        for child in list(self._children.values()):
            if child.metrics_file is not None and child.metrics_file.exists():
                text = child.metrics_file.read_text().strip()
                if text.isdigit():
                    ports.append((child.slot, int(text)))
        return ports


class _MergedChildMetrics(Collector):
    """Scrapes every child and re-exports its series with a ``process`` label."""

    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet

    def collect(self) -> Iterable[Metric]:
        merged: dict[str, Metric] = {}
        for slot, port in self._fleet.children_metrics_ports():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as response:
                    text = response.read().decode()
            except OSError:
                continue
            for family in text_string_to_metric_families(text):
                target = merged.setdefault(family.name, Metric(family.name, family.documentation, family.type))
                for sample in family.samples:
                    target.add_sample(
                        sample.name, {**sample.labels, "process": str(slot)}, sample.value, sample.timestamp
                    )
        yield from merged.values()
