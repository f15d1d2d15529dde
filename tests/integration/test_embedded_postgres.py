"""The embedded cluster: starts, serves, restarts, and leaves nothing behind even when its owner is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import psycopg
import pytest

from anclax_fast.errors import PostgresNotFound
from anclax_fast.testing import EmbeddedPostgres, find_server_bindir, reap_orphans

pytestmark = pytest.mark.postgres


def test_session_cluster_serves_queries(dsn: str) -> None:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("select current_setting('server_version_num')::int, current_user").fetchone()
    assert row is not None
    assert row[0] >= 150000
    assert row[1] == "postgres"


def test_server_does_not_run_as_root(postgres: EmbeddedPostgres) -> None:
    pid = int((postgres.datadir / "postmaster.pid").read_text().splitlines()[0])
    uid = int(Path(f"/proc/{pid}/status").read_text().split("Uid:")[1].split()[0])
    assert uid != 0


def test_restart_keeps_data_and_port() -> None:
    with EmbeddedPostgres() as pg:
        with psycopg.connect(pg.dsn, autocommit=True) as conn:
            conn.execute("create table t (x int); insert into t values (42)")
        port = pg.port
        pg.restart()
        assert pg.port == port
        with psycopg.connect(pg.dsn) as conn:
            assert conn.execute("select x from t").fetchone() == (42,)
        # A crash-like restart recovers too (the test settings trade durability of the last commits for speed).
        pg.restart(mode="immediate")
        with psycopg.connect(pg.dsn) as conn:
            assert conn.execute("select 1").fetchone() == (1,)
        directory = pg.directory
    assert not directory.exists()


def test_killed_owner_leaves_no_postmaster_and_next_start_reaps_its_directory(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import os, sys
        from anclax_fast.testing import EmbeddedPostgres
        pg = EmbeddedPostgres().start()
        pid = int((pg.datadir / "postmaster.pid").read_text().splitlines()[0])
        print(pg.directory, pid, flush=True)
        sys.stdin.read()
        """
    )
    # A temporary root of its own: another test session on this machine reaps orphans in the
    # shared one at its start, and could take this directory before the assertions below.
    root = Path(tempfile.mkdtemp(prefix="anclax-reap-test-"))
    root.chmod(0o711)  # the server may run as another user (when root) and must reach its directory
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ | {"TMPDIR": str(root)},
    )
    assert child.stdout is not None
    directory_text, pid_text = child.stdout.readline().split()
    assert directory_text.startswith(str(root))
    directory, postmaster = Path(directory_text), int(pid_text)
    os.kill(postmaster, 0)  # running
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    assert child.stdin is not None
    child.stdin.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and Path(f"/proc/{postmaster}").exists():
        time.sleep(0.05)
    assert not Path(f"/proc/{postmaster}").exists(), "postmaster outlived its killed owner"
    assert directory.exists()
    assert reap_orphans(root) == 1
    assert not directory.exists()
    root.rmdir()


def test_missing_binaries_say_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("anclax_fast.testing._VERSIONED_ROOT", tmp_path / "none")
    monkeypatch.setattr("anclax_fast.testing._FIXED_BINDIRS", ())
    with pytest.raises(PostgresNotFound, match="apt-get install postgresql"):
        find_server_bindir()
