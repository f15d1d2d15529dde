"""How the dashboard talks to the database: through the application's own ``Client`` (its Rust
pool), from worker threads so the event loop never waits on Postgres.

Pages read in read-only transactions, with a statement timeout (a page must not hold a
connection for long) and custom plans (the client caches prepared statements; a generic plan
cannot see which partial index a literal status selects or how selective a parameter is).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import anyio
import anyio.to_thread

from anclax_fast._core import Tx
from anclax_fast.client import Client

__all__ = ["PAGE_STATEMENT_TIMEOUT", "Capabilities", "Database"]

T = TypeVar("T")

PAGE_STATEMENT_TIMEOUT = "10s"

_PROBE = """
SELECT current_database() AS database, current_user AS role, pg_is_in_recovery() AS replica,
       current_setting('default_transaction_read_only') = 'on' AS read_only_sessions,
       array_remove(ARRAY[
           CASE WHEN NOT has_table_privilege('anclax.tasks', 'UPDATE') THEN 'UPDATE on anclax.tasks' END,
           CASE WHEN NOT has_table_privilege('anclax.tasks', 'INSERT') THEN 'INSERT on anclax.tasks' END,
           CASE WHEN NOT has_table_privilege('anclax.tasks', 'DELETE') THEN 'DELETE on anclax.tasks' END,
           CASE WHEN NOT has_table_privilege('anclax.events', 'INSERT') THEN 'INSERT on anclax.events' END,
           CASE WHEN NOT has_table_privilege('anclax.events', 'DELETE') THEN 'DELETE on anclax.events' END,
           CASE WHEN NOT has_function_privilege('anclax.retry(bigint[], text)', 'EXECUTE')
                THEN 'EXECUTE on anclax.retry' END,
           CASE WHEN NOT has_function_privilege('anclax.cancel(bigint)', 'EXECUTE')
                THEN 'EXECUTE on anclax.cancel' END,
           CASE WHEN NOT has_function_privilege('anclax.delete_tasks(bigint[])', 'EXECUTE')
                THEN 'EXECUTE on anclax.delete_tasks' END,
           CASE WHEN NOT has_function_privilege('anclax.trigger_schedule(bigint)', 'EXECUTE')
                THEN 'EXECUTE on anclax.trigger_schedule' END
       ], NULL) AS missing
"""


@dataclass(frozen=True)
class Capabilities:
    """Whether the dashboard may act on tasks, and if not, why (shown on every page)."""

    database: str
    role: str
    actions: bool
    reason: str | None


class Database:
    def __init__(self, client: Client, *, concurrency: int = 4) -> None:
        self.client = client
        # Below the client's pool size: the application using the same Client keeps connections.
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def read(self, load: Callable[[Tx], T]) -> T:
        """Run ``load`` in a read-only transaction on a worker thread."""
        return await anyio.to_thread.run_sync(self._read, load, limiter=self._limiter)

    def _read(self, load: Callable[[Tx], T]) -> T:
        with self.client.transaction() as tx:
            tx.execute("SET TRANSACTION READ ONLY")
            tx.fetchval(
                "SELECT set_config('statement_timeout', $1, true), "
                "set_config('plan_cache_mode', 'force_custom_plan', true)",
                PAGE_STATEMENT_TIMEOUT,
            )
            return load(tx)

    async def run(self, work: Callable[[], T]) -> T:
        """Run ``work`` (which opens its own transactions: the bulk operations) on a worker thread."""
        return await anyio.to_thread.run_sync(work, limiter=self._limiter)

    async def capabilities(self, allow_actions: bool) -> Capabilities:
        row = await self.read(lambda tx: tx.fetchrow(_PROBE))
        assert row is not None
        database, role = str(row["database"]), str(row["role"])
        reason: str | None = None
        if not allow_actions:
            reason = "read-only: the dashboard was started without --allow-actions (allow_actions=True)"
        elif row["replica"]:
            reason = f"read-only: database {database!r} is a read-only replica (hot standby)"
        elif row["read_only_sessions"]:
            reason = f"read-only: role {role!r} has default_transaction_read_only = on"
        elif row["missing"]:
            reason = f"read-only: role {role!r} lacks {', '.join(row['missing'])}"
        return Capabilities(database, role, reason is None, reason)
