"""Worker fleets: exactly-once completion across processes, killed workers, frozen workers, graceful
stops, dropped connections and a restarted database."""

from __future__ import annotations

import collections
import random
import signal
import subprocess
import sys
import time
from collections.abc import Generator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from anclax_fast import Client
from anclax_fast.testing import EmbeddedPostgres
from tests.support import Params, Recorder, Runner, running_worker, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKER = Path(__file__).resolve().parents[1] / "worker_process.py"


@contextmanager
def worker_process(dsn: str, log: Path, *args: str) -> Generator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), "--dsn", dsn, "--log", str(log), *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("ready"), f"worker did not start: {line!r}"
    proc.worker_id = int(line.split()[1])  # type: ignore[attr-defined]
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()


def read_runs(*logs: Path) -> list[tuple[int, int, int, int, int]]:
    runs: list[tuple[int, int, int, int, int]] = []
    for log in logs:
        if log.exists():
            for line in log.read_text().splitlines():
                task_id, attempt, pid, start, end = map(int, line.split())
                runs.append((task_id, attempt, pid, start, end))
    return runs


def statuses(client: Client, ids: list[int]) -> collections.Counter[str]:
    with client.transaction() as tx:
        rows = tx.fetch("SELECT status FROM anclax.tasks WHERE id = ANY($1)", ids)
    return collections.Counter(row["status"] for row in rows)


def test_two_worker_processes_drain_20000_tasks_exactly_once(client: Client, module_dsn: str, tmp_path: Path) -> None:
    ids: list[int] = []
    for chunk in range(4):
        ids += Runner(client).run_many("Echo", [Params(n=chunk * 5000 + i) for i in range(5000)])
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    with (
        worker_process(module_dsn, logs[0], "--concurrency", "32"),
        worker_process(module_dsn, logs[1], "--concurrency", "32"),
    ):
        wait_until(lambda: statuses(client, ids)["completed"] == len(ids), timeout=120, interval=0.2)
    runs = read_runs(*logs)
    executions = collections.Counter(task_id for task_id, *_ in runs)
    assert set(executions) == set(ids)
    assert max(executions.values()) == 1, "a task ran twice"
    assert len({pid for _, _, pid, _, _ in runs}) == 2, "both workers took part"
    with client.transaction() as tx:
        assert tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE id = ANY($1) AND attempts <> 1", ids) == 0


def test_a_killed_worker_s_task_is_rerun_after_its_lease_expires(
    client: Client, module_dsn: str, tmp_path: Path
) -> None:
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    with worker_process(module_dsn, log_a, "--lease-ttl", "2", "--sleep", "30") as victim:
        task_id = Runner(client).run("Flaky", Params(n=1))
        wait_until(lambda: client.task(task_id).status == "running", timeout=10)
        victim_worker = client.task(task_id).worker_id
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    started = time.monotonic()
    with worker_process(module_dsn, log_b, "--lease-ttl", "2"):
        info = client.wait(task_id, timeout=30)
    assert info.status == "completed"
    assert info.attempts == 2
    assert time.monotonic() - started >= 0.5  # only after the lease (2 s from the last heartbeat) ran out
    events = client.events(task_id)
    assert [e.kind for e in events] == ["TaskError"]
    assert events[0].message == f"lease expired: worker {victim_worker} stopped heartbeating"
    assert read_runs(log_a) == []  # the victim never finished it
    assert [(t, a) for t, a, *_ in read_runs(log_b)] == [(task_id, 2)]


def test_a_task_whose_final_attempt_was_lost_fails_without_running_again(
    client: Client, module_dsn: str, tmp_path: Path
) -> None:
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    with worker_process(module_dsn, log_a, "--lease-ttl", "2", "--sleep", "30") as victim:
        task_id = Runner(client).run("Echo", Params(n=1))  # one attempt only
        wait_until(lambda: client.task(task_id).status == "running", timeout=10)
        victim.send_signal(signal.SIGKILL)
        victim.wait()
    with worker_process(module_dsn, log_b, "--lease-ttl", "2"):
        info = client.wait(task_id, timeout=30)
    assert (info.status, info.attempts) == ("failed", 1)
    assert [e.kind for e in client.events(task_id)] == ["TaskError", "TaskFailed"]
    assert read_runs(log_a, log_b) == []


def test_a_frozen_worker_loses_its_lease_and_its_late_result_is_discarded(
    client: Client, module_dsn: str, tmp_path: Path
) -> None:
    log_a, log_b = tmp_path / "a.log", tmp_path / "b.log"
    with worker_process(module_dsn, log_a, "--lease-ttl", "2", "--sleep", "1.5") as frozen:
        task_id = Runner(client).run("Flaky", Params(n=2))
        wait_until(lambda: client.task(task_id).status == "running", timeout=10)
        frozen.send_signal(signal.SIGSTOP)
        with worker_process(module_dsn, log_b, "--lease-ttl", "2"):
            wait_until(lambda: client.task(task_id).attempts == 2, timeout=30)
            frozen.send_signal(signal.SIGCONT)
            info = client.wait(task_id, timeout=30)
            # The thawed worker's attempt runs to its end in Python (and reports a result that is
            # then discarded): wait for it, however busy the machine.
            wait_until(lambda: any(run[0] == task_id for run in read_runs(log_a)), timeout=30)
            time.sleep(0.5)  # and for its result to reach the database, if it were to
    assert info.status == "completed"
    assert client.task(task_id).attempts == 2
    late = [run for run in read_runs(log_a) if run[0] == task_id]
    assert late, "the frozen attempt finished in Python ..."
    assert late[0][1] == 1
    assert client.task(task_id).finished_at == info.finished_at  # ... but changed nothing


