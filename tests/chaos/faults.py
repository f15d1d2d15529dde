"""Executes a fault plan against the fleet and the Postgres cluster, on the plan's clock.

Each fault is carried out at its planned offset (or as soon as the previous one has finished: a
Postgres restart takes a few seconds, and the faults queued behind it run late; the report shows
both times). What happened is recorded for the report: done, or skipped and why.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psycopg

from anclax_fast.testing import EmbeddedPostgres
from tests.chaos.fleet import Fleet
from tests.chaos.plan import Fault, FaultKind
from tests.chaos.tasks import ChaosParams
from tests.chaos.workload import Enqueuer

WORKER_APPLICATION_NAME = "anclax-fast worker"


@dataclass
class FaultRecord:
    fault: Fault
    started: float  # seconds after the start of the run
    outcome: str
    done: bool


@dataclass
class FaultLog:
    records: list[FaultRecord] = field(default_factory=list[FaultRecord])
    # Wall-clock windows when Postgres was down (restart begun .. ready again).
    outages: list[tuple[float, float]] = field(default_factory=list[tuple[float, float]])
    terminations: list[float] = field(default_factory=list[float])

    def executed(self, kind: FaultKind) -> int:
        return sum(1 for r in self.records if r.fault.kind is kind and r.done)


class FaultInjector(threading.Thread):
    def __init__(
        self,
        *,
        plan: tuple[Fault, ...],
        fleet: Fleet,
        pg: EmbeddedPostgres,
        dsn: str,
        enqueuer: Enqueuer,
        started_at: float,
        stop: threading.Event,
    ) -> None:
        super().__init__(name="fault-injector", daemon=True)
        self._plan = plan
        self._fleet = fleet
        self._pg = pg
        self._dsn = dsn
        self._enqueuer = enqueuer
        self._t0 = started_at  # monotonic
        self._wall0 = time.time()
        self._stop_requested = stop
        self.log = FaultLog()
        self.error: BaseException | None = None
        self._helpers: list[threading.Thread] = []
        # Where each KILL/FREEZE actually landed (by pair number), for its RESTART/THAW.
        self._victims: dict[int, int] = {}

    def run(self) -> None:
        try:
            for fault in self._plan:
                delay = self._t0 + fault.at - time.monotonic()
                if delay > 0 and self._stop_requested.wait(delay):
                    return
                if self._stop_requested.is_set():
                    return
                started = time.monotonic() - self._t0
                done, outcome = self._execute(fault)
                self.log.records.append(FaultRecord(fault, started, outcome, done))
        except BaseException as err:  # reported by the run, which fails on it
            self.error = err

    def join_helpers(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for helper in self._helpers:
            helper.join(max(0.0, deadline - time.monotonic()))

    def _background(self, name: str, target: Callable[[], object]) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._helpers.append(thread)

    def _live_slot(self, planned: int) -> int | None:
        """The planned slot if its worker is up, else the next slot (in order) whose worker is: a
        fault aimed at a slot that is down right now still hits the fleet."""
        workers = self._fleet.size
        for offset in range(workers):
            slot = (planned + offset) % workers
            if self._fleet.current(slot) is not None:
                return slot
        return None

    def _execute(self, fault: Fault) -> tuple[bool, str]:
        """Carry out one fault: (whether it happened, what happened or why it was skipped)."""
        handlers: dict[FaultKind, Callable[[Fault], tuple[bool, str]]] = {
            FaultKind.KILL: self._hit_worker,
            FaultKind.FREEZE: self._hit_worker,
            FaultKind.GRACEFUL_RESTART: self._hit_worker,
            FaultKind.RESTART: self._restart,
            FaultKind.THAW: self._thaw,
            FaultKind.TERMINATE: self._terminate,
            FaultKind.PG_RESTART: self._restart_postgres,
            FaultKind.STUCK_TASK: self._enqueue_stuck,
            FaultKind.HOOK_RAISES: self._enqueue_hook_raises,
        }
        return handlers[fault.kind](fault)

    def _hit_worker(self, fault: Fault) -> tuple[bool, str]:
        assert fault.slot is not None
        slot = self._live_slot(fault.slot)
        if slot is None:
            return False, "skipped: no live worker in the fleet"
        where = "" if slot == fault.slot else f" (slot {fault.slot} was down: slot {slot} instead)"
        if fault.kind is FaultKind.KILL:
            worker = self._fleet.kill(slot)
            self._victims[fault.pair or 0] = slot
            what = "SIGKILL"
        elif fault.kind is FaultKind.FREEZE:
            worker = self._fleet.freeze(slot)
            self._victims[fault.pair or 0] = slot
            what = "SIGSTOP"
        else:
            worker = self._fleet.graceful_restart(slot)
            what = "SIGTERM, then a new process:"
        if worker is None:
            return False, "skipped: the worker was busy (frozen, or starting)"
        return True, f"{what} pid {worker.proc.pid}{where}"

    def _restart(self, fault: Fault) -> tuple[bool, str]:
        assert fault.slot is not None
        slot = self._victims.pop(fault.pair or 0, fault.slot)
        if self._fleet.current(slot) is not None:
            return False, f"skipped: slot {slot} already has a live worker"
        self._fleet.start_in_background(slot)
        return True, f"starting a new worker process in slot {slot}"

    def _thaw(self, fault: Fault) -> tuple[bool, str]:
        assert fault.slot is not None
        worker = self._fleet.thaw(self._victims.pop(fault.pair or 0, fault.slot))
        return (True, f"SIGCONT pid {worker.proc.pid}") if worker else (False, "skipped: not frozen (or gone)")

    def _restart_postgres(self, fault: Fault) -> tuple[bool, str]:
        began = time.time()
        # (EmbeddedPostgres forks servers from a thread of its own: the restarted server does not
        # die with this thread.)
        self._pg.restart(mode=fault.mode or "fast")
        self.log.outages.append((began, time.time()))
        return True, f"Postgres back after {time.time() - began:.2f}s"

    def _enqueue_stuck(self, fault: Fault) -> tuple[bool, str]:
        self._background("enqueue-stuck", lambda: self._enqueuer.one("Stuck", ChaosParams(sleep=3.0)))
        return True, "enqueued a task that sleeps 3 s past its 1 s timeout"

    def _enqueue_hook_raises(self, fault: Fault) -> tuple[bool, str]:
        self._background("enqueue-hook-raises", lambda: self._enqueuer.one("HookRaises", ChaosParams()))
        return True, "enqueued a fatal task whose failure hook raises"

    def _terminate(self, fault: Fault) -> tuple[bool, str]:
        try:
            with psycopg.connect(self._dsn, autocommit=True, connect_timeout=5) as admin:
                row = admin.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = %s AND pid <> pg_backend_pid()",
                    (WORKER_APPLICATION_NAME,),
                ).fetchone()
        except psycopg.Error as err:
            return False, f"skipped: {type(err).__name__}: {err}".strip()
        self.log.terminations.append(time.time())
        return True, f"terminated {row[0] if row else 0} worker connection(s)"
