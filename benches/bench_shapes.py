"""Queue shapes: one worker process drains claimable no-op tasks next to the work real queues hold.

Issue "Scale: a claim that never reads what it cannot take". Each shape gets a fresh database on
one embedded Postgres (``BENCH_SETTINGS``); its background rows are written with plain SQL, the
claimable tasks with ``run_<task>_many``; then one in-process worker (the bench's own process)
drains the claimable tasks, at each concurrency given:

- ``a`` a plain one-task spec, nothing else queued;
- ``b`` the spec also has an ``async def`` task (none of them queued);
- ``c`` (b) plus pending tasks with a label the worker lacks;
- ``d`` (b) plus tasks delayed by an hour at priority 10;
- ``e`` (b) plus finished rows (retention off);
- ``f`` a worker serving two of ten task names, with pending tasks of the other eight.

    .venv/bin/python -m benches.bench_shapes                       # 100k tasks, 1M/5M background
    .venv/bin/python -m benches.bench_shapes --scale 0.1 --shapes a,c --concurrency 16

Prints a Markdown table (drain rate, ratio to shape a at the same concurrency) and writes JSON
next to it with ``--out``. Speed is measured here, never asserted in a test; record results in
benches/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql
from typing_extensions import LiteralString

from anclax_fast import Client, Spec, TaskContext, TaskDef, Worker
from anclax_fast.runner import TaskRunnerBase
from anclax_fast.testing import BENCH_SETTINGS, EmbeddedPostgres
from benches.drivers.anclax_fast import JobParameters
from benches.harness.machine import describe_machine

# Written by pg's generate_series: no Python round trip per background row.
_SERIES = " FROM generate_series(1, {rows}) AS g"
_PENDING_OTHER_LABEL = (
    "INSERT INTO anclax.tasks (name, payload, labels) SELECT 'Job', jsonb_build_object('n', g), ARRAY['gpu']" + _SERIES
)
_DELAYED_HIGH_PRIORITY = (
    "INSERT INTO anclax.tasks (name, payload, priority, run_at) "
    "SELECT 'Job', jsonb_build_object('n', g), 10, now() + interval '1 hour'" + _SERIES
)
_FINISHED = (
    "INSERT INTO anclax.tasks (name, payload, status, attempts, started_at, finished_at) "
    "SELECT 'Job', jsonb_build_object('n', g), 'completed', 1, now(), now()" + _SERIES
)
_OTHER_NAMES = (
    "INSERT INTO anclax.tasks (name, payload) SELECT 'Job' || (2 + g % 8), jsonb_build_object('n', g)" + _SERIES
)


def _task(name: str) -> TaskDef:
    return TaskDef(name=name)


_JOB = _task("Job")
_ASYNC_JOB = _task("AsyncJob")
_TEN = tuple(_task(f"Job{i}") for i in range(10))


def _spec(tasks: Sequence[TaskDef]) -> Spec:
    return Spec(source="benches/bench_shapes.py", tasks=tuple(tasks), models={t.name: JobParameters for t in tasks})


class _Sync:
    def execute_job(self, ctx: TaskContext, params: JobParameters) -> None:
        pass


class _Mixed(_Sync):
    async def execute_async_job(self, ctx: TaskContext, params: JobParameters) -> None:
        pass


class _Ten:
    def __getattr__(self, name: str) -> Callable[[TaskContext, JobParameters], None]:
        if name.startswith("execute_job"):
            return lambda ctx, params: None
        raise AttributeError(name)


@dataclass(frozen=True)
class Shape:
    key: str
    title: str
    spec: Spec
    executor: Callable[[], object]
    # The task names the claimable tasks are spread over, and the ones the worker serves.
    claimable: tuple[TaskDef, ...]
    served: tuple[str, ...] | None = None
    # (SQL with a {rows} placeholder for the row count, rows at scale 1)
    background: tuple[LiteralString, int] | None = None


SHAPES = (
    Shape("a", "plain one-task spec", _spec([_JOB]), _Sync, (_JOB,)),
    Shape("b", "spec with an async def task too", _spec([_JOB, _ASYNC_JOB]), _Mixed, (_JOB,)),
    Shape(
        "c",
        "(b) + 1M pending with a label the worker lacks",
        _spec([_JOB, _ASYNC_JOB]),
        _Mixed,
        (_JOB,),
        background=(_PENDING_OTHER_LABEL, 1_000_000),
    ),
    Shape(
        "d",
        "(b) + 1M delayed 1 h at priority 10",
        _spec([_JOB, _ASYNC_JOB]),
        _Mixed,
        (_JOB,),
        background=(_DELAYED_HIGH_PRIORITY, 1_000_000),
    ),
    Shape(
        "e",
        "(b) + 5M finished rows",
        _spec([_JOB, _ASYNC_JOB]),
        _Mixed,
        (_JOB,),
        background=(_FINISHED, 5_000_000),
    ),
    Shape(
        "f",
        "serves 2 of 10 names, 1M pending of the other 8",
        _spec(_TEN),
        _Ten,
        _TEN[:2],
        served=("Job0", "Job1"),
        background=(_OTHER_NAMES, 1_000_000),
    ),
)


@dataclass
class Result:
    shape: str
    concurrency: int
    rates: list[float] = field(default_factory=list[float])

    @property
    def median(self) -> float:
        return statistics.median(self.rates)


def _fill_background(dsn: str, shape: Shape, scale: float) -> None:
    if shape.background is None:
        return
    statement, rows = shape.background
    count = max(1, int(rows * scale))
    started = time.perf_counter()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(rows=sql.Literal(count)))
        conn.execute("VACUUM (ANALYZE) anclax.tasks")
    print(f"  background: {count:,} rows in {time.perf_counter() - started:.1f} s", flush=True)


def _enqueue_claimable(client: Client, shape: Shape, tasks: int) -> tuple[int, int]:
    """Enqueue ``tasks`` claimable tasks; returns the id range they got."""
    runner = TaskRunnerBase(client)
    ids: list[int] = []
    per_name = tasks // len(shape.claimable)
    for task in shape.claimable:
        for start in range(0, per_name, 10_000):
            batch = [JobParameters(n=i) for i in range(start, min(per_name, start + 10_000))]
            ids.extend(runner._enqueue_many(task, batch))  # pyright: ignore[reportPrivateUsage]
    return min(ids), max(ids)


def _drain(client: Client, shape: Shape, concurrency: int, expected: int) -> float:
    worker = Worker(
        client,
        shape.executor(),
        shape.spec,
        concurrency=concurrency,
        tasks=shape.served,
        retention_completed=None,
        retention_failed=None,
    )
    started = time.perf_counter()
    worker.start()
    try:
        while worker.stats().get("completed", 0) < expected:
            time.sleep(0.002)
        elapsed = time.perf_counter() - started
    finally:
        worker.stop()
    return expected / elapsed


def _forget(dsn: str, id_range: tuple[int, int]) -> None:
    """Delete the drained tasks, so the next drain sees the shape's background only."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("DELETE FROM anclax.tasks WHERE id BETWEEN %s AND %s", id_range)
        conn.execute("VACUUM (ANALYZE) anclax.tasks")


