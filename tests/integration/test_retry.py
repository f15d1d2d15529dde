"""``Client.retry`` and ``anclax-fast tasks retry``: failed and cancelled tasks back to the queue with a
fresh attempt budget, an event naming who asked, by ids or by filter, against a real worker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from anclax_fast import Client, ConfigurationError, TaskFilter, Worker
from tests.support import Params, Recorder, Runner, running_worker, wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def worker(client: Client, recorder: Recorder) -> Iterator[Worker]:
    with running_worker(client, recorder, concurrency=8) as w:
        yield w


def failed(client: Client, name: str, params: Params | None = None) -> int:
    task_id = Runner(client).run(name, params or Params())
    assert client.wait(task_id, timeout=10).status == "failed"
    return task_id


def test_a_retried_task_gets_as_many_attempts_again_and_an_event(
    client: Client, worker: Worker, recorder: Recorder
) -> None:
    task_id = failed(client, "AlwaysFails")  # maxAttempts 3
    assert recorder.attempts_of(task_id) == [1, 2, 3]
    assert client.retry([task_id], actor="alice@ops") == 1
    info = client.wait(task_id, timeout=10)
    # Attempt numbers go on (they fence late results); the budget grew by the original 3.
    assert (info.status, info.attempts, info.max_attempts) == ("failed", 6, 6)
    assert recorder.attempts_of(task_id) == [1, 2, 3, 4, 5, 6]
    retried = [e for e in client.events(task_id) if e.kind == "TaskRetried"]
    assert [(e.attempt, e.message) for e in retried] == [(3, "retried by alice@ops")]
    # The failure hook ran once per permanent failure.
    assert [h for h in recorder.hooks if h[1] == task_id] == [("AlwaysFails", task_id)] * 2
    # A second retry grants the same 3 attempts again, not the 6 the task has by now.
    assert client.retry([task_id], actor="bob") == 1
    assert client.wait(task_id, timeout=10).max_attempts == 9


def test_a_task_whose_cause_was_fixed_completes_after_a_retry(client: Client, worker: Worker) -> None:
    # Fails its 3 allowed attempts (failTimes 3), then the "fix" is that attempt 4 succeeds.
    task_id = failed(client, "Flaky", Params(fail_times=3))
    before = datetime.now(timezone.utc)
    assert client.retry([task_id]) == 1
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts, info.max_attempts) == ("completed", 4, 6)
    assert info.started_at is not None
    assert info.started_at >= before - timedelta(seconds=1)
    event = next(e for e in client.events(task_id) if e.kind == "TaskRetried")
    assert event.message is not None
    assert event.message.startswith("retried by ")
    assert "@" in event.message


def test_retry_leaves_pending_running_and_completed_tasks_alone(client: Client, worker: Worker) -> None:
    done = Runner(client).run("Echo")
    assert client.wait(done, timeout=10).status == "completed"
    sleeping = Runner(client).run("Sleepy", Params(sleep=30))
    wait_until(lambda: client.task(sleeping).status == "running")
    later = Runner(client).run("Echo", delay=timedelta(hours=1))
    assert client.retry([done, sleeping, later, 987654321]) == 0
    assert client.retry([done, sleeping, later], dry_run=True) == 0
    assert [client.task(i).status for i in (done, sleeping, later)] == ["completed", "running", "pending"]
    assert all(e.kind != "TaskRetried" for i in (done, sleeping, later) for e in client.events(i))
    client.cancel(sleeping)
    client.cancel(later)


def test_a_cancelled_task_can_be_retried(client: Client, worker: Worker) -> None:
    task_id = Runner(client).run("Echo", delay=timedelta(hours=1))
    assert client.cancel(task_id)
    assert client.task(task_id).status == "cancelled"
    assert client.retry([task_id]) == 1
    info = client.wait(task_id, timeout=10)
    assert (info.status, info.attempts, info.max_attempts) == ("completed", 1, 1)


def test_retry_by_filter_counts_first_and_retries_only_what_matches(client: Client, worker: Worker) -> None:
    fatal = [failed(client, "Fatal") for _ in range(3)]
    other = failed(client, "NoRetry")
    by_name = TaskFilter(status="failed", name="Fatal", since=timedelta(minutes=5))
    assert client.retry(by_name, dry_run=True) == 3
    assert client.retry(TaskFilter(status="failed", error_contains="CANNOT ever"), dry_run=True) == 3
    assert client.retry(TaskFilter(status="failed", error_contains="nothing like this"), dry_run=True) == 0
    assert (
        client.retry(
            TaskFilter(status="failed", name="Fatal", until=datetime(2000, 1, 1, tzinfo=timezone.utc)), dry_run=True
        )
        == 0
    )
    assert client.retry(by_name, actor="carol") == 3
    for task_id in fatal:
        info = client.wait(task_id, timeout=10)
        # FatalTaskError fails at once: 1 attempt used of 5, so the retry's attempt was the 2nd.
        assert (info.status, info.attempts, info.max_attempts) == ("failed", 2, 6)
    assert client.task(other).status == "failed"
    assert all(e.kind != "TaskRetried" for e in client.events(other))


def test_bad_filters_and_targets_are_refused_with_a_clear_error(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="unknown task status 'done'"):
        TaskFilter(status="done")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="tz-aware"):
        TaskFilter(since=datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError, match="non-empty string"):
        TaskFilter(name="")
    with pytest.raises(ConfigurationError, match="retry applies to failed and cancelled tasks"):
        client.retry(TaskFilter(status="pending"))
    with pytest.raises(ConfigurationError, match="task ids must be integers"):
        client.retry(["12"])  # type: ignore[list-item]


def cli(*args: str, dsn: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ANCLAX_DSN": dsn}
    return subprocess.run(
        [sys.executable, "-m", "anclax_fast", "tasks", "retry", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        input=stdin,
        check=False,
    )


def test_the_command_counts_first_and_retries_only_with_yes(client: Client, worker: Worker, module_dsn: str) -> None:
    start = datetime.now(timezone.utc)
    task_ids = [failed(client, "NoRetry") for _ in range(2)]
    since = start.isoformat()
    dry = cli("--name", "NoRetry", "--error-contains", "missing", "--since", since, "--dry-run", dsn=module_dsn)
    assert (dry.returncode, dry.stdout.strip()) == (0, "2"), dry.stderr
    refused = cli("--name", "NoRetry", "--since", since, dsn=module_dsn, stdin="")
    assert refused.returncode == 2
    assert "2 task(s) match: add --yes" in refused.stderr
    assert [client.task(i).status for i in task_ids] == ["failed", "failed"]
    done = cli("--name", "NoRetry", "--since", since, "--yes", dsn=module_dsn)
    assert (done.returncode, done.stdout.strip()) == (0, "2"), done.stderr
    for task_id in task_ids:
        assert client.wait(task_id, timeout=10).attempts == 2
    by_id = cli(str(task_ids[0]), "--yes", dsn=module_dsn)
    assert (by_id.returncode, by_id.stdout.strip()) == (0, "1"), by_id.stderr
    both = cli(str(task_ids[0]), "--name", "NoRetry", dsn=module_dsn)
    assert both.returncode == 2
    assert "not both" in both.stderr
    bad = cli("--since", "yesterday-ish", "--dry-run", dsn=module_dsn)
    assert bad.returncode == 2
    assert "neither a duration" in bad.stderr
