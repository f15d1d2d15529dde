"""``anclax-fast migrate``: create or upgrade the ``anclax`` schema."""

from __future__ import annotations

import argparse

from anclax_fast._core import SCHEMA_VERSION
from anclax_fast.cli._common import EXIT_OK, Subcommands, info
from anclax_fast.cli._runtime import add_dsn_argument, guarded
from anclax_fast.client import Client

__all__ = ["register"]

_DESCRIPTION = """\
Create the anclax schema (tables, indexes, functions) in the database, or upgrade it to the
version this anclax-fast needs. Idempotent, and safe to run from many processes at once (an
advisory lock serializes them). Workers also migrate when they start, unless --no-migrate."""

_EPILOG = """\
exit codes:
  0  the schema is up to date
  2  invalid DSN
  3  the database is unreachable or refused the migration"""


def register(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "migrate",
        help="create or upgrade the anclax schema",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_dsn_argument(parser)
    parser.set_defaults(run=guarded(run))


def run(args: argparse.Namespace) -> int:
    with Client(args.dsn) as client:
        applied = client.migrate()
        where = client.dsn
    if applied:
        info(
            f"applied migration(s) {', '.join(map(str, applied))} to {where}; the schema is at version {SCHEMA_VERSION}"
        )
    else:
        info(f"the anclax schema in {where} is up to date (version {SCHEMA_VERSION})")
    return EXIT_OK
