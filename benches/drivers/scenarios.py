"""The scenario runners: the same timing, completion check and exactly-once check for every system."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

from benches.drivers import protocol as p
from benches.drivers.kit import Driver, Monitor, NotApplicable, Payload, Schedule, Timer, WorkerOptions
from benches.drivers.pool import WorkerFailed, WorkerPool, WorkerResult

# How often the parent looks at the workers' shared counters, and then at the database.
_COUNTER_POLL_S = 0.002
_DB_POLL_S = 0.005
_PRODUCER_OVERRUN = 1.1  # how far past its planned duration a lagging steady-state producer may go


class ScenarioTimeout(Exception):
    pass


def make_payloads(n: int) -> list[Payload]:
    return [{"n": i} for i in range(n)]


def run_scenario(driver: Driver, module: str, req: p.Request) -> p.Reply:
    if req.scenario in driver.unsupported:
        return p.Reply(ok=True, not_applicable=driver.unsupported[req.scenario])
    runners: dict[str, Callable[[Driver, str, p.Request], p.Reply]] = {
        p.ENQUEUE_SINGLE: _enqueue_single,
        p.ENQUEUE_BULK: _enqueue_bulk,
        p.DRAIN_1P: _drain,
        p.DRAIN_NP: _drain,
        p.STEADY: _steady,
        p.STEADY_HALF: _steady,
        p.SLEEP_IO: _drain,
    }
    runner = runners.get(req.scenario)
    if runner is None:
        return p.Reply(ok=False, error=f"unknown scenario {req.scenario!r}")
    try:
        return runner(driver, module, req)
    except NotApplicable as exc:
        return p.Reply(ok=True, not_applicable=str(exc))


def _enqueue_single(driver: Driver, module: str, req: p.Request) -> p.Reply:
    timer = Timer()
    driver.enqueue_single(req.dsn, make_payloads(req.n), timer)
    return _enqueue_reply(driver, req, timer.elapsed)


def _enqueue_bulk(driver: Driver, module: str, req: p.Request) -> p.Reply:
    timer = Timer()
    driver.enqueue_bulk(req.dsn, make_payloads(req.n), req.batch_size, timer)
    return _enqueue_reply(driver, req, timer.elapsed)


def _enqueue_reply(driver: Driver, req: p.Request, elapsed: float) -> p.Reply:
    with driver.open_monitor(req.dsn) as monitor:
        states = monitor.states()
    total = sum(states.values())
    verification = p.Verification(
        valid=total == req.n,
        expected=req.n,
        db_states=states,
        detail="" if total == req.n else f"{total} job rows in the database, expected {req.n}",
    )
    metrics = {"jobs_per_s": req.n / elapsed, "elapsed_s": elapsed, "n": float(req.n)}
    return p.Reply(ok=True, metrics=metrics, verification=verification)


def _prefill(driver: Driver, req: p.Request) -> None:
    payloads = make_payloads(req.n)
    try:
        driver.enqueue_bulk(req.dsn, payloads, req.batch_size, Timer())
    except NotApplicable:
        driver.enqueue_single(req.dsn, payloads, Timer())


def _worker_options(req: p.Request, *, record_times: bool) -> list[WorkerOptions]:
    return [
        WorkerOptions(
            scenario=req.scenario,
            index=i,
            processes=req.processes,
            concurrency=req.concurrency,
            sleep_s=req.sleep_s,
            record_times=record_times,
        )
        for i in range(req.processes)
    ]


def _wait_finished(pool: WorkerPool, monitor: Monitor, n: int, deadline: float) -> float:
    """Wait until n jobs are finished in the database; returns the perf_counter() at which they were.

    The workers' shared counters are cheap to read, so the database is only asked once they say all
    jobs have run; the time returned is taken just before the query whose snapshot showed them all.
    """
    while True:
        if time.perf_counter() > deadline:
            raise ScenarioTimeout(f"{pool.executed()} of {n} jobs executed, {monitor.finished()} finished")
        pool.check()
        if pool.executed() < n:
            time.sleep(_COUNTER_POLL_S)
            continue
        before = time.perf_counter()
        if monitor.finished() >= n:
            return before
        time.sleep(_DB_POLL_S)


def _drain(driver: Driver, module: str, req: p.Request) -> p.Reply:
    """drain_1p / drain_np / sleep_io: N jobs queued beforehand, then workers released together."""
    _prefill(driver, req)
    with driver.open_monitor(req.dsn) as monitor:
        try:
            with WorkerPool(module, req.dsn, _worker_options(req, record_times=False)) as pool:
                t0 = pool.go()
                try:
                    done_at = _wait_finished(pool, monitor, req.n, t0 + req.timeout_s)
                except ScenarioTimeout as exc:
                    pool.abandon()
                    return _timed_out(monitor, req, str(exc))
                results = pool.stop_and_collect()
        except WorkerFailed as exc:
            return p.Reply(ok=False, error=str(exc))
        verification = _verify_executions(results, monitor, req.n)
    elapsed = done_at - t0
    metrics = {"jobs_per_s": req.n / elapsed, "elapsed_s": elapsed, "n": float(req.n)}
    metrics["processes"] = float(req.processes)
    if req.sleep_s > 0 and req.concurrency > 0:
        ideal = req.concurrency * req.processes / req.sleep_s
        metrics["ideal_jobs_per_s"] = ideal
        metrics["fraction_of_ideal"] = metrics["jobs_per_s"] / ideal
    return p.Reply(ok=True, metrics=metrics, verification=verification)


def _steady(driver: Driver, module: str, req: p.Request) -> p.Reply:
    """A producer at a fixed rate (one job per transaction) against running workers."""
    n = max(2, round(req.rate * req.duration_s))
    payloads = make_payloads(n)
    with driver.open_monitor(req.dsn) as monitor:
        try:
            with WorkerPool(module, req.dsn, _worker_options(req, record_times=True)) as pool:
                pool.go()
                first = time.time() + 0.05
                send_at = [first + i / req.rate for i in range(n)]
                # A producer that cannot keep up stops a little after the planned duration.
                deadline = first + req.duration_s * _PRODUCER_OVERRUN
                committed_at = driver.produce_paced(req.dsn, Schedule(payloads, send_at, deadline))
                n = len(committed_at)
                try:
                    _wait_finished(pool, monitor, n, time.perf_counter() + req.timeout_s)
                except ScenarioTimeout as exc:
                    pool.abandon()
                    return _timed_out(monitor, req, str(exc), expected=n)
                results = pool.stop_and_collect()
        except WorkerFailed as exc:
            return p.Reply(ok=False, error=str(exc))
        verification = _verify_executions(results, monitor, n)
    started: dict[int, float] = {}
    for result in results:
        for job, at in zip(result.executed, result.started_at, strict=True):
            started.setdefault(job, at)
    # Warm-up by commit time, not planned send time: a producer that lags sends late whatever the plan.
    measured_from = first + req.warmup_s
    latencies_ms = sorted(
        (started[i] - committed_at[i]) * 1000.0 for i in range(n) if committed_at[i] >= measured_from and i in started
    )
    if len(latencies_ms) < 2 or n < 2:
        return p.Reply(ok=False, error=f"only {len(latencies_ms)} jobs after the warm-up: raise the duration")
    cuts = statistics.quantiles(latencies_ms, n=100, method="inclusive")
    metrics = {
        "p50_ms": cuts[49],
        "p95_ms": cuts[94],
        "p99_ms": cuts[98],
        "max_ms": latencies_ms[-1],
        "offered_jobs_per_s": req.rate,
        "achieved_jobs_per_s": (n - 1) / (committed_at[-1] - committed_at[0]),
        "producer_late_ms_max": max(c - s for c, s in zip(committed_at, send_at[:n], strict=True)) * 1000.0,
        "measured_jobs": float(len(latencies_ms)),
        "n": float(n),
    }
    return p.Reply(ok=True, metrics=metrics, verification=verification)


def _timed_out(monitor: Monitor, req: p.Request, what: str, expected: int = 0) -> p.Reply:
    states = monitor.states()
    verification = p.Verification(
        valid=False,
        expected=expected or req.n,
        db_states=states,
        detail=f"timed out after {req.timeout_s:.0f}s: {what}",
    )
    return p.Reply(ok=True, metrics={}, verification=verification)


def _verify_executions(results: list[WorkerResult], monitor: Monitor, n: int) -> p.Verification:
    seen = bytearray(n)
    duplicates = 0
    strays = 0
    for result in results:
        for job in result.executed:
            if not 0 <= job < n:
                strays += 1
            elif seen[job]:
                duplicates += 1
            else:
                seen[job] = 1
    distinct = sum(seen)
    finished = monitor.finished()
    states = monitor.states()
    problems: list[str] = []
    if distinct != n:
        problems.append(f"{n - distinct} jobs never ran")
    if duplicates:
        problems.append(f"{duplicates} extra executions")
    if strays:
        problems.append(f"{strays} executions of unknown payloads")
    if finished != n:
        problems.append(f"{finished} jobs finished in the database, expected {n}")
    leftover = sum(states.values()) - finished
    if leftover:
        problems.append(f"{leftover} job rows not in the success state")
    return p.Verification(
        valid=not problems,
        expected=n,
        executed_distinct=distinct,
        duplicates=duplicates,
        missing=n - distinct,
        finished_in_db=finished,
        db_states=states,
        detail="; ".join(problems),
    )
