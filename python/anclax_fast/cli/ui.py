"""``anclax-fast ui``: serve the dashboard (``anclax_fast.ui``) with uvicorn."""

from __future__ import annotations

import argparse
import os

from anclax_fast.cli._common import EXIT_OK, EXIT_USAGE, Subcommands, error, info
from anclax_fast.cli._runtime import CommandError, add_dsn_argument, guarded
from anclax_fast.client import Client

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "TOKEN_ENV", "register"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
TOKEN_ENV = "ANCLAX_UI_TOKEN"

_DESCRIPTION = f"""\
Serve the web dashboard: overview, tasks, failures (with bulk retry), schedules, workers, updated
live. Read-only unless --allow-actions. Listening beyond this machine (--host other than a
loopback address) requires a token: --token, or better ${TOKEN_ENV} (a command line is visible to
every local user)."""


def register(subcommands: Subcommands) -> None:
    parser = subcommands.add_parser(
        "ui",
        help="serve the web dashboard",
        description=_DESCRIPTION,
        epilog="exit codes: 0 stopped; 2 usage error (a token missing off loopback); 3 the database is unreachable",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_dsn_argument(parser)
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--allow-actions",
        action="store_true",
        help="allow retry, cancel, delete and trigger from the pages (default: read-only)",
    )
    parser.add_argument(
        "--token",
        default=None,
        help=f"require this token from every request, 16+ characters (default: ${TOKEN_ENV})",
    )
    parser.add_argument("--root-path", default="", help="the path prefix when served behind a proxy at a sub-path")
    parser.set_defaults(run=guarded(run))


def run(args: argparse.Namespace) -> int:
    try:
        from anclax_fast.ui import create_app  # noqa: PLC0415 - only with the extra
        from anclax_fast.ui.security import MIN_TOKEN_LENGTH, is_loopback  # noqa: PLC0415
        from anclax_fast.ui.server import run as run_server  # noqa: PLC0415
    except ImportError:
        raise CommandError("the dashboard needs the 'ui' extra: pip install 'anclax-fast[ui]'", EXIT_USAGE) from None
    token: str | None = args.token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(args.host) and token is None:
        raise CommandError(
            f"--host {args.host} makes the dashboard reachable from other machines: give it a token "
            f"(set {TOKEN_ENV}, or --token) of at least {MIN_TOKEN_LENGTH} characters, e.g. `openssl rand -hex 16`",
            EXIT_USAGE,
        )
    with Client(args.dsn) as client:
        client.core.check_schema()
        # Raises ConfigurationError (exit 2) for a token too short to be safe.
        app = create_app(client, allow_actions=args.allow_actions, token=token)
        host = f"[{args.host}]" if ":" in args.host else args.host
        mode = ("actions allowed" if args.allow_actions else "read-only") + (", token required" if token else "")
        info(f"anclax-fast ui on http://{host}:{args.port}{args.root_path or '/'} ({mode}); Ctrl-C stops it")
        if not run_server(app, host=args.host, port=args.port, root_path=args.root_path):
            error(f"could not listen on {args.host}:{args.port} (in use, or not an address of this machine?)")
            return EXIT_USAGE
    return EXIT_OK
