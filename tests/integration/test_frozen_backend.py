"""The engine's own statements never wait behind a server that does not answer (issue 12 §3): the
Postgres backend of one of a worker's own connections is frozen with SIGSTOP (its socket stays
open, so TCP keepalives cannot tell), and the worker must notice by its round-trip deadline,
connect anew and keep working while the backend stays frozen."""

from __future__ import annotations

import os
import signal
from typing import Any

import pytest

from anclax_fast import Client, Worker
from tests.support import Recorder, Runner, running_worker, wait_until

pytestmark = pytest.mark.postgres


def backends(client: Client, loop: str) -> list[int]:
    with client.transaction() as tx:
        rows = tx.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name LIKE $1",
            f"%:{loop}",
        )
    return [int(row["pid"]) for row in rows]


def heartbeat_at(client: Client, worker: Worker) -> Any:
    with client.transaction() as tx:
        return tx.fetchval("SELECT heartbeat_at FROM anclax.workers WHERE id = $1", worker.worker_id)


@pytest.mark.parametrize("loop", ["complete", "claim", "heartbeat"])
def test_a_frozen_engine_connection_is_replaced(client: Client, loop: str) -> None:
    runner = Runner(client)
    labels = [f"frozen-{loop}"]
    # lease 6 s: round trips time out after 6 s (heartbeats after 2 s), well within the lease
    # even on a loaded machine.
    with running_worker(client, Recorder(), labels=labels, tasks=["Echo"], concurrency=4, lease_ttl=6.0) as worker:
        # Warm up: every loop has its connection.
        assert client.wait(runner.run("Echo", labels=labels), timeout=10).status == "completed"
        wait_until(lambda: len(backends(client, loop)) == 1)
        [pid] = backends(client, loop)
        os.kill(pid, signal.SIGSTOP)
        try:
            ids = [runner.run("Echo", labels=labels) for _ in range(10)]
            for task_id in ids:
                assert client.wait(task_id, timeout=30).status == "completed"
            if loop == "heartbeat":
                # Heartbeats go on through a new connection, and the lease holds.
                for _ in range(3):
                    last = heartbeat_at(client, worker)
                    wait_until(lambda last=last: heartbeat_at(client, worker) != last, timeout=10)
            assert worker.stats()["lease_losses"] == 0
            # The frozen backend was given up for a new one.
            assert any(other != pid for other in backends(client, loop))
        finally:
            os.kill(pid, signal.SIGCONT)
