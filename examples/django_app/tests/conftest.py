# pyright: reportMissingModuleSource=false
"""Django configured on ``ANCLAX_DSN`` (the repository's test suite sets it) or on an embedded
PostgreSQL started for the run; the anclax schema and the shop's tables migrated once."""

from __future__ import annotations

import os

import django
import pytest
from django.core.management import call_command

from anclax_fast import Client
from anclax_fast.testing import EmbeddedPostgres

_embedded: list[EmbeddedPostgres] = []


def pytest_configure(config: pytest.Config) -> None:
    # Before Django reads its settings, which take the database from ANCLAX_DSN.
    if not os.environ.get("ANCLAX_DSN"):
        _embedded.append(EmbeddedPostgres().start())
        os.environ["ANCLAX_DSN"] = _embedded[0].dsn
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_shop.settings")
    django.setup()


def pytest_unconfigure(config: pytest.Config) -> None:
    for pg in _embedded:
        pg.stop()


@pytest.fixture(scope="session", autouse=True)
def anclax() -> Client:
    client = Client(os.environ["ANCLAX_DSN"])
    client.migrate()
    call_command("migrate", verbosity=0)
    return client
