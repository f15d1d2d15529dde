"""A cluster of the security tests' own, with password authentication for two roles:

- ``anclax_owner`` owns the ``anclax`` schema (it ran the migrations; it has CREATE on the database);
- ``anclax_app`` has only what docs/security.md says a worker and a client need.

The session cluster trusts everyone (no passwords), which would make "wrong password" tests
meaningless, and its superuser would hide any missing privilege.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from anclax_fast import Client
from anclax_fast.testing import EmbeddedPostgres

# Characters that mean something in a URL and in key/value DSNs, so redaction is tested on them.
OWNER_PASSWORD = "Owner-s3cret:@/?#%&'\" pw"
APP_PASSWORD = "App-s3cret:@/?#%&'\" pw"
DATABASE = "app"

# What the application role gets once the owner has migrated (docs/security.md, kept in sync).
APP_GRANTS = """
GRANT USAGE ON SCHEMA anclax TO anclax_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA anclax TO anclax_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA anclax TO anclax_app;
-- Tables and functions that later migrations add get the same grants.
ALTER DEFAULT PRIVILEGES IN SCHEMA anclax GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO anclax_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA anclax GRANT EXECUTE ON FUNCTIONS TO anclax_app;
"""


def url(user: str, password: str, port: int, database: str = DATABASE) -> str:
    return f"postgresql://{user}:{quote(password, safe='')}@127.0.0.1:{port}/{database}"


@dataclass(frozen=True)
class SecureCluster:
    pg: EmbeddedPostgres
    owner_dsn: str
    app_dsn: str

    @property
    def port(self) -> int:
        return self.pg.port


@pytest.fixture(scope="session")
def secure_cluster() -> Iterator[SecureCluster]:
    with EmbeddedPostgres() as pg:
        hba = pg.datadir / "pg_hba.conf"
        # First match wins: the two roles must give a password; the superuser stays trusted.
        rules = "".join(f"host all {role} 127.0.0.1/32 scram-sha-256\n" for role in ("anclax_owner", "anclax_app"))
        hba.write_text(rules + hba.read_text())
        with psycopg.connect(pg.dsn, autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
            admin.execute(f"CREATE DATABASE {DATABASE}")
            for role, password in (("anclax_owner", OWNER_PASSWORD), ("anclax_app", APP_PASSWORD)):
                admin.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
                )
            admin.execute(f"GRANT CREATE ON DATABASE {DATABASE} TO anclax_owner")
        owner_dsn = url("anclax_owner", OWNER_PASSWORD, pg.port)
        with Client(owner_dsn) as owner:
            owner.migrate()
        with psycopg.connect(pg.dsn_for(DATABASE), autocommit=True) as admin:
            # Functions are executable by PUBLIC by default; take that away so that the grant
            # above is what lets the application role call them.
            admin.execute("REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA anclax FROM PUBLIC")
            # A table of the application's own, for a failure hook to write to.
            admin.execute("CREATE TABLE public.audit (task_id bigint, note text)")
            admin.execute("GRANT SELECT, INSERT ON public.audit TO anclax_app")
        with psycopg.connect(owner_dsn, autocommit=True) as owner_conn:
            owner_conn.execute(APP_GRANTS)
        yield SecureCluster(pg=pg, owner_dsn=owner_dsn, app_dsn=url("anclax_app", APP_PASSWORD, pg.port))
