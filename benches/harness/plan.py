"""What each scenario asks of a system (job counts, rates, processes) and what the report shows of it."""

from __future__ import annotations

import os
from dataclasses import dataclass

from benches.drivers import protocol as p

# Job counts at --scale 1: each run takes seconds (the ceiling) to a couple of minutes (the slowest peer).
BASE_N = {
    p.ENQUEUE_SINGLE: 10_000,
    p.ENQUEUE_BULK: 100_000,
    p.DRAIN_1P: 100_000,
    p.DRAIN_NP: 100_000,
    p.SLEEP_IO: 20_000,
}
MIN_N = 100
BASE_STEADY_DURATION_S = 20.0
MIN_STEADY_DURATION_S = 2.0
MAX_WARMUP_S = 1.0  # latency figures leave out the jobs sent in the first min(1 s, 20 %) of the run
SLEEP_IO_CONCURRENCY = 50
SLEEP_IO_SLEEP_S = 0.010


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Plan:
    scale: float = 1.0
    runs: int = 3
    steady_rate: float = 250.0
    bulk_batch: int = 1000
    timeout_s: float = 600.0
    processes: int = 0  # for drain_np; 0 = nproc
    # Job-count multipliers for single systems (--system-scale): a peer 100x slower than the rest
    # would otherwise make a full run last hours. Throughput figures stay comparable as long as each
    # run still lasts seconds; steady-state durations are not affected.
    system_scale: tuple[tuple[str, float], ...] = ()

    @property
    def many_processes(self) -> int:
        return self.processes or nproc()

    def n(self, scenario: str, system: str = "") -> int:
        return max(MIN_N, round(BASE_N[scenario] * self.scale * dict(self.system_scale).get(system, 1.0)))

    @property
    def steady_duration_s(self) -> float:
        return max(MIN_STEADY_DURATION_S, BASE_STEADY_DURATION_S * self.scale)

    def request(self, scenario: str, dsn: str, *, system: str = "", half_drain_rate: float = 0.0) -> p.Request:
        """The driver request for one run of `scenario`; steady_half needs the system's drain_1p median."""
        req = p.Request(op=p.OP_RUN, dsn=dsn, scenario=scenario, batch_size=self.bulk_batch, timeout_s=self.timeout_s)
        if scenario in (p.ENQUEUE_SINGLE, p.ENQUEUE_BULK, p.DRAIN_1P):
            req.n = self.n(scenario, system)
        elif scenario == p.DRAIN_NP:
            req.n = self.n(scenario, system)
            req.processes = self.many_processes
        elif scenario in (p.STEADY, p.STEADY_HALF):
            req.rate = self.steady_rate if scenario == p.STEADY else half_drain_rate
            req.duration_s = self.steady_duration_s
            req.warmup_s = min(MAX_WARMUP_S, 0.2 * self.steady_duration_s)
        elif scenario == p.SLEEP_IO:
            req.n = self.n(scenario, system)
            req.concurrency = SLEEP_IO_CONCURRENCY
            req.sleep_s = SLEEP_IO_SLEEP_S
        return req


@dataclass(frozen=True)
class Metric:
    """One row of the results table."""

    scenario: str
    key: str  # in the driver's metrics
    label: str
    unit: str
    higher_is_better: bool


def metrics(plan: Plan) -> list[Metric]:
    rate = f"{plan.steady_rate:g}/s"
    return [
        Metric(p.ENQUEUE_SINGLE, "jobs_per_s", "enqueue, 1 job per transaction", "jobs/s", True),
        Metric(p.ENQUEUE_BULK, "jobs_per_s", f"enqueue, batch API ({plan.bulk_batch} per call)", "jobs/s", True),
        Metric(p.DRAIN_1P, "jobs_per_s", "drain queued no-op jobs, 1 worker process", "jobs/s", True),
        Metric(
            p.DRAIN_NP, "jobs_per_s", f"drain queued no-op jobs, {plan.many_processes} worker processes", "jobs/s", True
        ),
        Metric(p.STEADY, "p50_ms", f"latency commit->start at {rate}, p50", "ms", False),
        Metric(p.STEADY, "p95_ms", f"latency commit->start at {rate}, p95", "ms", False),
        Metric(p.STEADY, "p99_ms", f"latency commit->start at {rate}, p99", "ms", False),
        Metric(p.STEADY, "achieved_jobs_per_s", f"producer rate reached (offered {rate})", "jobs/s", True),
        Metric(p.STEADY_HALF, "p50_ms", "latency at 50% of drain_1p rate, p50", "ms", False),
        Metric(p.STEADY_HALF, "p99_ms", "latency at 50% of drain_1p rate, p99", "ms", False),
        Metric(p.STEADY_HALF, "achieved_jobs_per_s", "producer rate reached at 50% of drain_1p", "jobs/s", True),
        Metric(
            p.SLEEP_IO,
            "jobs_per_s",
            f"{SLEEP_IO_SLEEP_S * 1000:g} ms sleeping jobs, concurrency {SLEEP_IO_CONCURRENCY} "
            f"(ideal {SLEEP_IO_CONCURRENCY / SLEEP_IO_SLEEP_S:,.0f}/s)",
            "jobs/s",
            True,
        ),
    ]
