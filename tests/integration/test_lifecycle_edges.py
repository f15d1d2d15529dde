"""Lifecycle edges (issue 12 §4): a Worker built before fork(), and the bounded prepared-statement
cache for user SQL."""

from __future__ import annotations

import os
import signal
import time

import pytest

from anclax_fast import Client, ConfigurationError, Worker
from tests.support import SPEC, Recorder, Runner, running_worker

pytestmark = pytest.mark.postgres


def test_a_worker_built_before_fork_fails_clearly_in_the_child(client: Client) -> None:
    worker = Worker(client, Recorder(), SPEC, lease_ttl=3.0)
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through its exit code
        code = 1
        try:
            worker.start()
        except ConfigurationError as err:
            code = 0 if "before a fork" in str(err) else 2
        except BaseException:
            code = 3
        os._exit(code)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            assert os.waitstatus_to_exitcode(status) == 0
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    pytest.fail("Worker.start() in a forked child hung instead of failing")


def test_dynamic_sql_does_not_grow_the_prepared_statement_cache(client: Client) -> None:
    with client.transaction() as tx:
        for i in range(600):
            assert tx.fetchval(f"SELECT {i}::int") == i
        prepared = tx.fetchval("SELECT count(*) FROM pg_prepared_statements")
    assert prepared <= 300


def test_a_worker_without_retention_keeps_running(client: Client) -> None:
    # Retention off: its loop has nothing to do, but must not end (a supervised loop that ends
    # stops the worker with WorkerFailed).
    with running_worker(client, Recorder(), retention_completed=None, retention_failed=None) as worker:
        task_id = Runner(client).run("Echo")
        assert client.wait(task_id, timeout=10).status == "completed"
        assert worker.failure is None
