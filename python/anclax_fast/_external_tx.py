"""One statement through the caller's own transaction, whichever driver holds it.

Every supported driver gets the same SQL (in its placeholder style) and the same arguments, and
gives back the one row the statement returns. Drivers are recognised by type without importing
them: an object of a driver that was never imported cannot be passed in.
"""

from __future__ import annotations

import sys
from typing import Any, cast

from anclax_fast._core import AsyncTx, Tx
from anclax_fast._sql import in_paramstyle, row_values
from anclax_fast._statements import Statement
from anclax_fast.errors import ConfigurationError

__all__ = ["ASYNC_SUPPORTED", "SYNC_SUPPORTED", "fetch_row", "fetch_row_async"]

SYNC_SUPPORTED = (
    "an anclax_fast.Tx, a psycopg 3 Connection or Cursor, a SQLAlchemy Connection or Session (psycopg driver), "
    "or a Django connection of a PostgreSQL database"
)
ASYNC_SUPPORTED = (
    "an anclax_fast.AsyncTx, an asyncpg Connection, a psycopg 3 AsyncConnection or AsyncCursor, "
    "or a SQLAlchemy AsyncConnection or AsyncSession (asyncpg or psycopg driver)"
)


def _instance_of(obj: object, module: str, *names: str) -> bool:
    loaded = sys.modules.get(module)
    if loaded is None:
        return False
    return any(isinstance(cls := getattr(loaded, name, None), type) and isinstance(obj, cls) for name in names)


def _is_sqlalchemy_connection(tx: object) -> bool:
    return _instance_of(tx, "sqlalchemy.engine", "Connection")


def _is_django(tx: object) -> bool:
    return _instance_of(tx, "django.db.backends.base.base", "BaseDatabaseWrapper") or _instance_of(
        tx, "django.utils.connection", "ConnectionProxy"
    )


def _is_async(tx: object) -> bool:
    return (
        isinstance(tx, AsyncTx)
        or _instance_of(tx, "sqlalchemy.ext.asyncio", "AsyncSession", "AsyncConnection")
        or _instance_of(tx, "asyncpg.connection", "Connection")
        or _instance_of(tx, "asyncpg.pool", "PoolConnectionProxy")
        or _instance_of(tx, "psycopg", "AsyncConnection", "AsyncCursor")
    )


def _require_postgres(name: str, what: str) -> None:
    if name != "postgresql":
        raise ConfigurationError(f"{what} is connected to {name}, not PostgreSQL: anclax tasks live in PostgreSQL")


def _unsupported(tx: object, *, asynchronous: bool) -> TypeError:
    kind = f"{type(tx).__module__}.{type(tx).__qualname__}"
    if asynchronous:
        hint = " (a blocking connection: use TaskRunner)" if fetch_kind(tx) is not None else ""
        return TypeError(f"cannot enqueue through a {kind}{hint}; AsyncTaskRunner takes {ASYNC_SUPPORTED}")
    hint = " (an asyncio connection: use AsyncTaskRunner)" if _is_async(tx) else ""
    return TypeError(f"cannot enqueue through a {kind}{hint}; TaskRunner takes {SYNC_SUPPORTED}")


def fetch_kind(tx: object) -> str | None:
    """Which blocking driver ``tx`` belongs to, or None."""
    if isinstance(tx, Tx):
        return "anclax"
    if _instance_of(tx, "sqlalchemy.orm", "Session") or _is_sqlalchemy_connection(tx):
        return "sqlalchemy"
    if _instance_of(tx, "psycopg", "Connection", "Cursor"):
        return "psycopg"
    if _is_django(tx):
        return "django"
    return None


def fetch_row(tx: object, statement: Statement) -> list[Any]:
    """Run ``statement`` through ``tx`` (a blocking driver); its one row."""
    kind = fetch_kind(tx)
    if kind == "anclax":
        return row_values(cast(Tx, tx).fetchrow(statement.sql, *statement.args))
    driver = cast(Any, tx)
    if kind == "sqlalchemy":
        connection = driver.connection() if not _is_sqlalchemy_connection(tx) else driver
        _require_postgres(connection.dialect.name, "this SQLAlchemy connection")
        sql = in_paramstyle(statement.sql, connection.dialect.paramstyle)
        return row_values(connection.exec_driver_sql(sql, statement.args).one())
    if kind == "psycopg":
        return row_values(driver.execute(in_paramstyle(statement.sql, "format"), statement.args).fetchone())
    if kind == "django":
        _require_postgres(driver.vendor, "this Django connection")
        with driver.cursor() as cursor:
            cursor.execute(in_paramstyle(statement.sql, "format"), statement.args)
            return row_values(cursor.fetchone())
    raise _unsupported(tx, asynchronous=False)


async def fetch_row_async(tx: object, statement: Statement) -> list[Any]:
    """Run ``statement`` through ``tx`` (an asyncio driver); its one row."""
    if isinstance(tx, AsyncTx):
        return row_values(await tx.fetchrow(statement.sql, *statement.args))
    driver = cast(Any, tx)
    if _instance_of(tx, "sqlalchemy.ext.asyncio", "AsyncSession"):
        driver = await driver.connection()
        tx = driver
    if _instance_of(tx, "sqlalchemy.ext.asyncio", "AsyncConnection"):
        _require_postgres(driver.dialect.name, "this SQLAlchemy connection")
        sql = in_paramstyle(statement.sql, driver.dialect.paramstyle)
        return row_values((await driver.exec_driver_sql(sql, statement.args)).one())
    if _instance_of(tx, "asyncpg.connection", "Connection") or _instance_of(tx, "asyncpg.pool", "PoolConnectionProxy"):
        return row_values(await driver.fetchrow(statement.sql, *statement.args))
    if _instance_of(tx, "psycopg", "AsyncConnection", "AsyncCursor"):
        cursor = await driver.execute(in_paramstyle(statement.sql, "format"), statement.args)
        return row_values(await cursor.fetchone())
    raise _unsupported(tx, asynchronous=True)
