"""The ``anclax-fast`` command line.

Each command is a module of this package with a ``register(subcommands)`` function that adds its
parser and sets ``run`` (a function of the parsed arguments returning the exit code). To add a
command, write the module and list it in :data:`COMMANDS`.

Exit codes shared by all commands: 0 success, 1 "not up to date" (``generate --check``), 2 usage
errors and invalid input (a bad flag, a missing or invalid spec file).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import cast

from anclax_fast import __version__
from anclax_fast.cli import demo, generate, migrate, schedules, tasks, ui, worker
from anclax_fast.cli._common import EXIT_OK, EXIT_STALE, EXIT_USAGE

__all__ = ["COMMANDS", "EXIT_OK", "EXIT_STALE", "EXIT_USAGE", "build_parser", "main"]

# The command modules, in the order ``--help`` lists them.
COMMANDS = (generate, migrate, worker, tasks, schedules, ui, demo)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="anclax-fast",
        description="A typed, Postgres-backed background-task queue for Python.",
        epilog="Run 'anclax-fast COMMAND --help' for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subcommands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.register(subcommands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    run = cast("Callable[[argparse.Namespace], int]", args.run)
    try:
        return run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
