"""What a driver implements (stdlib only: this module runs in every system's virtualenv).

A driver is a :class:`Driver` subclass in ``benches/drivers/<system>.py`` exposing ``DRIVER``. It only
knows its own system: how to install the schema, enqueue one job or a batch, run a worker and count
finished jobs. Everything that must be measured the same way for every system — timing, worker
processes and their start barrier, polling for completion, the exactly-once check, latency
percentiles — lives in :mod:`benches.drivers.scenarios` and :mod:`benches.drivers.pool`, so a number
in the report means the same thing in every column.
"""

from __future__ import annotations

import abc
import asyncio
import importlib.metadata
import multiprocessing.queues
import multiprocessing.synchronize
import sys
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from benches.drivers import protocol as p

Payload = dict[str, int]  # the job shape every system gets: {"n": i}


class NotApplicable(Exception):
    """Raised by a driver for a scenario its system cannot express; the report says n/a with the reason."""


class Timer:
    """The measured section of an enqueue scenario: the driver calls start() after its set-up."""

    def __init__(self) -> None:
        self._start: float | None = None
        self._stop: float | None = None

    def start(self) -> None:
        self._start = time.perf_counter()

    def stop(self) -> None:
        self._stop = time.perf_counter()

    @property
    def elapsed(self) -> float:
        if self._start is None or self._stop is None:
            raise RuntimeError("the driver did not call both Timer.start() and Timer.stop()")
        return self._stop - self._start


class Monitor(abc.ABC):
    """A connection the parent keeps open to count finished jobs while workers run."""

    @abc.abstractmethod
    def finished(self) -> int:
        """Jobs in the system's success state (committed)."""

    @abc.abstractmethod
    def states(self) -> dict[str, int]:
        """Every job row the system keeps, counted by state (finished ones included)."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Monitor:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True)
class WorkerOptions:
    scenario: str
    index: int  # 0..processes-1
    processes: int
    concurrency: int  # 0 = the system's tuned default for this scenario
    sleep_s: float  # > 0: each job sleeps this long (sleep_io)
    record_times: bool  # steady state: note when each job started


@dataclass(frozen=True)
class WorkerChannels:
    """What the parent shares with every worker process (inherited at spawn)."""

    counters: Any  # a shared ctypes array of int64: jobs started, one slot per worker process
    start: multiprocessing.synchronize.Event
    stop: multiprocessing.synchronize.Event
    out: multiprocessing.queues.Queue[tuple[Any, ...]]  # ("ready" | "done" | "error", index, ...)


class WorkerControl:
    """Handed to ``Driver.work`` in each worker process: the start barrier, the stop flag, the job log."""

    def __init__(self, options: WorkerOptions, channels: WorkerChannels) -> None:
        self.options = options
        self.executed: list[int] = []
        self.started_at: list[float] = []
        self._counters = channels.counters
        self._start = channels.start
        self._stop = channels.stop
        self._out = channels.out

    def job_started(self, n: int) -> None:
        """Call first thing in the job handler, with the payload's ``n``."""
        self.executed.append(n)
        if self.options.record_times:
            # Wall clock: the producer (another process on the same machine) stamps commits with it too.
            self.started_at.append(time.time())
        self._counters[self.options.index] += 1

    def jobs_started(self, ns: list[int]) -> None:
        """``job_started`` for a batch of jobs a loop starts together (the raw-SQL ceiling's no-op
        jobs): the same record, one shared-counter update instead of one per job."""
        self.executed.extend(ns)
        if self.options.record_times:
            now = time.time()
            self.started_at.extend(now for _ in ns)
        self._counters[self.options.index] += len(ns)

    def ready_and_wait_for_start(self) -> None:
        """Call once the worker is set up (connected, handlers registered) and before it claims work."""
        self._out.put(("ready", self.options.index))
        self._start.wait()

    async def aready_and_wait_for_start(self) -> None:
        self._out.put(("ready", self.options.index))
        while not self._start.is_set():
            await asyncio.sleep(0.001)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def wait_for_stop(self) -> None:
        self._stop.wait()

    async def await_stop(self) -> None:
        while not self._stop.is_set():
            await asyncio.sleep(0.01)