def run(args: argparse.Namespace) -> list[Result]:
    """Fill every shape's database first, then drain them in turn, run after run, so that a change
    in what else the machine does spreads over every shape instead of biasing one."""
    shapes = [s for s in SHAPES if s.key in args.shapes.split(",")]
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    tasks = max(100, int(args.tasks * args.scale))
    results = {(s.key, c): Result(s.key, c) for s in shapes for c in concurrencies}
    with EmbeddedPostgres(settings=BENCH_SETTINGS) as pg:
        dsns: dict[str, str] = {}
        for shape in shapes:
            database = f"shape_{shape.key}"
            with psycopg.connect(pg.dsn, autocommit=True) as conn:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
            dsns[shape.key] = pg.dsn_for(database)
            print(f"shape {shape.key}: {shape.title}", flush=True)
            with Client(dsns[shape.key]) as client:
                client.migrate()
            _fill_background(dsns[shape.key], shape, args.scale)
        for run_number in range(1, args.runs + 1):
            for shape in shapes:
                with Client(dsns[shape.key]) as client:
                    for concurrency in concurrencies:
                        id_range = _enqueue_claimable(client, shape, tasks)
                        rate = _drain(client, shape, concurrency, id_range[1] - id_range[0] + 1)
                        results[shape.key, concurrency].rates.append(rate)
                        print(f"run {run_number}, shape {shape.key}, concurrency {concurrency}: {rate:,.0f} tasks/s")
                        _forget(dsns[shape.key], id_range)
    return list(results.values())


def report(results: list[Result], args: argparse.Namespace) -> str:
    base = {r.concurrency: r.median for r in results if r.shape == "a"}
    titles = {s.key: s.title for s in SHAPES}
    lines = [
        f"{max(100, int(args.tasks * args.scale)):,} claimable no-op tasks, one worker process, "
        f"background at scale {args.scale}, median of {args.runs} run(s) (min-max in brackets)",
        "",
        "| shape | concurrency | drain (tasks/s) | vs (a) |",
        "|---|---|---|---|",
    ]
    for r in results:
        ratio = f"{r.median / base[r.concurrency]:.2f}" if r.concurrency in base else "-"
        spread = f" [{min(r.rates):,.0f}-{max(r.rates):,.0f}]" if len(r.rates) > 1 else ""
        lines.append(f"| ({r.shape}) {titles[r.shape]} | {r.concurrency} | {r.median:,.0f}{spread} | {ratio} |")
    return "\n".join(lines)


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tasks", type=int, default=100_000, help="claimable tasks per drain")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplier on claimable and background rows")
    parser.add_argument("--shapes", default="a,b,c,d,e,f")
    parser.add_argument("--concurrency", default="16,256", help="comma-separated; 16 is the default")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write the results as JSON here")
    args = parser.parse_args()
    results = run(args)
    text = report(results, args)
    print()
    print(text)
    print()
    machine = describe_machine() | {"commit": _commit(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print("\n".join(f"- {key}: {value}" for key, value in machine.items()))
    if args.out is not None:
        args.out.write_text(
            json.dumps(
                {"args": vars(args) | {"out": str(args.out)}, "results": [r.__dict__ for r in results]}, indent=1
            )
        )


if __name__ == "__main__":
    main()
