"""A worker in a process of its own, for tests that kill, freeze or restart workers.

Every attempt appends ``task_id attempt pid start end`` (monotonic-free: wall clock ns) to
``--log``, so a test can prove that no task ran twice at the same time. An attempt numbered up to
the task's ``fail_times`` parameter raises after it is logged.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anclax_fast import Client, Worker
from anclax_fast._core import TaskContext
from tests.support import CRON_SPEC, SPEC, Params


class Logged:
    def __init__(self, log: Path, sleep: float) -> None:
        self._file = log.open("a", buffering=1)
        self._lock = threading.Lock()
        self._sleep = sleep

    def _run(self, ctx: TaskContext, params: Params) -> None:
        start = time.time_ns()
        pause = params.sleep or self._sleep
        if pause:
            time.sleep(pause)
        end = time.time_ns()
        with self._lock:
            self._file.write(f"{ctx.task_id} {ctx.attempt} {os.getpid()} {start} {end}\n")
        if ctx.attempt <= params.fail_times:
            # Retried (or failed) like any failing attempt: tests of retries across processes.
            raise RuntimeError(f"failing attempt {ctx.attempt} of {params.fail_times}")

    def _hook(self, *args: object) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("execute_"):
            return self._run
        if name.startswith("on_") and name.endswith("_failed"):
            return self._hook
        raise AttributeError(name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--lease-ttl", type=float, default=2.0)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--shutdown-grace", type=float, default=5.0)
    parser.add_argument("--spec", choices=["tasks", "cron"], default="tasks")
    args = parser.parse_args()
    client = Client(args.dsn)
    worker = Worker(
        client,
        Logged(args.log, args.sleep),
        CRON_SPEC if args.spec == "cron" else SPEC,
        concurrency=args.concurrency,
        lease_ttl=args.lease_ttl,
        poll_interval=0.2,
        shutdown_grace=args.shutdown_grace,
    )
    worker.start()
    print(f"ready {worker.worker_id}", flush=True)
    worker.run()
    print("stopped", flush=True)


if __name__ == "__main__":
    main()
