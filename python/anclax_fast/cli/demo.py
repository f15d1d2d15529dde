"""``anclax-fast demo``: the product end to end (the README's first command)."""

from __future__ import annotations

import argparse

from anclax_fast.cli._common import Subcommands
from anclax_fast.cli._runtime import add_dsn_argument, guarded
from anclax_fast.demo.run import DemoOptions, run_demo

__all__ = ["register"]

_DESCRIPTION = """\
Run the example application end to end: start a throwaway PostgreSQL (unless --dsn or
ANCLAX_DSN names a database), generate the typed package from the tutorial's tasks, start a
fleet of worker processes, enqueue a realistic mix of tasks (fast ones, retried ones, fatal
failures whose hook writes an audit row in the failing transaction, delayed ones, a cron every
5 seconds), show live progress, and print a summary. With the 'ui' extra, the dashboard
runs too (its address is printed first; on a terminal it stays up after the summary until
Enter). Nothing is left running afterwards."""


def register(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "demo",
        help="run an example application end to end",
        description=_DESCRIPTION,
        epilog="exit codes: 0 the demo ran and its results add up; 1 something went wrong (details above)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_dsn_argument(parser)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds to enqueue for (default 20)")
    parser.add_argument("--processes", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--concurrency", type=int, default=16, help="threads per worker process (default 16)")
    parser.add_argument(
        "--pings-per-second", type=int, default=2000, help="rate of the no-op Ping tasks (default 2000)"
    )
    parser.add_argument(
        "--ui-port", type=int, default=8080, help="the dashboard's port, another if taken (default 8080; needs [ui])"
    )
    parser.add_argument("--no-ui", action="store_true", help="do not start the dashboard")
    parser.set_defaults(run=guarded(run))


def run(args: argparse.Namespace) -> int:
    return run_demo(
        DemoOptions(
            dsn=args.dsn,
            duration=args.duration,
            processes=args.processes,
            concurrency=args.concurrency,
            pings_per_second=args.pings_per_second,
            ui_port=None if args.no_ui else args.ui_port,
        )
    )
