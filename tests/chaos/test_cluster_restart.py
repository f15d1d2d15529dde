"""The chaos harness restarts its cluster from a fault-injector thread: the restarted server must
outlive that thread (it lives as long as the process that owns the cluster)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from anclax_fast.testing import EmbeddedPostgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
def test_a_server_restarted_from_a_short_lived_thread_outlives_the_thread(mode: str) -> None:
    with EmbeddedPostgres() as pg:
        restarter = threading.Thread(target=lambda: pg.restart(mode=mode))
        restarter.start()
        restarter.join()
        time.sleep(1.0)  # the parent-death signal, if any, has been delivered by now
        assert pg.running
        with psycopg.connect(pg.dsn, connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
