"""A chaos worker process: ``python -m tests.chaos.worker --dsn DSN --log FILE [options]``.

Prints ``ready <worker id>`` once the worker has registered (and started the spec's cron
schedule), then runs until SIGTERM. Engine log lines (warnings and up) go to stderr, which the
fleet redirects to a file per process.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from anclax_fast import Client, Worker
from tests.chaos.tasks import CHAOS_SPEC, ChaosExecutor, RunLog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--log", type=Path, required=True, help="the execution log of this process")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--lease-ttl", type=float, default=2.0)
    parser.add_argument("--timeout-grace", type=float, default=1.0)
    parser.add_argument("--shutdown-grace", type=float, default=5.0)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"
    )
    client = Client(args.dsn, pool_size=2)
    worker = Worker(
        client,
        ChaosExecutor(RunLog(args.log)),
        CHAOS_SPEC,
        concurrency=args.concurrency,
        lease_ttl=args.lease_ttl,
        poll_interval=0.2,
        shutdown_grace=args.shutdown_grace,
        timeout_grace=args.timeout_grace,
        # Nothing may disappear before the checker has seen it.
        retention_completed=None,
        retention_failed=None,
    )
    worker.start()
    print(f"ready {worker.worker_id}", flush=True)
    worker.run()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
