"""The command line: exit codes scripts can rely on, errors that say what to do, fleets, the demo."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from importlib.metadata import version
from pathlib import Path

import pytest

import anclax_fast
from anclax_fast import Client
from anclax_fast.testing import EmbeddedPostgres
from tests.support import Params, Runner, wait_until

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
SPEC = "anclax_fast.demo.taskgen:SPEC"
APP = "anclax_fast.demo.app:DemoExecutor"


def cli(*args: str, dsn: str | None = None, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "ANCLAX_DSN"} | env
    if dsn is not None:
        environment["ANCLAX_DSN"] = dsn
    return subprocess.run(
        [sys.executable, "-m", "anclax_fast", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=environment,
        cwd=ROOT,
        check=False,
    )


def test_help_lists_every_command() -> None:
    result = cli("--help")
    assert result.returncode == 0
    for command in ("generate", "migrate", "worker", "tasks", "demo"):
        assert command in result.stdout
    for command in ("migrate", "worker", "tasks", "demo"):
        assert cli(command, "--help").returncode == 0


def test_version_is_the_installed_package_version() -> None:
    result = cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"anclax-fast {version('anclax-fast')}\n"
    assert anclax_fast.__version__ == version("anclax-fast")  # the extension's, from Cargo.toml


def test_migrate_is_idempotent(module_dsn: str) -> None:
    first = cli("migrate", "--dsn", module_dsn)
    assert first.returncode == 0, first.stderr
    assert "up to date" in first.stderr


def test_bad_dsn_says_what_is_wrong_without_the_password() -> None:
    result = cli("migrate", "--dsn", "postgresql://me:hunter2@localhost:notaport/db")
    assert result.returncode == 2
    assert "invalid database DSN" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
    missing = cli("migrate")
    assert missing.returncode == 2
    assert "ANCLAX_DSN" in missing.stderr


def test_unreachable_database_exits_3_with_a_hint() -> None:
    result = cli("migrate", "--dsn", "postgresql://me:hunter2@127.0.0.1:1/db?connect_timeout=2")
    assert result.returncode == 3
    assert "cannot reach the database" in result.stderr
    assert "hunter2" not in result.stderr


def test_worker_refuses_an_app_it_cannot_import_or_that_lacks_methods(module_dsn: str) -> None:
    result = cli("worker", "no_such_module:X", "--spec", SPEC, dsn=module_dsn)
    assert result.returncode == 4
    assert "cannot import 'no_such_module'" in result.stderr
    result = cli("worker", "anclax_fast.demo.app:Nope", "--spec", SPEC, dsn=module_dsn)
    assert result.returncode == 4
    result = cli("worker", "tests.support:Params", "--spec", SPEC, dsn=module_dsn)
    assert result.returncode == 4
    assert "lacks execute_send_email" in result.stderr
    result = cli("worker", APP, "--spec", "missing.yaml", dsn=module_dsn)
    assert result.returncode == 2
    assert "no task spec at missing.yaml" in result.stderr


def test_worker_without_migration_says_to_migrate() -> None:
    with EmbeddedPostgres() as pg:
        result = cli("worker", APP, "--spec", SPEC, "--no-migrate", dsn=pg.dsn)
    assert result.returncode == 3
    assert "anclax-fast migrate" in result.stderr


def test_tasks_list_show_cancel_wait(client: Client, module_dsn: str) -> None:
    runner = Runner(client)
    pending = runner.run("Echo", Params(n=42), delay="1h")
    listed = cli("tasks", "list", "--status", "pending", dsn=module_dsn)
    assert listed.returncode == 0, listed.stderr
    assert str(pending) in listed.stdout
    assert "ATTEMPTS" in listed.stdout
    shown = cli("tasks", "show", str(pending), dsn=module_dsn)
    assert shown.returncode == 0
    assert '"n": 42' in shown.stdout
    assert cli("tasks", "show", "999999999", dsn=module_dsn).returncode == 6
    assert cli("tasks", "wait", str(pending), "--timeout", "0.2", dsn=module_dsn).returncode == 7
    cancelled = cli("tasks", "cancel", str(pending), dsn=module_dsn)
    assert cancelled.returncode == 0
    assert "cancelled" in cancelled.stderr
    waited = cli("tasks", "wait", str(pending), dsn=module_dsn)
    assert waited.returncode == 7
    assert waited.stdout.strip() == "cancelled"


@pytest.mark.slow
def test_a_fleet_restarts_dead_children_serves_metrics_and_stops_on_sigterm(client: Client, module_dsn: str) -> None:
    port = 19_877
    fleet = subprocess.Popen(
        [sys.executable, "-m", "anclax_fast", "worker", APP, "--spec", SPEC, "--processes", "2",
         "--labels", "gpu", "--metrics-port", str(port), "--lease-ttl", "3", "--shutdown-grace", "3"],
        env={**os.environ, "ANCLAX_DSN": module_dsn},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:

        def workers() -> list[int]:
            with client.transaction() as tx:
                return [int(r["pid"]) for r in tx.fetch("SELECT pid FROM anclax.workers WHERE expires_at > now()")]

        wait_until(lambda: len(workers()) == 2, timeout=60)
        victim = workers()[0]
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: len(workers()) >= 2 and victim not in workers(), timeout=60)
        from anclax_fast.demo.taskgen import PingParameters, TaskRunner

        task_id = TaskRunner(client).run_ping(PingParameters())
        assert client.wait(task_id, timeout=20).status == "completed"

        def scrape() -> str:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
                return str(response.read().decode())

        wait_until(lambda: 'anclax_tasks_completed_total{process="' in scrape(), timeout=30, interval=0.5)
        text = scrape()
        assert 'task="Ping"' in text
        assert "anclax_task_duration_seconds_bucket" in text
        assert "anclax_queue_depth" in text
    finally:
        fleet.send_signal(signal.SIGTERM)
        code = fleet.wait(timeout=60)
        _, stderr = fleet.communicate()
    assert code == 0, stderr
    assert "exited with" in stderr  # the supervisor noticed the kill
    with client.transaction() as tx:
        assert tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE status = 'running'") == 0


@pytest.mark.slow
def test_a_fleet_whose_children_crash_at_start_gives_up_with_exit_5(tmp_path: Path) -> None:
    started = time.monotonic()
    result = cli(
        "worker", APP, "--spec", SPEC, "--processes", "2",
        dsn="postgresql://me@127.0.0.1:1/db?connect_timeout=1", timeout=120,
    )  # fmt: skip
    assert result.returncode == 5, result.stderr
    assert "keep exiting right after they start" in result.stderr
    assert time.monotonic() - started < 100


@pytest.mark.slow
def test_the_demo_runs_end_to_end_with_its_dashboard(module_dsn: str) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "ANCLAX_DSN"}
    demo = subprocess.Popen(
        [sys.executable, "-m", "anclax_fast", "demo", "--duration", "6", "--processes", "1", "--ui-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=environment,
        cwd=ROOT,
    )
    assert demo.stdout is not None
    lines: list[str] = []
    dashboard = None
    for line in demo.stdout:
        lines.append(line)
        if line.startswith("==> dashboard: "):
            dashboard = line.split()[2]
            # The dashboard answers while the demo runs (a throwaway database: actions allowed).
            with urllib.request.urlopen(dashboard, timeout=30) as page:
                html = page.read().decode()
            assert "<h1>Overview</h1>" in html
            assert "actions enabled" in html
            break
    output, _ = demo.communicate(timeout=180)
    text = "".join(lines) + output
    assert demo.returncode == 0, text
    assert dashboard is not None, text
    assert "summary" in text
    assert "audit rows written by failure hooks" in text
