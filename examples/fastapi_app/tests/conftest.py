"""A migrated database with the shop's tables: ``ANCLAX_DSN`` when set (the repository's test
suite sets it), else an embedded PostgreSQL started for the session."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine

from anclax_fast import Client
from anclax_fast.testing import EmbeddedPostgres
from shop_api import settings
from shop_api.models import Base


@pytest.fixture(scope="session")
def dsn() -> Iterator[str]:
    if os.environ.get("ANCLAX_DSN"):
        yield os.environ["ANCLAX_DSN"]
        return
    with EmbeddedPostgres() as pg:
        os.environ["ANCLAX_DSN"] = pg.dsn
        try:
            yield pg.dsn
        finally:
            del os.environ["ANCLAX_DSN"]


@pytest.fixture(scope="session")
def client(dsn: str) -> Iterator[Client]:
    with Client(dsn) as anclax:
        anclax.migrate()
        engine = create_engine(settings.sqlalchemy_url("psycopg"))
        Base.metadata.create_all(engine)
        engine.dispose()
        yield anclax