def test_graceful_stop_finishes_short_tasks_and_releases_long_ones(client: Client) -> None:
    runner = Runner(client)
    short = runner.run("Sleepy", Params(sleep=0.3))
    long = runner.run("Sleepy", Params(sleep=30))
    recorder = Recorder()
    with running_worker(client, recorder, shutdown_grace=1.0) as worker:
        wait_until(lambda: len(recorder.attempts_of(short)) == 1 and len(recorder.attempts_of(long)) == 1)
        started = time.monotonic()
        worker.stop()
        assert time.monotonic() - started < 5
    assert client.task(short).status == "completed"
    released = client.task(long)
    # Back in the queue, and the interrupted attempt does not count (Sleepy has one attempt).
    assert (released.status, released.attempts, released.worker_id) == ("pending", 0, None)
    assert "released" in (client.events(long)[0].message or "")
    # Another worker runs it again at once.
    successor = Recorder()
    with running_worker(client, successor):
        wait_until(lambda: successor.attempts_of(long) == [1], timeout=10)
        client.cancel(long)
        assert client.wait(long, timeout=10).status == "cancelled"


def test_sigterm_stops_a_worker_process_gracefully(client: Client, module_dsn: str, tmp_path: Path) -> None:
    log = tmp_path / "w.log"
    with worker_process(module_dsn, log, "--sleep", "0.5") as proc:
        task_id = Runner(client).run("Echo", Params(n=3))
        wait_until(lambda: client.task(task_id).status == "running", timeout=10)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        assert proc.stdout is not None
        assert "stopped" in proc.stdout.read()
    assert client.task(task_id).status == "completed"
    with client.transaction() as tx:
        assert tx.fetchval("SELECT count(*) FROM anclax.workers WHERE id = $1", proc.worker_id) == 0  # type: ignore[attr-defined]


def test_worker_survives_terminated_connections(client: Client, module_dsn: str) -> None:
    recorder = Recorder()
    runner = Runner(client)
    with running_worker(client, recorder):
        assert client.wait(runner.run("Echo", Params()), timeout=10).status == "completed"
        with psycopg.connect(module_dsn, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'anclax-fast worker' AND pid <> pg_backend_pid()"
            ).fetchone()
        assert killed is not None
        assert killed[0] >= 2
        ids = [runner.run("Echo", Params(n=i)) for i in range(20)]
        for task_id in ids:
            assert client.wait(task_id, timeout=30).status == "completed"


def test_worker_survives_a_database_restart(tmp_path: Path) -> None:
    with EmbeddedPostgres() as pg, Client(pg.dsn) as client:
        client.migrate()
        runner = Runner(client)
        with running_worker(client, Recorder(), lease_ttl=5.0):
            assert client.wait(runner.run("Echo", Params()), timeout=10).status == "completed"
            pg.restart(mode="fast")
            ids: list[int] = []
            deadline = time.monotonic() + 30
            while len(ids) < 10 and time.monotonic() < deadline:
                try:
                    ids.append(runner.run("Echo", Params(n=len(ids))))
                except Exception:
                    time.sleep(0.2)
            for task_id in ids:
                assert client.wait(task_id, timeout=30).status == "completed"
            assert len(ids) == 10


def test_cron_fires_once_per_second_across_three_processes_started_and_killed_at_random(
    client: Client, module_dsn: str, tmp_path: Path
) -> None:
    rng = random.Random(20261127)
    alive: dict[int, tuple[subprocess.Popen[str], float]] = {}
    intervals: list[tuple[float, float]] = []
    end = time.time() + 20
    log = tmp_path / "cron.log"

    def start(slot: int) -> None:
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), "--dsn", module_dsn, "--log", str(log), "--spec", "cron", "--lease-ttl", "2"],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("ready")
        alive[slot] = (proc, time.time())

    def kill(slot: int) -> None:
        proc, started = alive.pop(slot)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        intervals.append((started, time.time()))

    try:
        start(0)
        while time.time() < end:
            time.sleep(rng.uniform(0.3, 2.0))
            slot = rng.randrange(3)
            if slot in alive and len(alive) > 0 and rng.random() < 0.5:
                kill(slot)
            elif slot not in alive:
                start(slot)
    finally:
        for slot in list(alive):
            kill(slot)
    with client.transaction() as tx:
        rows = tx.fetch("SELECT fire_at FROM anclax.tasks WHERE name = 'Tick' ORDER BY fire_at")
    fires = [row["fire_at"].timestamp() for row in rows]
    assert len(fires) == len(set(fires)), "a fire time has two rows"

    def covered(second: float) -> bool:
        # A worker was up from before the previous fire (which creates this fire's row) until after it.
        return any(s <= second - 1.5 and e >= second + 0.5 for s, e in intervals)

    seconds = range(int(min(s for s, _ in intervals)) + 2, int(max(e for _, e in intervals)))
    missing = [s for s in seconds if covered(s) and float(s) not in fires]
    assert missing == [], f"no row for fire times {missing}"
