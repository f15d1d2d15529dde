# pyright: reportMissingTypeStubs=false
"""``run_<task>_with_tx`` through the caller's own transaction, one scenario per driver:
committed ⇒ the task exists and runs; rolled back ⇒ no task; inside the transaction, the
enqueue sees the transaction's own uncommitted rows and the application's rows see the task.

Blocking drivers: psycopg 3, SQLAlchemy Connection and Session (psycopg), Django's connection.
asyncio drivers: asyncpg, psycopg 3 AsyncConnection, SQLAlchemy AsyncConnection and AsyncSession
(asyncpg and psycopg)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager, contextmanager
from typing import Any, cast
from urllib.parse import urlsplit

import asyncpg
import psycopg
import pytest
import sqlalchemy
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import Session

from anclax_fast import AsyncClient, Client, ConfigurationError, TaskNotFound
from tests.support import AsyncRunner, Params, Runner, running_worker

pytestmark = pytest.mark.postgres

Execute = Callable[[str], object]
AsyncExecute = Callable[[str], Awaitable[object]]
SyncDriver = Callable[[str, bool], AbstractContextManager[tuple[object, Execute]]]
AsyncDriver = Callable[[str, bool], AbstractAsyncContextManager[tuple[object, AsyncExecute]]]


@pytest.fixture(scope="module", autouse=True)
def orders(module_dsn: str) -> None:
    # An application table whose rows point at tasks: inserting one proves the task row is visible
    # inside the transaction that enqueued it.
    with psycopg.connect(module_dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, task_id bigint NOT NULL REFERENCES anclax.tasks (id))")


async def asyncpg_connect(dsn: str) -> Any:
    # asyncpg ships no types.
    return await asyncpg.connect(dsn)  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]


def url(dsn: str, driver: str) -> str:
    return dsn.replace("postgresql://", f"postgresql+{driver}://", 1)


# -- blocking drivers -------------------------------------------------------------------------------


@contextmanager
def psycopg_connection(dsn: str, commit: bool) -> Generator[tuple[object, Execute]]:
    with psycopg.connect(dsn) as conn:
        yield conn, lambda sql: cast(Any, conn).execute(sql)
        conn.commit() if commit else conn.rollback()


@contextmanager
def sqlalchemy_connection(dsn: str, commit: bool) -> Generator[tuple[object, Execute]]:
    engine = sqlalchemy.create_engine(url(dsn, "psycopg"))
    try:
        with engine.connect() as conn:
            yield conn, lambda sql: conn.execute(sqlalchemy.text(sql))
            conn.commit() if commit else conn.rollback()
    finally:
        engine.dispose()


@contextmanager
def sqlalchemy_session(dsn: str, commit: bool) -> Generator[tuple[object, Execute]]:
    engine = sqlalchemy.create_engine(url(dsn, "psycopg"))
    try:
        with Session(engine) as session:
            yield session, lambda sql: session.execute(sqlalchemy.text(sql))
            session.commit() if commit else session.rollback()
    finally:
        engine.dispose()


def _django(dsn: str) -> Any:
    import django
    from django.conf import settings
    from django.db import connections

    parts = urlsplit(dsn)
    database = {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.path.lstrip("/"),
        "USER": parts.username,
        "HOST": parts.hostname,
        "PORT": parts.port,
    }
    if not settings.configured:
        settings.configure(DATABASES={"default": database}, USE_TZ=True)
        django.setup()
    connections.close_all()
    settings.DATABASES["default"].update(database)
    connections.settings = connections.configure_settings(settings.DATABASES)
    return connections["default"]


class _Rollback(Exception):
    pass


@contextmanager
def django_atomic(dsn: str, commit: bool) -> Generator[tuple[object, Execute]]:
    from django.db import transaction

    connection = _django(dsn)

    def execute(sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    try:
        with transaction.atomic():
            assert connection.in_atomic_block
            yield connection, execute
            if not commit:
                raise _Rollback
    except _Rollback:
        pass
    finally:
        connection.close()


SYNC_DRIVERS: dict[str, SyncDriver] = {
    "psycopg": psycopg_connection,
    "sqlalchemy-connection": sqlalchemy_connection,
    "sqlalchemy-session": sqlalchemy_session,
    "django": django_atomic,
}


@pytest.mark.parametrize("name", sorted(SYNC_DRIVERS))
def test_blocking_driver(name: str, client: Client, module_dsn: str) -> None:
    driver = SYNC_DRIVERS[name]
    runner = Runner(client)
    order = 1000 + sorted(SYNC_DRIVERS).index(name) * 10
    with driver(module_dsn, True) as (tx, execute):
        task_id = runner.run_with_tx(tx, "Echo", Params(n=order), unique_tag=f"{name}-once")
        # The enqueue sees the transaction's own uncommitted task, and the application's row sees it.
        assert runner.run_with_tx(tx, "Echo", Params(n=-1), unique_tag=f"{name}-once") == task_id
        execute(f"INSERT INTO orders (id, task_id) VALUES ({order}, {task_id})")
        child = runner.run_with_tx(tx, "Echo", Params(n=order + 1), parent_id=task_id, priority=3)
    assert client.task(child).parent_id == task_id
    assert client.task(child).priority == 3
    with running_worker(client):
        assert client.wait(task_id, timeout=10).status == "completed"
        assert client.wait(child, timeout=10).status == "completed"
    assert client.task(task_id).params["n"] == order

    with driver(module_dsn, False) as (tx, execute):
        gone = runner.run_with_tx(tx, "Echo", Params(n=order + 2))
        execute(f"INSERT INTO orders (id, task_id) VALUES ({order + 2}, {gone})")
    with pytest.raises(TaskNotFound):
        client.task(gone)
    with client.transaction() as own:
        assert own.fetchval("SELECT count(*) FROM orders WHERE id IN ($1, $2)", order, order + 2) == 1


def test_cron_tasks_register_their_schedule_in_the_transaction(client: Client, module_dsn: str) -> None:
    runner = Runner(client)
    with sqlalchemy_session(module_dsn, False) as (tx, _):
        runner.run_with_tx(tx, "AppCron", Params(key="k"), unique_tag="rolled-back-cron")
    assert not [s for s in client.schedules() if s.unique_tag == "rolled-back-cron"]
    with sqlalchemy_session(module_dsn, True) as (tx, _):
        fire = runner.run_with_tx(tx, "AppCron", Params(key="k"), unique_tag="committed-cron")
    assert [s.next_task_id for s in client.schedules() if s.unique_tag == "committed-cron"] == [fire]
    client.unschedule("AppCron", "committed-cron")


def test_unsupported_objects_name_the_supported_ones(client: Client, module_dsn: str) -> None:
    with pytest.raises(TypeError, match=r"cannot enqueue through a builtins\.str; TaskRunner takes an anclax_fast\.Tx"):
        Runner(client).run_with_tx("BEGIN", "Echo")

    async def in_asyncio() -> None:
        conn = await asyncpg_connect(module_dsn)
        try:
            with pytest.raises(TypeError, match="an asyncio connection: use AsyncTaskRunner"):
                Runner(client).run_with_tx(conn, "Echo")
        finally:
            await conn.close()
        async with AsyncClient(module_dsn) as aclient:
            with psycopg.connect(module_dsn) as blocking, pytest.raises(TypeError, match="use TaskRunner"):
                await AsyncRunner(aclient).run_with_tx(blocking, "Echo")

    asyncio.run(in_asyncio())
    engine = sqlalchemy.create_engine("sqlite://")
    with engine.connect() as sqlite, pytest.raises(ConfigurationError, match="sqlite, not PostgreSQL"):
        Runner(client).run_with_tx(sqlite, "Echo")


# -- asyncio drivers --------------------------------------------------------------------------------


@asynccontextmanager
async def asyncpg_connection(dsn: str, commit: bool) -> AsyncGenerator[tuple[object, AsyncExecute]]:
    conn = await asyncpg_connect(dsn)
    try:
        tx = conn.transaction()
        await tx.start()
        yield conn, conn.execute
        await (tx.commit() if commit else tx.rollback())
    finally:
        await conn.close()


@asynccontextmanager
async def psycopg_async(dsn: str, commit: bool) -> AsyncGenerator[tuple[object, AsyncExecute]]:
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        yield conn, lambda sql: cast(Any, conn).execute(sql)
        await (conn.commit() if commit else conn.rollback())


def _sqlalchemy_async(driver: str, session: bool) -> AsyncDriver:
    @asynccontextmanager
    async def open_tx(dsn: str, commit: bool) -> AsyncGenerator[tuple[object, AsyncExecute]]:
        engine = create_async_engine(url(dsn, driver))
        try:
            if session:
                from sqlalchemy.ext.asyncio import AsyncSession

                async with AsyncSession(engine) as s:
                    yield s, lambda sql: s.execute(sqlalchemy.text(sql))
                    await (s.commit() if commit else s.rollback())
            else:
                async with engine.connect() as conn:
                    yield conn, lambda sql: conn.execute(sqlalchemy.text(sql))
                    await (conn.commit() if commit else conn.rollback())
        finally:
            await engine.dispose()

    return open_tx


ASYNC_DRIVERS: dict[str, AsyncDriver] = {
    "asyncpg": asyncpg_connection,
    "psycopg-async": psycopg_async,
    "sqlalchemy-asyncpg-connection": _sqlalchemy_async("asyncpg", session=False),
    "sqlalchemy-asyncpg-session": _sqlalchemy_async("asyncpg", session=True),
    "sqlalchemy-psycopg-session": _sqlalchemy_async("psycopg", session=True),
}


@pytest.mark.parametrize("name", sorted(ASYNC_DRIVERS))
def test_asyncio_driver(name: str, client: Client, module_dsn: str) -> None:
    driver = ASYNC_DRIVERS[name]
    order = 2000 + sorted(ASYNC_DRIVERS).index(name) * 10

    async def body() -> tuple[int, int, int]:
        async with AsyncClient(module_dsn) as aclient:
            runner = AsyncRunner(aclient)
            async with driver(module_dsn, True) as (tx, execute):
                task_id = await runner.run_with_tx(tx, "Echo", Params(n=order), unique_tag=f"{name}-once")
                assert await runner.run_with_tx(tx, "Echo", Params(n=-1), unique_tag=f"{name}-once") == task_id
                await execute(f"INSERT INTO orders (id, task_id) VALUES ({order}, {task_id})")
                child = await runner.run_with_tx(tx, "Echo", Params(n=order + 1), parent_id=task_id, labels=["x"])
            async with driver(module_dsn, False) as (tx, execute):
                gone = await runner.run_with_tx(tx, "Echo", Params(n=order + 2))
                await execute(f"INSERT INTO orders (id, task_id) VALUES ({order + 2}, {gone})")
            return task_id, child, gone

    task_id, child, gone = asyncio.run(body())
    assert (client.task(child).parent_id, client.task(child).labels) == (task_id, ("x",))
    with pytest.raises(TaskNotFound):
        client.task(gone)
    with running_worker(client, labels=["x"]):
        assert client.wait(task_id, timeout=10).status == "completed"
        assert client.wait(child, timeout=10).status == "completed"
    with client.transaction() as own:
        assert own.fetchval("SELECT count(*) FROM orders WHERE id IN ($1, $2)", order, order + 2) == 1
