"""Every statement every dashboard page issues, on a table of 100,000 tasks shaped like a busy
queue (benches/ui_dataset.py), with fresh statistics: ``EXPLAIN (ANALYZE, BUFFERS)`` shows no
sequential scan of ``anclax.tasks`` or ``anclax.events``, and a bounded number of buffers.

This is what keeps each page fast on millions of rows (benches/bench_ui.py measures that): a
page that loses its index, or a bound that stops bounding, fails here first.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from anclax_fast import Client
from anclax_fast._core import Tx
from anclax_fast.ui import create_app
from anclax_fast.ui.db import Database
from benches.bench_ui import Recorder, RecordingTx, explain, pages, time_pages
from benches.ui_dataset import seed

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

ROWS = 100_000
# The largest read a page may make: a page of the Tasks listing reads at most 20,000 index
# entries of its driver, the Failures page 2,000 failures (each on a page of its own).
MAX_BUFFERS = 5_000


@pytest.fixture(scope="module")
def plans(client: Client) -> dict[str, list[dict[str, Any]]]:
    seed(client, ROWS)
    recorder = Recorder()
    original = Database._read  # pyright: ignore[reportPrivateUsage] - observing the pages' reads

    def recording(self: Database, load: Any) -> Any:
        def wrapped(tx: Tx) -> Any:
            return load(RecordingTx(tx, recorder))

        return original(self, wrapped)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Database, "_read", recording)
        results = asyncio.run(time_pages(create_app(client), pages(client), 1, recorder))
    return {label: [explain(client, s) for s in result["statements"]] for label, result in results.items()}


def test_every_page_was_planned(plans: dict[str, list[dict[str, Any]]]) -> None:
    assert len(plans) >= 20
    assert all(plans.values())


def test_no_page_scans_the_tasks_or_events_table(plans: dict[str, list[dict[str, Any]]]) -> None:
    scanning = {label: [p["nodes"] for p in statements if p["seq_scans"]] for label, statements in plans.items()}
    assert {label: nodes for label, nodes in scanning.items() if nodes} == {}


def test_every_statement_reads_a_bounded_number_of_buffers(plans: dict[str, list[dict[str, Any]]]) -> None:
    heavy = {
        label: [(p["buffers"], p["nodes"]) for p in statements if p["buffers"] > MAX_BUFFERS]
        for label, statements in plans.items()
    }
    assert {label: found for label, found in heavy.items() if found} == {}
