"""The worker fleet: one process per slot, started, killed, frozen, thawed and stopped on demand,
with the history the checker needs (when each process was up and when it was frozen).

A process that exits without being told to (after it said ``ready``) is recorded as an
unexpected exit: a worker must survive every fault the harness injects into the database.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.chaos.config import ChaosConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
# A worker that does not say `ready` within this long is killed and started again.
_READY_TIMEOUT = 30.0


@dataclass
class WorkerProcess:
    slot: int
    incarnation: int
    proc: subprocess.Popen[str]
    run_log: Path
    stderr_path: Path
    ready: threading.Event = field(default_factory=threading.Event)
    ready_at: float | None = None
    worker_id: int | None = None
    ended_at: float | None = None
    # Set before the harness signals the process to end, so its exit is not "unexpected".
    doomed: bool = False
    unexpected_exit: int | None = None
    frozen_since: float | None = None
    frozen: list[tuple[float, float]] = field(default_factory=list[tuple[float, float]])

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


class Fleet:
    def __init__(self, dsn: str, directory: Path, config: ChaosConfig) -> None:
        self._dsn = dsn
        self._directory = directory
        self._config = config
        self._lock = threading.Lock()
        self._slots: dict[int, WorkerProcess] = {}
        # Slots with a start in progress: a second start of the same slot is refused.
        self._starting: set[int] = set()
        self.history: list[WorkerProcess] = []
        self._incarnations = 0

    # -- starting ------------------------------------------------------------------------------

    def _spawn(self, slot: int) -> WorkerProcess:
        with self._lock:
            self._incarnations += 1
            incarnation = self._incarnations
        run_log = self._directory / f"runs-{slot}-{incarnation}.log"
        stderr_path = self._directory / f"worker-{slot}-{incarnation}.stderr"
        config = self._config
        argv = [
            sys.executable,
            "-m",
            "tests.chaos.worker",
            "--dsn",
            self._dsn,
            "--log",
            str(run_log),
            "--concurrency",
            str(config.concurrency),
            "--lease-ttl",
            str(config.lease_ttl),
            "--timeout-grace",
            str(config.timeout_grace),
            "--shutdown-grace",
            str(config.shutdown_grace),
        ]
        with stderr_path.open("w") as stderr:
            proc = subprocess.Popen(argv, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True)
        worker = WorkerProcess(slot=slot, incarnation=incarnation, proc=proc, run_log=run_log, stderr_path=stderr_path)
        threading.Thread(target=self._watch, args=(worker,), name=f"watch-{slot}-{incarnation}", daemon=True).start()
        with self._lock:
            self.history.append(worker)
        return worker

    def _watch(self, worker: WorkerProcess) -> None:
        """Read the worker's stdout: `ready <id>` marks it up; EOF marks it gone."""
        assert worker.proc.stdout is not None
        with worker.proc.stdout:
            for line in worker.proc.stdout:
                if line.startswith("ready"):
                    worker.worker_id = int(line.split()[1])
                    worker.ready_at = time.time()
                    worker.ready.set()
        code = worker.proc.wait()
        with self._lock:
            if worker.ended_at is None:
                worker.ended_at = time.time()
            if worker.ready_at is not None and not worker.doomed:
                worker.unexpected_exit = code
            worker.ready.set()  # wake anyone waiting for a process that will never be ready

    def start(self, slot: int, timeout: float = 120.0) -> WorkerProcess | None:
        """Start slot's worker and wait until it is ready; retries while the database is down.
        None when the slot already has a live worker or a start in progress, or on timeout."""
        with self._lock:
            if slot in self._starting or (slot in self._slots and self._slots[slot].alive):
                return None
            self._starting.add(slot)
        try:
            return self._start(slot, timeout)
        finally:
            with self._lock:
                self._starting.discard(slot)

    def _start(self, slot: int, timeout: float) -> WorkerProcess | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            worker = self._spawn(slot)
            worker.ready.wait(min(_READY_TIMEOUT, max(0.0, deadline - time.monotonic())))
            if worker.ready_at is not None and worker.alive:
                with self._lock:
                    self._slots[slot] = worker
                return worker
            self._end(worker, signal.SIGKILL)
            time.sleep(0.5)
        return None

    def start_in_background(self, slot: int) -> threading.Thread:
        thread = threading.Thread(target=self.start, args=(slot,), name=f"start-{slot}", daemon=True)
        thread.start()
        return thread

    @property
    def size(self) -> int:
        return self._config.workers

    # -- faults ----------------------------------------------------------------------------------

    def current(self, slot: int) -> WorkerProcess | None:
        with self._lock:
            worker = self._slots.get(slot)
        return worker if worker is not None and worker.alive else None

    def kill(self, slot: int) -> WorkerProcess | None:
        worker = self.current(slot)
        if worker is not None:
            self._end(worker, signal.SIGKILL)
        return worker

    def freeze(self, slot: int) -> WorkerProcess | None:
        worker = self.current(slot)
        if worker is None or worker.frozen_since is not None:
            return None
        worker.frozen_since = time.time()
        worker.proc.send_signal(signal.SIGSTOP)
        return worker

    def thaw(self, slot: int) -> WorkerProcess | None:
        worker = self.current(slot)
        if worker is None or worker.frozen_since is None:
            return None
        self._thaw(worker)
        return worker

    def _thaw(self, worker: WorkerProcess) -> None:
        if worker.frozen_since is None:
            return
        with contextlib.suppress(ProcessLookupError):
            worker.proc.send_signal(signal.SIGCONT)
        worker.frozen.append((worker.frozen_since, time.time()))
        worker.frozen_since = None

    def graceful_restart(self, slot: int) -> WorkerProcess | None:
        """SIGTERM slot's worker, wait for it to stop, start a new one (in the background)."""
        with self._lock:
            worker = self._slots.get(slot)
            if worker is None or not worker.alive or slot in self._starting:
                return None
            self._starting.add(slot)

        def restart() -> None:
            try:
                self._end(worker, signal.SIGTERM)
                self._start(slot, 120.0)
            finally:
                with self._lock:
                    self._starting.discard(slot)

        threading.Thread(target=restart, name=f"restart-{slot}", daemon=True).start()
        return worker

    def _end(self, worker: WorkerProcess, sig: int) -> None:
        """Signal the process and wait for it; SIGTERM gets the shutdown grace, then SIGKILL."""
        worker.doomed = True
        self._thaw(worker)  # a stopped process handles no SIGTERM (SIGKILL works regardless)
        with contextlib.suppress(ProcessLookupError):
            worker.proc.send_signal(sig)
        try:
            worker.proc.wait(timeout=self._config.shutdown_grace + 15.0)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait()
        with self._lock:
            if worker.ended_at is None:
                worker.ended_at = time.time()

    # -- whole fleet -----------------------------------------------------------------------------

    def start_all(self) -> None:
        threads = [self.start_in_background(slot) for slot in range(self._config.workers)]
        for thread in threads:
            thread.join()

    def heal(self, timeout: float = 120.0) -> bool:
        """Thaw every frozen worker and make sure every slot has a live, ready worker (for the
        drain). False if some slot could not be started within `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                workers = list(self._slots.values())
            for worker in workers:
                if worker.alive:
                    self._thaw(worker)
            missing = [slot for slot in range(self._config.workers) if self.current(slot) is None]
            if not missing:
                return True
            for slot in missing:
                self.start(slot, timeout=max(1.0, deadline - time.monotonic()))
            time.sleep(0.2)
        return False

    def stop_all(self) -> None:
        for slot in range(self._config.workers):
            worker = self.current(slot)
            if worker is not None:
                self._end(worker, signal.SIGTERM)
        for worker in self.history:  # anything left over from a start that raced a stop
            if worker.alive:
                self._end(worker, signal.SIGKILL)

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self.history if w.alive]

    def unexpected_exits(self) -> list[WorkerProcess]:
        return [w for w in self.history if w.unexpected_exit is not None]


def stderr_tail(worker: WorkerProcess, lines: int = 20) -> str:
    try:
        text = worker.stderr_path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
