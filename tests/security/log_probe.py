"""Run a worker, and fail to connect in every way, with all logging on, in a fresh process.

``python -m tests.security.log_probe GOOD_DSN WRONG_PASSWORD_DSN UNREACHABLE_DSN`` prints every
log record (any logger, DEBUG and up, with tracebacks), every exception with its traceback, and
the ``repr`` of the objects that hold a DSN; test_secrets.py checks that no password shows up.
A fresh process, because the Rust side caches each logger's level the first time it logs.
"""

from __future__ import annotations

import logging
import sys
import traceback

from anclax_fast import Client, Worker
from tests.support import SPEC, Params, Recorder, Runner


def main(good: str, wrong_password: str, unreachable: str) -> None:
    logging.basicConfig(
        level=logging.DEBUG, stream=sys.stdout, format="LOG %(name)s %(levelname)s %(message)s", force=True
    )
    log = logging.getLogger("log_probe")
    with Client(good) as client:
        print("REPR", repr(client), client.dsn, repr(client.core))
        worker = Worker(client, Recorder(), SPEC, poll_interval=0.2, lease_ttl=2.0, auto_migrate=False)
        print("REPR", repr(worker))
        with worker:
            task_id = Runner(client).run("Echo", Params())
            print("STATUS", client.wait(task_id, timeout=30).status)
    for dsn in (wrong_password, unreachable):
        try:
            with Client(dsn) as bad:
                bad.task(1)
        except Exception:
            log.exception("the client could not connect")
            print("TRACEBACK", traceback.format_exc())
        try:
            with Client(dsn) as bad:
                Worker(bad, Recorder(), SPEC, auto_migrate=False).start()
        except Exception:
            log.exception("the worker could not start")
            print("TRACEBACK", traceback.format_exc())


if __name__ == "__main__":
    main(*sys.argv[1:4])
