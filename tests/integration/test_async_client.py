"""AsyncClient: the Client's operations as coroutines resolved by the Rust runtime, without
blocking the event loop and without a thread per call."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import TypeVar

import pytest

from anclax_fast import (
    AsyncClient,
    Client,
    ConfigurationError,
    DatabaseError,
    RetryPolicy,
    TaskAlreadyExists,
    TaskNotFound,
    WaitTimeout,
)
from tests.support import CRON_SPEC, AsyncRunner, Params, running_worker

pytestmark = pytest.mark.postgres

T = TypeVar("T")


def run(dsn: str, body: Callable[[AsyncClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with AsyncClient(dsn) as client:
            return await body(client)

    return asyncio.run(main())


def os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def test_enqueue_stores_what_the_sync_client_stores(module_dsn: str, client: Client) -> None:
    run_at = datetime.now(timezone.utc) + timedelta(hours=1)

    async def body(aclient: AsyncClient) -> int:
        return await AsyncRunner(aclient).run(
            "Flaky",
            Params(n=4),
            retry_policy=RetryPolicy("1m,2m", 5),
            timeout="90s",
            priority=7,
            labels=["b", "a"],
            run_at=run_at,
            unique_tag="async-1",
        )

    task_id = run(module_dsn, body)
    info = client.task(task_id)
    assert (info.name, info.params["n"], info.priority, info.labels) == ("Flaky", 4, 7, ("a", "b"))
    assert (info.max_attempts, info.retry_intervals, info.timeout) == (
        5,
        (timedelta(minutes=1), timedelta(minutes=2)),
        timedelta(seconds=90),
    )
    assert abs(info.run_at - run_at) < timedelta(milliseconds=1)
    assert info.unique_tag == "async-1"


def test_errors_arrive_as_the_sync_client_raises_them(module_dsn: str) -> None:
    async def body(aclient: AsyncClient) -> None:
        runner = AsyncRunner(aclient)
        first = await runner.run("Echo", unique_tag="async-dup")
        assert await runner.run("Echo", unique_tag="async-dup") == first
        with pytest.raises(TaskAlreadyExists) as raised:
            await runner.run("Echo", unique_tag="async-dup", if_exists="raise")
        assert raised.value.task_id == first
        with pytest.raises(ConfigurationError, match="priority"):
            await runner.run("Echo", priority=-1)
        with pytest.raises(TaskNotFound):
            await aclient.task(10**12)
        with pytest.raises(WaitTimeout):
            await aclient.wait(first, timeout=0.05)
        async with aclient.transaction() as tx:
            with pytest.raises(DatabaseError) as sql_error:
                await tx.execute("SELECT * FROM no_such_table")
            assert sql_error.value.sqlstate == "42P01"

    run(module_dsn, body)


def test_inspection_and_control(module_dsn: str) -> None:
    async def body(aclient: AsyncClient) -> None:
        runner = AsyncRunner(aclient)
        ids = await runner.run_many("Echo", [Params(n=i) for i in range(5)], delay="1h")
        assert ids == sorted(ids)
        assert await aclient.cancel(ids[0]) == [ids[0]]
        assert await aclient.cancel(ids[0]) == []
        assert (await aclient.task(ids[0])).status == "cancelled"
        assert [e.kind for e in await aclient.events(ids[0])] == ["TaskCancelled"]
        assert (await aclient.wait(ids[0], timeout=1)).status == "cancelled"
        listed = await aclient.tasks(name="Echo", status="pending", limit=2)
        assert [t.id for t in listed] == [ids[4], ids[3]]
        counts = await aclient.counts_by_status(exact=True)
        assert counts["cancelled"] >= 1
        assert counts["pending"] >= 4

    run(module_dsn, body)


def test_schedules(module_dsn: str) -> None:
    async def body(aclient: AsyncClient) -> None:
        runner = AsyncRunner(aclient)
        fire = await runner.run("AppCron", Params(key="k"), unique_tag="async-cron")
        schedules = [s for s in await aclient.schedules() if s.unique_tag == "async-cron"]
        assert [(s.task_name, s.next_task_id) for s in schedules] == [("AppCron", fire)]
        assert await aclient.unschedule("AppCron", "async-cron") is True
        assert await aclient.unschedule("AppCron", "async-cron") is False

    assert CRON_SPEC.task("AppCron").cron is not None
    run(module_dsn, body)


def test_transaction_commits_or_rolls_back_with_the_task(module_dsn: str, client: Client) -> None:
    async def body(aclient: AsyncClient) -> tuple[int, int]:
        runner = AsyncRunner(aclient)
        async with aclient.transaction() as tx:
            await tx.execute("CREATE TABLE IF NOT EXISTS async_orders (id int)")
        async with aclient.transaction() as tx:
            assert await tx.execute("INSERT INTO async_orders VALUES ($1)", 1) == 1
            committed = await runner.run_with_tx(tx, "Echo", Params(n=1))
            # The transaction sees its own uncommitted task (the unique tag finds it).
            tagged = await runner.run_with_tx(tx, "Echo", unique_tag="async-tx")
            assert await runner.run_with_tx(tx, "Echo", unique_tag="async-tx") == tagged
            assert await tx.fetchval("SELECT count(*) FROM async_orders") == 1
        rolled_back = 0

        async def enqueue_then_fail() -> None:
            nonlocal rolled_back
            async with aclient.transaction() as tx:
                rolled_back = await runner.run_with_tx(tx, "Echo", Params(n=2))
                await tx.execute("INSERT INTO async_orders VALUES (2)")
                raise RuntimeError("abort")

        with pytest.raises(RuntimeError, match="abort"):
            await enqueue_then_fail()
        async with aclient.transaction() as tx:
            assert await tx.fetch("SELECT id FROM async_orders") == [{"id": 1}]
            assert await tx.fetchrow("SELECT id FROM async_orders WHERE id = 2") is None
        return committed, rolled_back

    committed, rolled_back = run(module_dsn, body)
    assert client.task(committed).status == "pending"
    with pytest.raises(TaskNotFound):
        client.task(rolled_back)


def test_the_loop_keeps_running_while_the_database_works(module_dsn: str) -> None:
    async def body(aclient: AsyncClient) -> int:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(ticker())
        async with aclient.transaction() as tx:
            await tx.execute("SELECT pg_sleep(0.5)")
        ticking.cancel()
        return ticks

    # A call that blocked the loop for the 0.5 s statement would leave the ticker at ~0.
    assert run(module_dsn, body) >= 25


def test_concurrent_calls_borrow_no_thread_each(module_dsn: str) -> None:
    async def body(aclient: AsyncClient) -> tuple[int, int, list[int]]:
        runner = AsyncRunner(aclient)
        await runner.run("Echo")  # the runtime, the pool and the loop's completion socket exist now
        before = os_threads()
        peak = before
        calls = [asyncio.ensure_future(runner.run("Echo", Params(n=i))) for i in range(300)]
        while not all(call.done() for call in calls):
            peak = max(peak, os_threads())
            await asyncio.sleep(0)
        return before, peak, [call.result() for call in calls]

    before, peak, ids = run(module_dsn, body)
    assert len(set(ids)) == 300
    assert peak <= before + 1  # (the pool may open its last connections meanwhile, never 300 threads)


def test_cancelling_a_wait_stops_it(module_dsn: str, client: Client) -> None:
    async def body(aclient: AsyncClient) -> int:
        task_id = await AsyncRunner(aclient).run("Sleepy", Params(sleep=0.2))
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(aclient.wait(task_id), 0.2)
        # The client still works after a cancelled wait.
        return (await aclient.task(task_id)).id

    task_id = run(module_dsn, body)
    with running_worker(client):
        assert client.wait(task_id, timeout=10).status == "completed"


def test_one_client_serves_successive_event_loops(module_dsn: str) -> None:
    aclient = AsyncClient(module_dsn)
    runner = AsyncRunner(aclient)
    try:
        first = asyncio.run(runner.run("Echo"))
        second = asyncio.run(runner.run("Echo"))
        assert second > first
    finally:
        asyncio.run(aclient.close())