class Driver(abc.ABC):
    """One queue system. Methods run in the system's own virtualenv; ``work`` in worker processes."""

    #: the distribution whose version the report shows, and other distributions worth listing
    package: str = ""
    extra_packages: tuple[str, ...] = ()
    #: the settings used, with the doc each one comes from (shown in the report)
    settings: dict[str, str] = {}  # noqa: RUF012 - read-only class-level description
    docs: tuple[str, ...] = ()
    #: scenario -> why this system cannot run it
    unsupported: dict[str, str] = {}  # noqa: RUF012 - read-only class-level description

    @abc.abstractmethod
    def install(self, dsn: str) -> None:
        """Install the system's schema (and apply its recommended table settings) into an empty database."""

    @abc.abstractmethod
    def enqueue_single(self, dsn: str, payloads: list[Payload], timer: Timer) -> None:
        """Enqueue each payload in its own transaction; start the timer after set-up, stop after the last commit."""

    def enqueue_bulk(self, dsn: str, payloads: list[Payload], batch_size: int, timer: Timer) -> None:
        """Enqueue with the system's batch API, ``batch_size`` jobs per call."""
        raise NotApplicable("the system has no batch enqueue API")

    @abc.abstractmethod
    def produce_paced(self, dsn: str, schedule: Schedule) -> list[float]:
        """Enqueue each payload the schedule yields, one per transaction, when it yields it; return
        ``time.time()`` right after each commit, in order."""

    @abc.abstractmethod
    def work(self, dsn: str, ctl: WorkerControl) -> None:
        """Run one worker process: set up, ``ctl.ready_and_wait_for_start()``, process jobs (calling
        ``ctl.job_started(n)`` first in the handler and sleeping ``ctl.options.sleep_s`` if > 0) until
        ``ctl.stop_requested``, then shut down gracefully."""

    @abc.abstractmethod
    def open_monitor(self, dsn: str) -> Monitor: ...

    def describe(self) -> p.Reply:
        packages = {name: _version_of(name) for name in (self.package, *self.extra_packages) if name}
        return p.Reply(
            ok=True,
            version=packages.get(self.package, ""),
            packages=packages,
            settings=dict(self.settings),
            docs=list(self.docs),
            unsupported=dict(self.unsupported),
            python=sys.version.split()[0],
        )


def _version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


class Schedule:
    """The steady-state producer's timetable: payload i is due at wall-clock ``send_at[i]``.

    Iterate it (``for payload in schedule`` or ``async for payload in schedule``): each payload comes
    when it is due (open loop: a late producer sends the next one at once rather than shifting the
    timetable), and iteration stops at ``deadline`` so a producer that cannot keep up does not stretch
    the run; the harness then counts only the jobs actually sent.
    """

    def __init__(self, payloads: list[Payload], send_at: list[float], deadline: float) -> None:
        self.payloads = payloads
        self.send_at = send_at
        self.deadline = deadline

    def __iter__(self) -> Iterator[Payload]:
        for payload, at in zip(self.payloads, self.send_at, strict=True):
            if time.time() > self.deadline:
                return
            delay = at - time.time()
            if delay > 0:
                time.sleep(delay)
            yield payload

    async def __aiter__(self) -> AsyncIterator[Payload]:
        for payload, at in zip(self.payloads, self.send_at, strict=True):
            if time.time() > self.deadline:
                return
            delay = at - time.time()
            if delay > 0:
                await asyncio.sleep(delay)
            yield payload


def batches(payloads: list[Payload], size: int) -> Iterator[list[Payload]]:
    for i in range(0, len(payloads), size):
        yield payloads[i : i + size]
