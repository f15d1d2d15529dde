"""``python -m benches.drivers <system>``: answer one request from the harness (see protocol.py).

Reads one JSON :class:`~benches.drivers.protocol.Request` on stdin and prints one JSON
:class:`~benches.drivers.protocol.Reply` as the last line of stdout. Runs inside the system's own
virtualenv, with the repository root as the working directory.
"""

from __future__ import annotations

import contextlib
import sys
import traceback

from benches.drivers import protocol as p
from benches.drivers.pool import load_driver
from benches.drivers.scenarios import run_scenario


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m benches.drivers <system>  (request JSON on stdin)", file=sys.stderr)
        return 2
    module = f"benches.drivers.{argv[0]}"
    try:
        request = p.Request.from_json(sys.stdin.read())
        # A peer's own prints must not be taken for the reply: everything but the reply goes to stderr.
        with contextlib.redirect_stdout(sys.stderr):
            reply = _answer(module, request)
    except BaseException:
        reply = p.Reply(ok=False, error=traceback.format_exc())
    print(reply.to_json(), flush=True)
    return 0


def _answer(module: str, request: p.Request) -> p.Reply:
    driver = load_driver(module)
    if request.op == p.OP_DESCRIBE:
        return driver.describe()
    if request.op == p.OP_INSTALL:
        driver.install(request.dsn)
        return p.Reply(ok=True)
    if request.op == p.OP_RUN:
        return run_scenario(driver, module, request)
    return p.Reply(ok=False, error=f"unknown op {request.op!r}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
