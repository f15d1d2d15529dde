"""The fault schedule of a run, drawn from its seed alone (no clock, no state): the same seed and
configuration always give the same schedule, which is printed at the start of every run.

Targets are worker *slots* (0..workers-1). Whether the slot's process is up when a fault comes
due depends on timing, so the injector may have to skip a fault (it says so in the report); the
schedule itself never changes.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass

from tests.chaos.config import ChaosConfig


class FaultKind(enum.Enum):
    KILL = "kill"  # SIGKILL a worker process
    RESTART = "restart"  # start the killed worker again
    FREEZE = "freeze"  # SIGSTOP a worker for longer than its lease
    THAW = "thaw"  # SIGCONT it
    TERMINATE = "terminate"  # pg_terminate_backend every worker connection
    PG_RESTART = "pg-restart"  # restart the Postgres server (fast or immediate shutdown)
    GRACEFUL_RESTART = "graceful-restart"  # SIGTERM a worker and start it again
    STUCK_TASK = "stuck-task"  # enqueue a task that sleeps past its timeout
    HOOK_RAISES = "hook-raises"  # enqueue a task whose failure hook raises


@dataclass(frozen=True, order=True)
class Fault:
    at: float  # seconds after the start of the run
    seq: int  # tie-breaker, keeps the order stable
    kind: FaultKind
    slot: int | None = None
    mode: str | None = None  # PG_RESTART: "fast" or "immediate"
    # KILL and its RESTART, FREEZE and its THAW share a pair number.
    pair: int | None = None

    def describe(self) -> str:
        target = f" worker {self.slot}" if self.slot is not None else ""
        mode = f" ({self.mode})" if self.mode else ""
        return f"{self.at:8.2f}s  {self.kind.value}{target}{mode}"


def _times(rng: random.Random, every: float, start: float, end: float) -> list[float]:
    """A Poisson process of mean interval `every` over [start, end]; never empty."""
    times: list[float] = []
    t = start + rng.expovariate(1.0 / every)
    while t < end:
        times.append(t)
        t += rng.expovariate(1.0 / every)
    if not times:
        times.append(rng.uniform(start, end))
    return times


def fault_plan(config: ChaosConfig) -> tuple[Fault, ...]:
    rng = random.Random(config.seed)
    rates = config.rates
    start, end = config.warmup, max(config.warmup + 1.0, config.duration - config.cooldown)
    raw: list[tuple[float, FaultKind, int | None, str | None, int | None]] = []

    def slot() -> int:
        return rng.randrange(config.workers)

    pairs = 0
    for t in _times(rng, rates.kill_every, start, end):
        victim, pairs = slot(), pairs + 1
        raw.append((t, FaultKind.KILL, victim, None, pairs))
        restart = min(t + rng.uniform(*rates.restart_after), config.duration)
        raw.append((restart, FaultKind.RESTART, victim, None, pairs))
    for t in _times(rng, rates.freeze_every, start, end):
        victim, pairs = slot(), pairs + 1
        raw.append((t, FaultKind.FREEZE, victim, None, pairs))
        thaw = t + config.lease_ttl * rng.uniform(*rates.freeze_ttls)
        raw.append((min(thaw, config.duration), FaultKind.THAW, victim, None, pairs))
    raw.extend((t, FaultKind.TERMINATE, None, None, None) for t in _times(rng, rates.terminate_every, start, end))
    restarts = _times(rng, rates.pg_restart_every, start, end)
    if len(restarts) < 2:  # both shutdown modes in every run
        restarts.append(rng.uniform(start, end))
    modes = ["fast", "immediate"] + [rng.choice(["fast", "immediate"]) for _ in restarts[2:]]
    raw.extend((t, FaultKind.PG_RESTART, None, mode, None) for t, mode in zip(sorted(restarts), modes, strict=True))
    for t in _times(rng, rates.graceful_restart_every, start, end):
        raw.append((t, FaultKind.GRACEFUL_RESTART, slot(), None, None))
    raw.extend((t, FaultKind.STUCK_TASK, None, None, None) for t in _times(rng, rates.stuck_task_every, start, end))
    raw.extend((t, FaultKind.HOOK_RAISES, None, None, None) for t in _times(rng, rates.hook_raises_every, start, end))
    raw.sort(key=lambda item: item[0])
    return tuple(
        Fault(at=round(t, 3), seq=i, kind=kind, slot=target, mode=mode, pair=pair)
        for i, (t, kind, target, mode, pair) in enumerate(raw)
    )


def describe_plan(plan: tuple[Fault, ...]) -> str:
    return "\n".join(fault.describe() for fault in plan)
