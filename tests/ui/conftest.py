"""Fixtures of the dashboard tests: a worker running the shop's tasks on this module's database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from anclax_fast import Client, Worker
from tests.support import FAST
from tests.ui.support import SPEC, Shop


@pytest.fixture(scope="module")
def shop() -> Shop:
    return Shop()


@pytest.fixture(scope="module")
def worker(client: Client, shop: Shop) -> Iterator[Worker]:
    worker = Worker(client, shop, SPEC, concurrency=4, **FAST)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
