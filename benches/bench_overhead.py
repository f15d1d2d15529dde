"""Per-task cost inside a worker process: CPU microseconds per no-op task, and where they go.

Fills a queue with N no-op tasks, then drains it with one in-process worker and reports the
process's CPU time per task (user + system, all threads: executor threads, the tokio runtime,
the Python side). With ``--perf``, samples the process with ``perf record -e cpu-clock`` (a
software event: works where hardware counters are unavailable) and attributes the samples to
the Python interpreter, the Rust extension, libc and the kernel, plus the top symbols.

    .venv/bin/python -m benches.bench_overhead --tasks 100000 --concurrency 256 [--perf]

Speed is measured here, never asserted in a test; record results in benches/RESULTS.md.
"""

from __future__ import annotations

import argparse
import collections
import os
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from anclax_fast import Client, TaskContext, Worker
from anclax_fast.testing import BENCH_SETTINGS, EmbeddedPostgres
from benches.drivers.anclax_fast import SPEC, JobParameters, JobRunner


class Noop:
    def execute_job(self, ctx: TaskContext, params: JobParameters) -> None:
        pass


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _perf_breakdown(data: Path) -> list[str]:
    report = subprocess.run(
        ["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,symbol", "--stdio", "-g", "none"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    by_dso: dict[str, float] = collections.defaultdict(float)
    symbols: list[str] = []
    for line in report.splitlines():
        parts = line.split()
        if not parts or not parts[0].endswith("%"):
            continue
        share = float(parts[0].rstrip("%"))
        dso = parts[1]
        by_dso[dso] += share
        if len(symbols) < 15:
            symbols.append(f"  {share:5.1f}%  {dso:28.28}  {' '.join(parts[3:])[:70]}")
    lines = ["samples by binary:"] + [
        f"  {share:5.1f}%  {dso}" for dso, share in sorted(by_dso.items(), key=lambda kv: -kv[1])[:8]
    ]
    return [*lines, "top symbols:", *symbols]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--perf", action="store_true", help="sample the worker process with perf")
    args = parser.parse_args()
    with EmbeddedPostgres(settings=BENCH_SETTINGS) as pg, Client(pg.dsn) as client:
        client.migrate()
        runner = JobRunner(client)
        for start in range(0, args.tasks, 10_000):
            runner.run_job_many([JobParameters(n=i) for i in range(start, min(args.tasks, start + 10_000))])
        worker = Worker(client, Noop(), SPEC, concurrency=args.concurrency, retention_completed=None)
        perf_data = Path(tempfile.mkdtemp()) / "perf.data"
        perf = None
        cpu_before, wall_before = _cpu_seconds(), time.perf_counter()
        worker.start()
        if args.perf and shutil.which("perf"):
            perf = subprocess.Popen(
                ["perf", "record", "-e", "cpu-clock", "-F", "1999", "-g", "-p", str(os.getpid()), "-o", str(perf_data)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        while worker.stats()["completed"] < args.tasks:
            time.sleep(0.002)
        wall = time.perf_counter() - wall_before
        cpu = _cpu_seconds() - cpu_before
        if perf is not None:
            perf.send_signal(2)
            perf.wait()
        stats = worker.stats()
        worker.stop()
    print(f"{args.tasks} no-op tasks, concurrency {args.concurrency}, one worker process")
    print(f"  drain rate            {args.tasks / wall:,.0f} tasks/s ({wall:.2f} s)")
    print(f"  worker process CPU    {cpu * 1e6 / args.tasks:.1f} µs per task (all threads, user + system)")
    print(f"  claim statements      {stats['claim_batches']} (mean batch {args.tasks / stats['claim_batches']:.0f})")
    if perf is not None:
        print("\n".join(_perf_breakdown(perf_data)))


if __name__ == "__main__":
    main()
