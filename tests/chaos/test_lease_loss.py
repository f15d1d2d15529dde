"""A worker whose lease expired (it was frozen, or cut off from the database, for longer than
its TTL) must not claim anything until it has registered again: its tasks may already have been
handed to others, and whatever it claims under its dead lease is invisible to the rescuer's
targeted pass (the worker row is gone) and can be run a second time elsewhere by the orphan
pass while it still runs. Found by the soak: tasks rescued as "lease lost: worker N is gone".
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from anclax_fast import Client
from tests.support import Params, Runner, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKER = Path(__file__).resolve().parents[1] / "worker_process.py"
LEASE_TTL = 2.0


def test_a_worker_thawed_after_its_lease_expired_claims_nothing_under_the_dead_lease(
    client: Client, module_dsn: str, tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            "--dsn",
            module_dsn,
            "--log",
            str(tmp_path / "runs.log"),
            "--lease-ttl",
            str(LEASE_TTL),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("ready"), ready
        dead_id = int(ready.split()[1])
        proc.send_signal(signal.SIGSTOP)
        time.sleep(LEASE_TTL + 1.0)
        with client.transaction() as tx:
            # What any other worker's rescuer does with an expired lease (rescue.sql).
            assert tx.execute("DELETE FROM anclax.workers WHERE id = $1 AND expires_at < now()", dead_id) == 1
        ids = Runner(client).run_many("Echo", [Params(n=i) for i in range(50)])
        proc.send_signal(signal.SIGCONT)  # the notification of the new tasks is waiting for it
        wait_until(lambda: all(client.task(i).status == "completed" for i in ids), timeout=30, interval=0.2)
        claimed_by = {client.task(i).worker_id for i in ids}
        assert dead_id not in claimed_by, f"tasks claimed under the dead lease of worker {dead_id}"
    finally:
        proc.kill()
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
