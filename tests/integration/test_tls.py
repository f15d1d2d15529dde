"""TLS: every connection (pool, claim loop, completions, LISTEN) encrypts as `sslmode` asks and
verifies the server as libpq would. A cluster of its own with a throwaway CA made by openssl: the
certificate names `localhost` only, so connecting to 127.0.0.1 is a name mismatch."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from anclax_fast import Client, ConfigurationError, DatabaseUnavailable
from anclax_fast.testing import EmbeddedPostgres
from tests.support import Params, Recorder, Runner, running_worker, wait_until

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make certificates"),
]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_ca(directory: Path, name: str) -> None:
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
        "-keyout",
        f"{name}.key",
        "-out",
        f"{name}.pem",
        cwd=directory,
    )


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("tls")
    _make_ca(directory, "ca")
    _make_ca(directory, "other-ca")
    (directory / "san.ext").write_text("subjectAltName = DNS:localhost\n")
    _openssl(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        cwd=directory,
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
        cwd=directory,
    )
    return directory


@pytest.fixture(scope="module")
def tls_postgres(certs: Path) -> Iterator[EmbeddedPostgres]:
    with EmbeddedPostgres() as pg:
        owner = pg.datadir.stat()
        for name in ("server.crt", "server.key"):
            target = pg.datadir / name
            shutil.copy(certs / name, target)
            os.chown(target, owner.st_uid, owner.st_gid)
            target.chmod(0o600)  # the server refuses a key others can read
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET ssl = on")
            conn.execute("SELECT pg_reload_conf()")
        wait_until(lambda: _setting(pg.dsn, "ssl") == "on", timeout=10)
        yield pg


def _setting(dsn: str, name: str) -> str:
    with psycopg.connect(dsn, autocommit=True, sslmode="disable") as conn:
        row = conn.execute("SELECT current_setting(%s)", (name,)).fetchone()
        return str(row[0]) if row else ""


def _dsn(pg: EmbeddedPostgres, host: str, options: str) -> str:
    return f"postgresql://postgres@{host}:{pg.port}/postgres?{options}"


def _encrypted(client: Client) -> bool:
    with client.transaction() as tx:
        return bool(tx.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"))


def test_require_encrypts_the_pool_the_claim_loop_and_listen(tls_postgres: EmbeddedPostgres) -> None:
    client = Client(_dsn(tls_postgres, "127.0.0.1", "sslmode=require"))
    client.migrate()
    assert _encrypted(client)
    recorder = Recorder()
    with running_worker(client, recorder, concurrency=2):
        task_id = Runner(client).run("Echo", Params(n=1))
        assert client.wait(task_id, timeout=10).status == "completed"
        with client.transaction() as tx:
            plain = tx.fetchval(
                "SELECT count(*) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
                "WHERE a.application_name LIKE 'anclax-fast%' AND NOT s.ssl"
            )
            workers = tx.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'anclax-fast worker%'"
            )
    # pool, claims, completions, LISTEN (and heartbeats, rescues once their loops first ran): all
    # of them through TLS
    assert workers >= 4
    assert plain == 0


def test_verify_full_accepts_the_servers_ca_and_name(tls_postgres: EmbeddedPostgres, certs: Path) -> None:
    client = Client(_dsn(tls_postgres, "localhost", f"sslmode=verify-full&sslrootcert={certs / 'ca.pem'}"))
    assert _encrypted(client)


def test_a_name_mismatch_fails_verify_full_and_passes_verify_ca(tls_postgres: EmbeddedPostgres, certs: Path) -> None:
    root = f"sslrootcert={certs / 'ca.pem'}"
    with pytest.raises(DatabaseUnavailable, match=r"(?i)certificate.*not valid for name|NotValidForName"):
        _encrypted(Client(_dsn(tls_postgres, "127.0.0.1", f"sslmode=verify-full&{root}")))
    assert _encrypted(Client(_dsn(tls_postgres, "127.0.0.1", f"sslmode=verify-ca&{root}")))


def test_a_certificate_from_another_ca_is_refused(tls_postgres: EmbeddedPostgres, certs: Path) -> None:
    for mode in ("verify-ca", "verify-full", "require"):  # require checks the chain once roots are given
        client = Client(_dsn(tls_postgres, "localhost", f"sslmode={mode}&sslrootcert={certs / 'other-ca.pem'}"))
        with pytest.raises(DatabaseUnavailable, match=r"(?i)unknown ?issuer"):
            _encrypted(client)


def test_verifying_without_roots_says_what_to_add(tls_postgres: EmbeddedPostgres) -> None:
    with pytest.raises(ConfigurationError, match="add sslrootcert="):
        Client(_dsn(tls_postgres, "localhost", "sslmode=verify-full"))


def test_require_against_a_server_without_tls_says_so(dsn: str) -> None:
    with pytest.raises(DatabaseUnavailable, match=r"(?i)tls"):
        _encrypted(Client(f"{dsn}?sslmode=require"))
    assert not _encrypted(Client(f"{dsn}?sslmode=prefer"))  # and the default falls back to plain text
