"""``anclax-fast worker APP``: run a worker (or a fleet of worker processes) for a task spec."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from anclax_fast.cli._common import EXIT_OK, EXIT_USAGE, Subcommands
from anclax_fast.cli._runtime import CommandError, add_dsn_argument, guarded, load_app, load_spec_for
from anclax_fast.client import Client
from anclax_fast.fleet import Fleet
from anclax_fast.logs import configure_logging
from anclax_fast.worker import (
    DEFAULT_ASYNC_CONCURRENCY,
    DEFAULT_CONCURRENCY,
    DEFAULT_LEASE_TTL,
    DEFAULT_POLL_INTERVAL,
    DEFAULT_SHUTDOWN_GRACE,
    Worker,
)

__all__ = ["register"]

log = logging.getLogger("anclax_fast.cli.worker")

_DESCRIPTION = """\
Run the tasks of a spec with an executor: an object with execute_<task> methods (and
on_<task>_failed for tasks with onFailed), usually a class implementing the generated Executor
protocol. APP is 'module:attribute'; a class or a zero-argument factory is called to make it.

The worker checks at start that the executor has a method for every task of the spec (use
--tasks to serve only some), migrates the schema (unless --no-migrate), and runs until SIGTERM
or Ctrl-C, after which it finishes running tasks within the grace period and hands the rest
back to the queue. With --processes P it supervises P worker processes (each with its own
engine and threads, so CPU-bound tasks scale past the GIL), restarting any that dies."""

_EPILOG = """\
exit codes:
  0  stopped gracefully
  2  usage error, invalid spec or DSN
  3  the database is unreachable or its schema is not migrated (with --no-migrate)
  4  APP cannot be imported or lacks methods for tasks of the spec
  5  worker processes keep crashing right after they start

examples:
  anclax-fast worker myapp.tasks:Executor
  anclax-fast worker myapp.tasks:make_executor --processes 4 --concurrency 32 --labels gpu"""


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def register(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "worker",
        help="run workers for a task spec",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("app", metavar="APP", help="the executor, as module:attribute")
    parser.add_argument(
        "--spec", type=Path, default=None, help="the task spec (default: anclax.yaml's 'spec', else api/tasks.yaml)"
    )
    add_dsn_argument(parser)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_CONCURRENCY,
        help=f"executor threads per process (default {DEFAULT_CONCURRENCY})",
    )
    parser.add_argument(
        "--async-concurrency",
        type=int,
        default=DEFAULT_ASYNC_CONCURRENCY,
        help=f"async def tasks in flight per process (default {DEFAULT_ASYNC_CONCURRENCY})",
    )
    parser.add_argument("--processes", type=int, default=1, help="worker processes to run (default 1)")
    parser.add_argument(
        "--labels",
        type=_comma_list,
        default=[],
        help="comma-separated labels: run tasks whose labels are all among them",
    )
    parser.add_argument(
        "--tasks", type=_comma_list, default=None, help="comma-separated task names to serve (default: all)"
    )
    parser.add_argument("--metrics-port", type=int, default=None, help="serve Prometheus metrics on this port")
    parser.add_argument(
        "--lease-ttl",
        type=float,
        default=DEFAULT_LEASE_TTL,
        help=f"seconds before a silent worker's tasks are rescued (default {DEFAULT_LEASE_TTL:g})",
    )
    parser.add_argument(
        "--shutdown-grace",
        type=float,
        default=DEFAULT_SHUTDOWN_GRACE,
        help=f"seconds running tasks get to finish on stop (default {DEFAULT_SHUTDOWN_GRACE:g})",
    )
    parser.add_argument("--poll-interval", type=float, default=DEFAULT_POLL_INTERVAL, help=argparse.SUPPRESS)
    parser.add_argument("--no-migrate", action="store_true", help="do not create or upgrade the schema at start")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO (default), WARNING or ERROR")
    parser.add_argument("--log-format", choices=["text", "json"], default="text", help="log line format (default text)")
    # Set by the fleet supervisor on its children: where to write the bound metrics port.
    parser.add_argument("--metrics-port-file", type=Path, default=None, help=argparse.SUPPRESS)
    parser.set_defaults(run=guarded(run))


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level, args.log_format)
    if args.processes < 1:
        raise CommandError("--processes must be at least 1", EXIT_USAGE)
    if args.processes > 1:
        load_spec_for(args.spec)  # fail here, in the supervisor, rather than in every child
        load_app(args.app)
        return Fleet.from_worker_args(args).run()
    # SIGTERM and SIGINT mean "stop gracefully" from the first instant: one that arrives while the
    # worker loads and starts (a supervisor stopping the fleet meanwhile) is honoured once it has
    # started, instead of killing the process before it could leave cleanly.
    stop_requested = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda signum, frame: stop_requested.set())
    spec = load_spec_for(args.spec)
    executor = load_app(args.app)
    with Client(args.dsn) as client:
        worker = Worker(
            client,
            executor,
            spec,
            concurrency=args.concurrency,
            async_concurrency=args.async_concurrency,
            labels=args.labels,
            tasks=args.tasks,
            lease_ttl=args.lease_ttl,
            poll_interval=args.poll_interval,
            shutdown_grace=args.shutdown_grace,
            auto_migrate=not args.no_migrate,
        )
        worker.start()
        if args.metrics_port is not None:
            from anclax_fast.metrics import serve_metrics  # noqa: PLC0415 - only with --metrics-port

            port = serve_metrics(worker, client, args.metrics_port)
            log.info("serving Prometheus metrics on :%d/metrics", port)
            if args.metrics_port_file is not None:
                args.metrics_port_file.write_text(str(port))
        try:
            while not stop_requested.wait(0.25):
                pass
        finally:
            worker.stop()
    return EXIT_OK
