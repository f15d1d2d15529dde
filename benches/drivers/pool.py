"""Worker processes for the drain, steady-state and sleeping-job scenarios (stdlib only).

Workers are started with ``spawn`` (nothing inherited by fork: no half-copied connection pools or
event loops), set themselves up, report ready, and are released together by one event, so start-up
time is never part of a measurement. Each reports the payloads it ran when told to stop.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import multiprocessing.queues
import queue
import time
import traceback
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from benches.drivers.kit import Driver, WorkerChannels, WorkerControl, WorkerOptions

_READY_TIMEOUT_S = 120.0  # worker start-up (imports, connections) is not timed but must finish
_STOP_TIMEOUT_S = 60.0


class WorkerFailed(Exception):
    pass


@dataclass
class WorkerResult:
    index: int
    executed: list[int]
    started_at: list[float]


def _worker_main(module: str, dsn: str, options: WorkerOptions, channels: WorkerChannels) -> None:
    ctl = WorkerControl(options, channels)
    try:
        driver = load_driver(module)
        driver.work(dsn, ctl)
    except BaseException:  # report anything, including a peer calling sys.exit
        channels.out.put(("error", options.index, traceback.format_exc()))
        return
    channels.out.put(("done", options.index, ctl.executed, ctl.started_at))


def load_driver(module: str) -> Driver:
    driver = importlib.import_module(module).DRIVER
    if not isinstance(driver, Driver):
        raise TypeError(f"{module}.DRIVER is not a benches.drivers.kit.Driver")
    return driver


class WorkerPool:
    """Worker processes started with ``spawn`` (no state shared by fork), released together by one event."""

    def __init__(self, module: str, dsn: str, options: list[WorkerOptions]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._counters: Any = ctx.RawArray("q", len(options))
        self._start = ctx.Event()
        self._stop = ctx.Event()
        self._out: multiprocessing.queues.Queue[tuple[Any, ...]] = ctx.Queue()
        channels = WorkerChannels(counters=self._counters, start=self._start, stop=self._stop, out=self._out)
        self._procs = [
            ctx.Process(
                target=_worker_main,
                args=(module, dsn, opt, channels),
                name=f"bench-worker-{opt.index}",
                daemon=True,
            )
            for opt in options
        ]
        self._pending: list[tuple[Any, ...]] = []
        self._abandoned = False  # the run timed out: do not wait long for workers to stop

    def abandon(self) -> None:
        self._abandoned = True

    def __enter__(self) -> WorkerPool:
        for proc in self._procs:
            proc.start()
        try:
            self._wait_ready()
        except BaseException as exc:  # __exit__ is not called when __enter__ fails: stop the others here
            self._abandoned = True
            self.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def _wait_ready(self) -> None:
        ready = 0
        deadline = time.monotonic() + _READY_TIMEOUT_S
        while ready < len(self._procs):
            msg = self._next_message(deadline)
            if msg[0] == "ready":
                ready += 1
            elif msg[0] == "error":
                raise WorkerFailed(f"worker {msg[1]} failed during start-up:\n{msg[2]}")
            else:
                self._pending.append(msg)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for proc in self._procs:
            proc.join(timeout=_STOP_TIMEOUT_S if exc is None and not self._abandoned else 5.0)
            if proc.is_alive():
                proc.kill()
                proc.join(timeout=5.0)

    def go(self) -> float:
        """Release every worker; returns the perf_counter() at release."""
        t0 = time.perf_counter()
        self._start.set()
        return t0

    def executed(self) -> int:
        return int(sum(self._counters))

    def check(self) -> None:
        """Raise if a worker reported an error or died."""
        with contextlib.suppress(queue.Empty):
            while True:
                msg = self._out.get_nowait()
                if msg[0] == "error":
                    raise WorkerFailed(f"worker {msg[1]} failed:\n{msg[2]}")
                self._pending.append(msg)
        for proc in self._procs:
            if proc.exitcode is not None and proc.exitcode != 0:
                raise WorkerFailed(f"worker process {proc.name} exited with code {proc.exitcode}")

    def stop_and_collect(self) -> list[WorkerResult]:
        self._stop.set()
        results: dict[int, WorkerResult] = {}
        deadline = time.monotonic() + _STOP_TIMEOUT_S
        while len(results) < len(self._procs):
            msg = self._pending.pop(0) if self._pending else self._next_message(deadline, set(results))
            if msg[0] == "done":
                results[msg[1]] = WorkerResult(index=msg[1], executed=msg[2], started_at=msg[3])
            elif msg[0] == "error":
                raise WorkerFailed(f"worker {msg[1]} failed while stopping:\n{msg[2]}")
        return [results[index] for index in sorted(results)]

    def _next_message(self, deadline: float, reported: set[int] | None = None) -> tuple[Any, ...]:
        """The next message; raises if a worker that has not reported yet is gone without a word."""
        reported = reported or set()
        while True:
            try:
                return self._out.get(timeout=0.1)
            except queue.Empty:
                pass
            if time.monotonic() > deadline:
                raise WorkerFailed("timed out waiting for the worker processes")
            silent = [proc for i, proc in enumerate(self._procs) if proc.exitcode is not None and i not in reported]
            if silent:
                # Its last message may still be in the pipe: give it one more chance before giving up.
                try:
                    return self._out.get(timeout=1.0)
                except queue.Empty:
                    codes = ", ".join(f"{proc.name}={proc.exitcode}" for proc in silent)
                    raise WorkerFailed(f"worker process exited without reporting ({codes})") from None
