"""Enqueue: options, validation before anything is written, unique tags, batches, transactions."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest
from psycopg.rows import dict_row

from anclax_fast import Client, ConfigurationError, RetryPolicy, TaskAlreadyExists, TaskNotFound
from tests.support import Params, Runner

pytestmark = pytest.mark.postgres


def count(client: Client) -> int:
    with client.transaction() as tx:
        return int(tx.fetchval("SELECT count(*) FROM anclax.tasks"))


def test_enqueue_stores_the_definition_and_overrides(client: Client) -> None:
    runner = Runner(client)
    default_id = runner.run("Flaky", Params(n=1, fail_times=2))
    info = client.task(default_id)
    assert info.status == "pending"
    assert info.name == "Flaky"
    assert info.params == {"n": 1, "key": "", "failTimes": 2, "sleep": 0.0}  # JSON names on the wire
    assert (info.max_attempts, info.retry_intervals) == (3, (timedelta(milliseconds=100),))
    assert info.timeout == timedelta(hours=1)
    assert info.attempts == 0
    assert info.labels == ()
    run_at = datetime.now(timezone.utc) + timedelta(hours=2)
    custom = runner.run(
        "Flaky",
        Params(),
        retry_policy=RetryPolicy("1m,2m", -1),
        timeout="90s",
        priority=7,
        labels=["b", "a", "a"],
        run_at=run_at,
        parent_id=default_id,
    )
    info = client.task(custom)
    assert info.max_attempts == -1
    assert info.retry_intervals == (timedelta(minutes=1), timedelta(minutes=2))
    assert info.timeout == timedelta(seconds=90)
    assert info.priority == 7
    assert info.labels == ("a", "b")
    assert abs(info.run_at - run_at) < timedelta(milliseconds=1)
    assert info.parent_id == default_id


def test_delay_sets_run_at(client: Client) -> None:
    before = datetime.now(timezone.utc)
    task_id = Runner(client).run("Echo", delay="10m")
    run_at = client.task(task_id).run_at
    assert before + timedelta(minutes=10) <= run_at <= datetime.now(timezone.utc) + timedelta(minutes=10)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"priority": -1}, "priority"),
        ({"priority": 2**31}, "priority"),
        ({"timeout": "0s"}, "timeout"),
        ({"timeout": "1w"}, "unknown unit"),
        ({"timeout": timedelta(0)}, "positive"),
        ({"delay": "5m", "run_at": datetime.now(timezone.utc)}, "either delay or run_at"),
        ({"run_at": datetime(2030, 1, 1)}, "timezone-aware"),
        ({"labels": "gpu"}, "sequence of strings"),
        ({"labels": [""]}, "non-empty"),
        ({"retry_policy": "1m"}, "RetryPolicy"),
        ({"unique_tag": ""}, "unique_tag"),
        ({"unique_tag": "a\x00b"}, "NUL"),
        ({"parent_id": 0}, "parent_id"),
        ({"if_exists": "replace"}, "if_exists"),
        ({"bogus": 1}, "unknown enqueue option"),
    ],
)
def test_bad_options_raise_before_anything_is_written(client: Client, options: dict[str, object], message: str) -> None:
    before = count(client)
    with pytest.raises(ConfigurationError, match=message):
        Runner(client).run("Echo", Params(), **options)
    assert count(client) == before


def test_bad_retry_policies_cannot_be_built() -> None:
    with pytest.raises(ValueError, match="empty item"):
        RetryPolicy("1m,", 3)
    with pytest.raises(ConfigurationError, match="max_attempts"):
        RetryPolicy("1m", 0)


def test_wrong_parameter_type_raises(client: Client) -> None:
    with pytest.raises(TypeError, match="generated model"):
        Runner(client).run("Echo", {"n": 1})  # type: ignore[arg-type]


def test_unique_tag_returns_the_existing_task_in_any_status(client: Client) -> None:
    runner = Runner(client)
    first = runner.run("Echo", Params(n=1), unique_tag="tag-a")
    assert runner.run("Echo", Params(n=2), unique_tag="tag-a") == first
    assert client.task(first).params["n"] == 1
    client.cancel(first)
    assert runner.run("Echo", Params(n=3), unique_tag="tag-a") == first
    with pytest.raises(TaskAlreadyExists) as raised:
        runner.run("Echo", Params(), unique_tag="tag-a", if_exists="raise")
    assert raised.value.task_id == first


def test_concurrent_enqueues_of_a_new_tag_yield_one_row(client: Client) -> None:
    runner = Runner(client)
    barrier = threading.Barrier(16)
    ids: list[int] = []
    lock = threading.Lock()

    def enqueue(i: int) -> None:
        barrier.wait()
        task_id = runner.run("Echo", Params(n=i), unique_tag="race-1")
        with lock:
            ids.append(task_id)

    threads = [threading.Thread(target=enqueue, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1
    with client.transaction() as tx:
        assert tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE unique_tag = 'race-1'") == 1


def test_batch_enqueue_in_one_round_trip_keeps_order(client: Client) -> None:
    runner = Runner(client)
    ids = runner.run_many("Echo", [Params(n=i) for i in range(1000)], priority=3)
    assert len(ids) == 1000
    assert ids == sorted(ids)
    assert [client.task(ids[i]).params["n"] for i in (0, 500, 999)] == [0, 500, 999]
    assert client.task(ids[0]).priority == 3
    with pytest.raises(ConfigurationError, match="unique_tag"):
        runner.run_many("Echo", [Params()], unique_tag="x")
    assert runner.run_many("Echo", []) == []


def test_engine_transaction_commit_and_rollback(client: Client) -> None:
    runner = Runner(client)
    with client.transaction() as tx:
        tx.execute("CREATE TABLE IF NOT EXISTS orders (id int)")
    with client.transaction() as tx:
        tx.execute("INSERT INTO orders VALUES (1)")
        committed = runner.run_with_tx(tx, "Echo", Params(n=1))
    assert client.task(committed).status == "pending"
    rolled_back = 0

    def enqueue_then_fail() -> None:
        nonlocal rolled_back
        with client.transaction() as tx:
            rolled_back = runner.run_with_tx(tx, "Echo", Params(n=2))
            tx.execute("INSERT INTO orders VALUES (2)")
            raise RuntimeError("abort")

    with pytest.raises(RuntimeError, match="abort"):
        enqueue_then_fail()
    with pytest.raises(TaskNotFound):
        client.task(rolled_back)
    with client.transaction() as tx:
        assert tx.fetch("SELECT id FROM orders ORDER BY id") == [{"id": 1}]


def test_psycopg_connection_and_cursor_transactions(client: Client, module_dsn: str) -> None:
    runner = Runner(client)
    with psycopg.connect(module_dsn) as conn:
        committed = runner.run_with_tx(conn, "Echo", Params(n=1), labels=["x"], unique_tag="psy-1")
        with conn.cursor() as cur:
            via_cursor = runner.run_with_tx(cur, "Echo", Params(n=2))
        conn.commit()
    assert client.task(committed).labels == ("x",)
    assert client.task(via_cursor).params["n"] == 2
    with psycopg.connect(module_dsn) as conn:
        rolled_back = runner.run_with_tx(conn, "Echo", Params(n=3))
        conn.rollback()
    with pytest.raises(TaskNotFound):
        client.task(rolled_back)
    with psycopg.connect(module_dsn) as conn, conn.cursor(row_factory=dict_row) as cursor:
        assert runner.run_with_tx(cursor, "Echo", Params(), unique_tag="psy-1") == committed
        with pytest.raises(TaskAlreadyExists):
            runner.run_with_tx(cursor, "Echo", Params(), unique_tag="psy-1", if_exists="raise")


def test_every_enqueue_notifies(client: Client, module_dsn: str) -> None:
    with psycopg.connect(module_dsn, autocommit=True) as listener:
        listener.execute("LISTEN anclax_tasks")
        Runner(client).run("Echo", Params())
        Runner(client).run("Echo", Params(), delay="1h")
        Runner(client).run_many("Echo", [Params(), Params()])
        Runner(client).run("Echo", Params(), priority=3)
        payloads = [n.payload for n in listener.notifies(timeout=2, stop_after=4)]
    # Each names the task's lane (name, labels, priority), and the due time when it is later.
    with client.transaction() as tx:
        echo = tx.fetchval("SELECT id FROM anclax.lanes WHERE name = 'Echo' AND labels = '{}' AND priority = 0")
        echo_3 = tx.fetchval("SELECT id FROM anclax.lanes WHERE name = 'Echo' AND labels = '{}' AND priority = 3")
    assert payloads[0] == str(echo)
    lane, due = payloads[1].split("@")
    assert lane == str(echo)
    assert due.isdigit()
    assert int(due) > time.time() * 1000 + 3_000_000
    assert payloads[2] == str(echo)
    assert payloads[3] == str(echo_3)
