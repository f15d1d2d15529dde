"""Session fixtures: one embedded PostgreSQL cluster for the whole test run (never a mock), and a
fresh database per test module so modules cannot see each other's tasks."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from anclax_fast import Client
from anclax_fast.testing import EmbeddedPostgres

_TEMPLATE = "anclax_template"


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    """The session's cluster; started on first use, removed at the end of the run."""
    with EmbeddedPostgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def dsn(postgres: EmbeddedPostgres) -> str:
    return os.environ.get("ANCLAX_TEST_DSN") or postgres.dsn


@pytest.fixture(scope="session")
def migrated_template(postgres: EmbeddedPostgres) -> str:
    """A database with the anclax schema, copied for each module (CREATE DATABASE ... TEMPLATE)."""
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(_TEMPLATE)))
    with Client(postgres.dsn_for(_TEMPLATE)) as client:
        client.migrate()
    return _TEMPLATE


@pytest.fixture(scope="module")
def module_dsn(request: pytest.FixtureRequest, postgres: EmbeddedPostgres, migrated_template: str) -> str:
    """A migrated database of this test module's own."""
    module: str = request.node.name.removesuffix(".py")
    name = "t_" + re.sub(r"\W", "_", module.rsplit("/", 1)[-1])[:50]
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(migrated_template))
        )
    return postgres.dsn_for(name)


@pytest.fixture(scope="module")
def client(module_dsn: str) -> Iterator[Client]:
    with Client(module_dsn) as c:
        yield c
