"""Session fixtures: one embedded PostgreSQL cluster for the whole test run (never a mock)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from anclax_fast.testing import EmbeddedPostgres


@pytest.fixture(scope="session")
def postgres() -> Iterator[EmbeddedPostgres]:
    """The session's cluster; started on first use, removed at the end of the run."""
    with EmbeddedPostgres() as pg:
        yield pg


@pytest.fixture(scope="session")
def dsn(postgres: EmbeddedPostgres) -> str:
    return os.environ.get("ANCLAX_TEST_DSN") or postgres.dsn
