"""Enqueue from asyncio against enqueue from threads: one task per call, latency per call.

Runs the same number of ``run_<task>`` calls twice on one embedded Postgres (``BENCH_SETTINGS``:
fsync on, so every enqueue is a durable commit): from ``--coroutines`` concurrent coroutines on
one event loop through :class:`anclax_fast.AsyncClient`, and from ``--threads`` threads through
:class:`anclax_fast.Client`, both with the same pool size. Reports calls per second and the p50,
p90, p99 and p99.9 of the time each call took (in the asyncio case, from the call to the moment
the coroutine resumes with the id, so time spent waiting for a pool connection counts).

    .venv/bin/python -m benches.bench_async_enqueue --calls 20000 [--coroutines 100 --threads 8]

Speed is measured here, never asserted in a test; record results in benches/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import threading
import time
from dataclasses import dataclass

from anclax_fast import AsyncClient, Client
from anclax_fast.client import DEFAULT_POOL_SIZE
from anclax_fast.runner import AsyncTaskRunnerBase
from anclax_fast.testing import BENCH_SETTINGS, EmbeddedPostgres
from benches.drivers.anclax_fast import JOB, JobParameters, JobRunner


class AsyncJobRunner(AsyncTaskRunnerBase):
    async def run_job(self, params: JobParameters) -> int:
        return await self._enqueue(JOB, params)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class Result:
    mode: str
    calls: int
    seconds: float
    cpu_seconds: float
    latencies: list[float]

    def line(self) -> str:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

        return (
            f"{self.mode:<28} {self.calls / self.seconds:>9,.0f} calls/s   "
            f"p50 {pct(50):6.2f} ms  p90 {pct(90):6.2f} ms  p99 {pct(99):6.2f} ms  p99.9 {pct(99.9):6.2f} ms  "
            f"(mean {statistics.fmean(ordered) * 1000:.2f} ms; {self.cpu_seconds / self.calls * 1e6:.0f} µs CPU/call)"
        )


def threads(dsn: str, calls: int, workers: int, pool_size: int) -> Result:
    latencies: list[float] = []
    lock = threading.Lock()
    per_thread = calls // workers
    with Client(dsn, pool_size=pool_size) as client:
        runner = JobRunner(client)
        for n in range(pool_size * 2):  # open the pool's connections, prepare the statement
            runner.run_job(JobParameters(n=n))
        barrier = threading.Barrier(workers + 1)

        def work() -> None:
            mine: list[float] = []
            barrier.wait()
            for n in range(per_thread):
                started = time.perf_counter()
                runner.run_job(JobParameters(n=n))
                mine.append(time.perf_counter() - started)
            with lock:
                latencies.extend(mine)

        pool = [threading.Thread(target=work) for _ in range(workers)]
        for thread in pool:
            thread.start()
        barrier.wait()
        started, cpu = time.perf_counter(), cpu_seconds()
        for thread in pool:
            thread.join()
        elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    return Result(f"Client, {workers} threads", per_thread * workers, elapsed, cpu, latencies)


def coroutines(dsn: str, calls: int, concurrency: int, pool_size: int) -> Result:
    per_coroutine = calls // concurrency

    async def main() -> Result:
        async with AsyncClient(dsn, pool_size=pool_size) as client:
            runner = AsyncJobRunner(client)
            await asyncio.gather(*(runner.run_job(JobParameters(n=n)) for n in range(pool_size * 2)))
            latencies: list[float] = []

            async def work() -> None:
                for n in range(per_coroutine):
                    started = time.perf_counter()
                    await runner.run_job(JobParameters(n=n))
                    latencies.append(time.perf_counter() - started)

            started, cpu = time.perf_counter(), cpu_seconds()
            await asyncio.gather(*(work() for _ in range(concurrency)))
            elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        return Result(f"AsyncClient, {concurrency} coroutines", per_coroutine * concurrency, elapsed, cpu, latencies)

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--coroutines", type=int, default=100)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--pool-size", type=int, default=DEFAULT_POOL_SIZE)
    parser.add_argument("--rounds", type=int, default=2, help="alternate the two modes this many times")
    parser.add_argument("--no-fsync", action="store_true", help="the test suite's settings: CPU costs, not commits")
    args = parser.parse_args()
    with EmbeddedPostgres(settings=None if args.no_fsync else BENCH_SETTINGS) as pg:
        with Client(pg.dsn) as client:
            client.migrate()
        for _ in range(args.rounds):
            print(threads(pg.dsn, args.calls, args.threads, args.pool_size).line(), flush=True)
            print(coroutines(pg.dsn, args.calls, args.coroutines, args.pool_size).line(), flush=True)


if __name__ == "__main__":
    main()
