"""Upgrading a version-1 schema: the later migrations (5: task headers and the eleven-argument
``anclax.enqueue``) leave existing rows and callers of the ten-argument form working."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from anclax_fast import Client
from anclax_fast._core import SCHEMA_VERSION
from anclax_fast.testing import EmbeddedPostgres
from tests.support import Params, Runner

pytestmark = pytest.mark.postgres

INIT = Path(__file__).resolve().parents[2] / "rust" / "src" / "db" / "migrations" / "0001_init.sql"


def test_a_version_1_schema_upgrades_in_place(postgres: EmbeddedPostgres) -> None:
    name = "t_schema_upgrade"
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    dsn = postgres.dsn_for(name)
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "CREATE SCHEMA anclax; CREATE TABLE anclax.migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        conn.execute(INIT.read_text())  # pyright: ignore[reportArgumentType, reportCallIssue]
        conn.execute("INSERT INTO anclax.migrations (version, name) VALUES (1, 'init')")
        before = conn.execute(
            "SELECT task_id FROM anclax.enqueue('Echo', '{}', 0, NULL, 1, '{}', 1000, '{}', NULL, NULL)"
        ).fetchone()
        assert before is not None
    with Client(dsn) as client:
        applied = client.migrate()
        assert (applied[0], applied[-1]) == (2, SCHEMA_VERSION)
        assert client.migrate() == []
        assert client.task(int(before[0])).headers == {}
        new = Runner(client).run("Echo", Params(n=1))
        assert client.task(new).params["n"] == 1
    with psycopg.connect(dsn) as conn:
        # Callers of the ten-argument form (SQL written against version 1) still work.
        row = conn.execute(
            "SELECT task_id, inserted FROM anclax.enqueue('Echo', '{}', 0, NULL, 1, '{}', 1000, '{}', NULL, NULL)"
        ).fetchone()
        assert row is not None
        assert row[1] is True
