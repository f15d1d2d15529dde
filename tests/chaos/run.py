"""One chaos run, start to finish: cluster, fleet, workload, faults, drain, checks, report.

Phases:
1. a fresh embedded Postgres cluster (durable settings, so an immediate restart loses nothing
   that was acknowledged) with a migrated database and the ``chaos`` schema;
2. the fleet starts; producers, the lease probe and the fault injector run for ``duration``;
3. faults stop; every frozen worker is thawed and every dead slot restarted; the run waits until
   no task is left pending or running (the drain);
4. the fleet stops gracefully; the observations are loaded and every invariant is checked;
5. the report is rendered (and written, when a path is configured).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg

from anclax_fast import Client
from anclax_fast.testing import TEST_SETTINGS, EmbeddedPostgres
from tests.chaos.config import ChaosConfig
from tests.chaos.faults import FaultInjector, FaultLog
from tests.chaos.fleet import Fleet, stderr_tail
from tests.chaos.invariants import CheckResult, run_checks
from tests.chaos.observe import LeaseProbe, load_observations, prepare_database, wait_for_drain
from tests.chaos.plan import Fault, describe_plan, fault_plan
from tests.chaos.report import RunStats, gather_stats, render
from tests.chaos.workload import Enqueuer, Ledger, Producer

# Durable: with fsync and synchronous_commit on, a commit that returned survives an immediate
# (crash-like) restart, so "acknowledged" really means "must not be lost".
DURABLE_SETTINGS = {**TEST_SETTINGS, "fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
DATABASE = "chaos"


@dataclass
class ChaosResult:
    config: ChaosConfig
    plan: tuple[Fault, ...]
    faults: FaultLog
    results: list[CheckResult]
    stats: RunStats
    report: str
    directory: Path

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    def violations(self) -> list[CheckResult]:
        return [r for r in self.results if not r.passed]


def _say(message: str) -> None:
    print(f"[chaos] {message}", file=sys.stderr, flush=True)


def run_chaos(config: ChaosConfig, say: Callable[[str], None] = _say) -> ChaosResult:
    directory = config.directory or Path(tempfile.mkdtemp(prefix="anclax-chaos-"))
    directory.mkdir(parents=True, exist_ok=True)
    plan = fault_plan(config)
    say(f"seed {config.seed}; {len(plan)} faults planned over {config.duration:g}s; logs in {directory}")
    say("fault schedule:\n" + describe_plan(plan))
    wall_started = time.monotonic()
    with EmbeddedPostgres(settings=DURABLE_SETTINGS) as pg:
        with psycopg.connect(pg.dsn, autocommit=True) as admin:
            admin.execute(f"CREATE DATABASE {DATABASE}")
        dsn = pg.dsn_for(DATABASE)
        with Client(dsn) as setup:
            setup.migrate()
        prepare_database(dsn)
        fleet = Fleet(dsn, directory, config)
        try:
            return _run(
                config=config,
                plan=plan,
                pg=pg,
                dsn=dsn,
                fleet=fleet,
                directory=directory,
                wall_started=wall_started,
                say=say,
            )
        finally:
            fleet.stop_all()


def _run(
    *,
    config: ChaosConfig,
    plan: tuple[Fault, ...],
    pg: EmbeddedPostgres,
    dsn: str,
    fleet: Fleet,
    directory: Path,
    wall_started: float,
    say: Callable[[str], None],
) -> ChaosResult:
    fleet.start_all()
    if any(fleet.current(slot) is None for slot in range(config.workers)):
        raise RuntimeError(f"the fleet did not start; see the worker stderr files in {directory}")
    say(f"fleet up: {config.workers} workers")
    ledger = Ledger()
    stop, give_up, probe_stop = threading.Event(), threading.Event(), threading.Event()
    stats = RunStats()
    with Client(dsn, pool_size=config.producers + 2) as client:
        enqueuer = Enqueuer(client, ledger, give_up)
        producers = [Producer(i, config, enqueuer, stop) for i in range(config.producers)]
        probe = LeaseProbe(dsn, probe_stop)
        t0 = time.monotonic()
        injector = FaultInjector(plan=plan, fleet=fleet, pg=pg, dsn=dsn, enqueuer=enqueuer, started_at=t0, stop=stop)
        for thread in (*producers, probe, injector):
            thread.start()
        _progress_until(t0 + config.duration, ledger, injector, say)
        stop.set()
        for thread in (*producers, injector):
            thread.join(timeout=120)
        injector.join_helpers(timeout=120)
        say(f"faults stopped; {len(ledger.acked)} tasks acknowledged; draining")
        if not fleet.heal():
            say("some worker slot could not be restarted for the drain")
        stats.drained, stats.drain_seconds = wait_for_drain(dsn, config.drain_timeout)
        give_up.set()
        probe_stop.set()
        probe.join(timeout=10)
    say("drained" if stats.drained else f"drain gave up after {stats.drain_seconds:.0f}s")
    stopping_at = time.time()
    fleet.stop_all()
    ended_at = time.time()
    load_observations(
        dsn, ledger=ledger, history=fleet.history, faults=injector.log, stopping_at=stopping_at, ended_at=ended_at
    )
    results = run_checks(dsn)
    results += _harness_checks(config, fleet, probe, [*producers, injector])
    stats.wall_seconds = time.monotonic() - wall_started
    stats.worker_incarnations = len(fleet.history)
    worst = probe.worst()
    stats.worst_stale_lease = worst.seconds if worst else 0.0
    gather_stats(dsn, stats)
    report = render(
        config, plan=plan, faults=injector.log, ledger=ledger, stats=stats, results=results, directory=str(directory)
    )
    if config.report is not None:
        config.report.parent.mkdir(parents=True, exist_ok=True)
        config.report.write_text(report)
        say(f"report written to {config.report}")
    return ChaosResult(config, plan, injector.log, results, stats, report, directory)


def _progress_until(deadline: float, ledger: Ledger, injector: FaultInjector, say: Callable[[str], None]) -> None:
    next_note = time.monotonic() + 30
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(remaining, 1.0))
        if time.monotonic() >= next_note:
            next_note += 30
            say(f"{len(ledger.acked)} tasks acknowledged, {len(injector.log.records)} faults so far")


def stale_lease_bound(config: ChaosConfig) -> float:
    """The longest a task may stay `running` under an expired lease: the rescuer runs every half
    TTL on every worker, but a worker frozen inside a transaction that holds the task's row lock
    delays it until the worker is thawed (at most `freeze_ttls[1]` TTLs), and Postgres restarts
    take a few seconds more."""
    return config.lease_ttl * (2 + config.rates.freeze_ttls[1]) + 15.0


def _harness_checks(
    config: ChaosConfig, fleet: Fleet, probe: LeaseProbe, threads: list[Producer | FaultInjector]
) -> list[CheckResult]:
    exits = fleet.unexpected_exits()
    bound = stale_lease_bound(config)
    stale = sorted((s for s in probe.stale.values() if s.seconds > bound), key=lambda s: -s.seconds)
    errors = [t for t in threads if t.error is not None]
    return [
        CheckResult(
            "worker_survives",
            "no worker process exits unless the harness stops or kills it (faults in the database included)",
            len(exits),
            [
                (w.proc.pid, f"slot {w.slot} exited with code {w.unexpected_exit}; stderr:\n{stderr_tail(w)}")
                for w in exits[:20]
            ],
        ),
        CheckResult(
            "stale_leases",
            f"no task is seen running under an expired or missing lease for more than {bound:g}s (the lease "
            "probe samples every second during the run)",
            len(stale),
            [(s.task_id, f"running for worker {s.worker_id}, lease gone for {s.seconds:.1f}s") for s in stale[:20]],
        ),
        CheckResult(
            "harness",
            "the producers and the fault injector ran without errors of their own",
            len(errors),
            [(0, f"{t.name}: {type(t.error).__name__}: {t.error}") for t in errors],
        ),
    ]
