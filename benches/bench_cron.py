"""``CronSchedule.next_after`` against ``croniter``, both called from Python.

For each expression of a mix, both sides are built once, then asked for the next fire time after
each of a fixed list of tz-aware instants (the same instants, in the expression's zone, for
both); the time per call includes everything a caller pays: argument conversion, the search, and
building the result ``datetime``. Each measurement is repeated, the two sides alternately, and
the medians are kept.

Run on a release build (``make install`` builds one)::

    .venv/bin/python benches/bench_cron.py [--runs 7] [--calls 2000]

Results are recorded in ``benches/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Protocol, cast
from zoneinfo import ZoneInfo

from anclax_fast.cron import CronSchedule


class _Croniter(Protocol):
    def get_next(self, ret_type: type[datetime], start_time: datetime | None = None) -> datetime: ...


# croniter ships no type information; this is the one call the bench makes.
_croniter_module = importlib.import_module("croniter")
croniter = cast("Callable[[str, datetime], _Croniter]", _croniter_module.croniter)


@dataclass(frozen=True)
class Case:
    ours: str
    theirs: str  # croniter's spelling: seconds last, zone given by the start datetime
    zone: str


# The same mix as the criterion bench (rust/benches/cron.rs).
MIX = (
    Case("0 */1 * * *", "0 */1 * * *", "UTC"),
    Case("0 0 2 * * *", "0 2 * * * 0", "UTC"),
    Case("*/30 * * * * *", "* * * * * */30", "UTC"),
    Case("0 0 */6 * * *", "0 */6 * * * 0", "UTC"),
    Case("0 0 1 * * *", "0 1 * * * 0", "UTC"),
    Case("*/5 9-17 * * MON-FRI", "*/5 9-17 * * MON-FRI", "UTC"),
    Case("CRON_TZ=America/New_York 30 2 * * *", "30 2 * * *", "America/New_York"),
    Case("CRON_TZ=Europe/Berlin 0 0 9 1,15 * *", "0 9 1,15 * * 0", "Europe/Berlin"),
    Case("CRON_TZ=Australia/Lord_Howe 15 1 * * SUN", "15 1 * * SUN", "Australia/Lord_Howe"),
    Case("0 0 29 2 *", "0 0 29 2 *", "UTC"),
)


def instants(zone: str, count: int, seed: int) -> list[datetime]:
    """Instants spread over 2025-2030, with microseconds, in ``zone``."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=timezone.utc)
    span = int(timedelta(days=5 * 365).total_seconds())
    tz = ZoneInfo(zone)
    return [
        (start + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(10**6))).astimezone(tz)
        for _ in range(count)
    ]


def mean_call_us(call: Callable[[datetime], object], inputs: Sequence[datetime]) -> float:
    """The mean time of one call over ``inputs``, in microseconds."""
    begin = time.perf_counter_ns()
    for dt in inputs:
        call(dt)
    return (time.perf_counter_ns() - begin) / len(inputs) / 1000


@dataclass(frozen=True)
class Row:
    expression: str
    ours_us: float
    theirs_us: float
    ratio: float


def bench(runs: int, calls: int) -> list[Row]:
    """Per expression: the medians over ``runs`` of each side's time per call, and of the ratio.

    The two sides are measured alternately within each run, so that a machine shared with other
    work slows both alike; the median ratio is the figure that load disturbs least.
    """
    rows: list[Row] = []
    for i, case in enumerate(MIX):
        inputs = instants(case.zone, calls, seed=i)
        ours = CronSchedule(case.ours)
        theirs = croniter(case.theirs, inputs[0])
        # Both sides must agree before their speed is worth comparing.
        for dt in inputs[:50]:
            assert ours.next_after(dt) == theirs.get_next(datetime, start_time=dt).astimezone(timezone.utc), case

        def call_theirs(dt: datetime, theirs: _Croniter = theirs) -> object:
            return theirs.get_next(datetime, start_time=dt)

        samples = [(mean_call_us(ours.next_after, inputs), mean_call_us(call_theirs, inputs)) for _ in range(runs)]
        rows.append(
            Row(
                case.ours,
                statistics.median(o for o, _ in samples),
                statistics.median(t for _, t in samples),
                statistics.median(t / o for o, t in samples),
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=7, help="repetitions per measurement (the median is kept)")
    parser.add_argument("--calls", type=int, default=2000, help="instants per expression")
    args = parser.parse_args(argv)
    croniter_version = importlib.import_module("importlib.metadata").version("croniter")
    print(f"python {platform.python_version()}, croniter {croniter_version}, {args.runs} runs x {args.calls} calls\n")
    rows = bench(args.runs, args.calls)
    out = sys.stdout
    out.write("| expression | anclax-fast µs/call | croniter µs/call | ratio |\n|---|---:|---:|---:|\n")
    for row in rows:
        out.write(f"| `{row.expression}` | {row.ours_us:.2f} | {row.theirs_us:.1f} | {row.ratio:.0f}x |\n")
    ours = statistics.mean(row.ours_us for row in rows)
    theirs = statistics.mean(row.theirs_us for row in rows)
    ratio = statistics.geometric_mean(row.ratio for row in rows)
    out.write(f"| **mix** (mean µs, geometric-mean ratio) | **{ours:.2f}** | **{theirs:.1f}** | **{ratio:.0f}x** |\n")


if __name__ == "__main__":
    main()
