"""The driver protocol end to end: the raw-SQL ceiling installs, drains and verifies on a real Postgres."""

from __future__ import annotations

import sys
from pathlib import Path

import psycopg
import pytest

from anclax_fast.testing import EmbeddedPostgres
from benches.drivers import protocol as p
from benches.harness.runner import call_driver

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def ceiling_dsn(postgres: EmbeddedPostgres) -> str:
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS bench_test_ceiling WITH (FORCE)")
        conn.execute("CREATE DATABASE bench_test_ceiling")
    dsn = postgres.dsn_for("bench_test_ceiling")
    installed = call_driver(Path(sys.executable), "ceiling", p.Request(op=p.OP_INSTALL, dsn=dsn), 60)
    assert installed.ok, installed.error
    return dsn


def test_describe_names_the_settings_and_their_source() -> None:
    reply = call_driver(Path(sys.executable), "ceiling", p.Request(op=p.OP_DESCRIBE), 60)
    assert reply.ok, reply.error
    assert "claim" in reply.settings
    assert reply.docs


def test_drain_with_two_processes_runs_every_job_once(ceiling_dsn: str) -> None:
    request = p.Request(op=p.OP_RUN, dsn=ceiling_dsn, scenario=p.DRAIN_NP, n=3000, processes=2, timeout_s=60)
    reply = call_driver(Path(sys.executable), "ceiling", request, 120)
    assert reply.ok, reply.error
    assert reply.verification is not None
    assert reply.verification.valid, reply.verification.detail
    assert reply.verification.finished_in_db == 3000
    assert reply.metrics["jobs_per_s"] > 0


def test_steady_state_reports_latency_percentiles(ceiling_dsn: str) -> None:
    request = p.Request(
        op=p.OP_RUN, dsn=ceiling_dsn, scenario=p.STEADY, rate=200, duration_s=1.0, warmup_s=0.2, timeout_s=60
    )
    reply = call_driver(Path(sys.executable), "ceiling", request, 120)
    assert reply.ok, reply.error
    assert reply.verification is not None
    assert reply.verification.valid, reply.verification.detail
    assert 0 < reply.metrics["p50_ms"] <= reply.metrics["p99_ms"]


def test_an_unknown_scenario_is_an_error_not_a_crash(ceiling_dsn: str) -> None:
    reply = call_driver(Path(sys.executable), "ceiling", p.Request(op=p.OP_RUN, dsn=ceiling_dsn, scenario="nope"), 60)
    assert not reply.ok
    assert "unknown scenario" in reply.error
