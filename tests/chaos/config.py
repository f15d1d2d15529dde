"""The knobs of a chaos run, with the two presets: the CI smoke and the soak."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class WorkloadMix:
    """Relative weights of what the producers enqueue (HookRaises and Stuck come from the fault plan)."""

    quick: float = 0.86
    slow: float = 0.04
    flaky: float = 0.05
    doomed: float = 0.02
    fatal: float = 0.01
    # Quick tasks with a unique tag; a share of them re-enqueue an earlier tag instead.
    unique: float = 0.02
    # Longest sleep of a Slow task, in seconds.
    slow_max_sleep: float = 1.5
    # Quick tasks go in batches of up to this many (run_many: one round trip).
    batch: int = 100


@dataclass(frozen=True)
class FaultRates:
    """How often each fault happens: the mean number of seconds between two of its kind, and the
    ranges of their durations. Each kind also happens at least once in every run."""

    kill_every: float = 12.0
    freeze_every: float = 20.0
    terminate_every: float = 15.0
    pg_restart_every: float = 60.0
    graceful_restart_every: float = 40.0
    stuck_task_every: float = 20.0
    hook_raises_every: float = 15.0
    # A killed worker comes back after this many seconds.
    restart_after: tuple[float, float] = (0.5, 3.0)
    # A frozen worker is thawed after this many lease TTLs (always longer than its lease).
    freeze_ttls: tuple[float, float] = (1.5, 3.0)


@dataclass(frozen=True)
class ChaosConfig:
    seed: int
    # Faults and producers run this long; then the fleet drains and the checks run.
    duration: float = 60.0
    # Tasks the producers aim to enqueue in `duration` (the pace is spread evenly).
    tasks: int = 6000
    workers: int = 3
    concurrency: int = 8
    lease_ttl: float = 2.0
    timeout_grace: float = 1.0
    shutdown_grace: float = 5.0
    producers: int = 2
    # No faults in the first and last seconds of the run: the fleet settles, and the drain
    # starts from a quiet state.
    warmup: float = 3.0
    cooldown: float = 3.0
    # Give up on the drain (and report what is still not final) after this long.
    drain_timeout: float = 120.0
    mix: WorkloadMix = field(default_factory=WorkloadMix)
    rates: FaultRates = field(default_factory=FaultRates)
    # Where logs and the report go; a fresh temporary directory when None.
    directory: Path | None = None
    report: Path | None = None
    # The command that reruns this configuration (printed in the report with the seed).
    command: str = "python -m tests.chaos --smoke"

    @classmethod
    def smoke(cls, seed: int) -> ChaosConfig:
        """The CI variant: about a minute of faults, every kind at least once, 3 workers."""
        return cls(seed=seed, duration=50.0, tasks=5000, workers=3, command="python -m tests.chaos --smoke")

    @classmethod
    def soak(cls, seed: int, minutes: float, tasks: int, workers: int = 4) -> ChaosConfig:
        return cls(
            seed=seed,
            duration=minutes * 60.0,
            tasks=tasks,
            workers=workers,
            concurrency=16,
            lease_ttl=3.0,
            producers=3,
            drain_timeout=600.0,
            mix=WorkloadMix(batch=500),
            command=f"python -m tests.chaos --minutes {minutes:g} --tasks {tasks} --workers {workers}",
        )
