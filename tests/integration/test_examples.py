"""The examples under ``examples/`` run end to end, each as the project it is (its own pytest
configuration), on a database of the session's cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from anclax_fast.testing import EmbeddedPostgres

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def fresh_database(postgres: EmbeddedPostgres, name: str) -> str:
    with psycopg.connect(postgres.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return postgres.dsn_for(name)


def run_example(directory: Path, python: str, dsn: str) -> None:
    result = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=directory,
        env={**os.environ, "ANCLAX_DSN": dsn},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout


def test_fastapi_app(postgres: EmbeddedPostgres) -> None:
    run_example(EXAMPLES / "fastapi_app", sys.executable, fresh_database(postgres, "example_fastapi"))


def test_django_app(postgres: EmbeddedPostgres) -> None:
    # Django 6 needs Python 3.12+: the example runs in a virtualenv of its own.
    repo = EXAMPLES.parent
    python = subprocess.run(
        ["bash", str(repo / "scripts" / "django_env.sh")], capture_output=True, text=True, timeout=600, check=True
    ).stdout.strip()
    run_example(EXAMPLES / "django_app", python, fresh_database(postgres, "example_django"))
