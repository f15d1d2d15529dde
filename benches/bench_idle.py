"""Idle cost: statements per second that a fleet of workers with nothing to do sends to Postgres.

Starts one embedded Postgres with ``pg_stat_statements``, then ``--workers`` worker processes
(each its own Python process, engine and connections) serving a spec with a cron task firing
every second (a no-op), and lets them idle for ``--seconds``. Counts every statement the server
ran meanwhile (``pg_stat_statements``, top-level statements only: what the workers send, not
the statements inside the engine's SQL functions; the bench's own queries excluded) and
reports statements per second per worker, the busiest statements first.

    .venv/bin/python -m benches.bench_idle --workers 4 --seconds 60

Speed is measured here, never asserted in a test; record results in benches/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from anclax_fast import Client
from anclax_fast.testing import BENCH_SETTINGS, EmbeddedPostgres

_WORKER = """
import sys, time
from pydantic import BaseModel
from anclax_fast import Client, CronJob, Spec, TaskContext, TaskDef, Worker

class P(BaseModel):
    n: int = 0

SPEC = Spec(source="bench_idle", tasks=(TaskDef("Tick", cron=CronJob("* * * * * *", {})), TaskDef("Job")),
            models={"Tick": P, "Job": P})

class Executor:
    def execute_tick(self, ctx: TaskContext, params: P) -> None:
        pass
    def execute_job(self, ctx: TaskContext, params: P) -> None:
        pass

with Client(sys.argv[1]) as client, Worker(client, Executor(), SPEC, auto_migrate=False):
    print("started", flush=True)
    sys.stdin.read()
"""

_STATS = """
SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) AS query
FROM pg_stat_statements
WHERE query NOT LIKE '%%pg_stat_statements%%'
ORDER BY calls DESC
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds to let start-up settle first")
    args = parser.parse_args()
    settings = dict(BENCH_SETTINGS) | {
        "shared_preload_libraries": "pg_stat_statements",
        "pg_stat_statements.track": "top",
    }
    with EmbeddedPostgres(settings=settings) as pg:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        with Client(pg.dsn) as client:
            client.migrate()
        env = os.environ | {"PYTHONPATH": str(Path(__file__).resolve().parents[1])}
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", _WORKER, pg.dsn], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env
            )
            for _ in range(args.workers)
        ]
        try:
            for worker in workers:
                assert worker.stdout is not None
                worker.stdout.readline()
            time.sleep(args.warmup)
            with psycopg.connect(pg.dsn, autocommit=True) as conn:
                conn.execute("SELECT pg_stat_statements_reset()")
                started = time.perf_counter()
                time.sleep(args.seconds)
                rows = conn.execute(_STATS).fetchall()
                elapsed = time.perf_counter() - started
                fires = conn.execute(
                    "SELECT count(*) FROM anclax.tasks "
                    "WHERE name = 'Tick' AND finished_at > now() - %s * interval '1 s'",
                    (elapsed,),
                ).fetchone()
        finally:
            for worker in workers:
                assert worker.stdin is not None
                worker.stdin.close()
            for worker in workers:
                worker.wait(timeout=60)
    total = sum(int(calls) for calls, _ in rows)
    per_worker = total / elapsed / args.workers
    print(f"{args.workers} idle workers, a cron firing every second, {elapsed:.0f} s")
    print(f"  cron fires completed: {fires[0] if fires else '?'}")
    print(f"  statements: {total} = {per_worker:.2f} per second per worker")
    print("  busiest statements (calls, per second per worker):")
    for calls, query in rows[:15]:
        print(f"    {calls:7d}  {int(calls) / elapsed / args.workers:6.2f}/s  {query}")


if __name__ == "__main__":
    main()
