"""Databases on the one benchmark cluster: a template per system, a fresh copy of it per run.

Each system's schema is installed once into ``bench_<system>_template``; every run then gets
``bench_<system>`` as a fresh ``CREATE DATABASE ... TEMPLATE`` copy, so no run sees another's rows,
dead tuples, statistics or leftover worker state, and schema installation is not repeated per run.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

from anclax_fast.testing import EmbeddedPostgres


class BenchCluster:
    def __init__(self, pg: EmbeddedPostgres) -> None:
        self._pg = pg

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self._pg.dsn, autocommit=True)

    def server_version(self) -> str:
        with self._admin() as conn:
            row = conn.execute("SELECT version()").fetchone()
        return str(row[0]) if row else "unknown"

    def settings(self, names: list[str]) -> dict[str, str]:
        """The values in force, as the server reports them (not as we asked for them)."""
        values: dict[str, str] = {}
        with self._admin() as conn:
            for name in names:
                row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
                values[name] = str(row[0]) if row else "?"
        return values

    def template_dsn(self, system: str) -> str:
        """Recreate the system's (empty) template database; returns its DSN for the schema install."""
        name = _template(system)
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self._pg.dsn_for(name)

    def fresh_copy(self, system: str) -> str:
        """A new copy of the installed template for one run, after a checkpoint; returns its DSN."""
        name = _run_database(system)
        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(name), sql.Identifier(_template(system))
                )
            )
            # Start every run with no dirty buffers of the previous one left to write.
            conn.execute("CHECKPOINT")
        return self._pg.dsn_for(name)

    def drop(self, system: str) -> None:
        with self._admin() as conn:
            for name in (_run_database(system), _template(system)):
                conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _template(system: str) -> str:
    return f"bench_{system}_template"


def _run_database(system: str) -> str:
    return f"bench_{system}"
