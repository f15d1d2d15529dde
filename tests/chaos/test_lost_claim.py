"""A claim whose response never reached the worker (the connection broke after the claim
committed: a Postgres crash or a terminated backend at the wrong moment) leaves the task
`running` under a lease that the worker keeps extending by its heartbeats, although the worker
knows nothing of the task. Before workers reconciled what the database says they run with what
they know, nothing but the orphan pass's deadline check freed such a task: an hour with the
default timeout.

The chaos suite's connection terminations hit that window too rarely to show it, so the test
makes the database state such a claim leaves directly: the row claimed for a live worker that
never received it.
"""

from __future__ import annotations

import time

import pytest

from anclax_fast import Client
from tests.support import Params, Recorder, Runner, running_worker

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

LEASE_TTL = 1.0


def test_a_claim_whose_response_was_lost_is_run_within_a_few_leases(client: Client) -> None:
    runner = Runner(client)
    recorder = Recorder()
    with running_worker(client, recorder, lease_ttl=LEASE_TTL) as worker:
        task_id = runner.run("Echo", Params(n=1), delay="1h")  # not claimable yet: nobody takes it
        with client.transaction() as tx:
            # Exactly what claim.sql does, for this worker; the worker never sees the rows.
            claimed = tx.execute(
                "UPDATE anclax.tasks SET status = 'running', attempts = attempts + 1, worker_id = $1, run_at = now(), "
                "started_at = now(), deadline_at = now() + timeout_ms * interval '1 millisecond' "
                "WHERE id = $2 AND status = 'pending'",
                worker.worker_id,
                task_id,
            )
        assert claimed == 1
        deadline = time.monotonic() + 10 * LEASE_TTL + 5
        while time.monotonic() < deadline and not client.task(task_id).is_final:
            time.sleep(0.1)
        info = client.task(task_id)
    assert info.status == "completed", f"still {info.status} under worker {info.worker_id} after {10 * LEASE_TTL + 5}s"
