"""What a worker's row says about it (read by the dashboard's Workers page): the task names it
serves, its coroutine slots, and the attempts it runs, kept current by its heartbeats."""

from __future__ import annotations

from typing import cast

import pytest

from anclax_fast import Client
from tests.support import Params, Recorder, Runner, running_worker, wait_until

pytestmark = pytest.mark.postgres


def worker_row(client: Client, worker_id: int) -> dict[str, object]:
    with client.transaction() as tx:
        row = tx.fetchrow(
            "SELECT task_names, concurrency, async_concurrency, in_flight FROM anclax.workers WHERE id = $1", worker_id
        )
    assert row is not None
    return row


def test_a_worker_serving_a_subset_records_it_and_its_slots(client: Client) -> None:
    with running_worker(
        client, Recorder(), tasks=["Sleepy", "AsyncSleep"], concurrency=3, async_concurrency=7
    ) as worker:
        assert worker.worker_id is not None
        row = worker_row(client, worker.worker_id)
        assert sorted(cast("list[str]", row["task_names"])) == ["AsyncSleep", "Sleepy"]
        assert (row["concurrency"], row["async_concurrency"], row["in_flight"]) == (3, 7, 0)
        sleeping = [Runner(client).run("Sleepy", Params(sleep=30)) for _ in range(2)]
        # The next heartbeat (every lease_ttl / 3 = 1 s here) reports the two attempts.
        wait_until(lambda: worker_row(client, worker.worker_id or 0)["in_flight"] == 2, timeout=10)
        for task_id in sleeping:
            client.cancel(task_id)
        wait_until(lambda: worker_row(client, worker.worker_id or 0)["in_flight"] == 0, timeout=10)


def test_a_worker_of_every_name_leaves_task_names_null(client: Client) -> None:
    with running_worker(client, Recorder(), tasks=["Echo"], concurrency=2) as worker:
        assert worker.worker_id is not None
        row = worker_row(client, worker.worker_id)
        # Echo is a sync task: no coroutine slots.
        assert (row["task_names"], row["async_concurrency"]) == (["Echo"], 0)
    with running_worker(client, Recorder()) as worker:
        assert worker.worker_id is not None
        row = worker_row(client, worker.worker_id)
        # The spec has an async task (AsyncSleep): the default 1000 coroutine slots.
        assert (row["task_names"], row["async_concurrency"]) == (None, 1000)
