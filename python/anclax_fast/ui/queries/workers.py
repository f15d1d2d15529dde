"""The Workers page: every registered worker with what it serves, how busy it is and how fresh
its heartbeat, and the tasks it runs (``tasks_running_idx``; at most :data:`RUNNING_SHOWN` each)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from anclax_fast._core import Tx

__all__ = ["RUNNING_SHOWN", "Running", "WorkerRow", "load"]

RUNNING_SHOWN = 5

_WORKERS = """
SELECT id, hostname, pid, labels, task_names, concurrency, async_concurrency, in_flight, version, started_at,
       heartbeat_at, expires_at, now() - heartbeat_at AS heartbeat_age, expires_at > now() AS alive
FROM anclax.workers ORDER BY hostname, pid, id
"""
_RUNNING = f"""
SELECT worker_id, id, name, attempts, started_at, deadline_at, cancel_requested, running
FROM (
    SELECT worker_id, id, name, attempts, started_at, deadline_at, cancel_requested,
           count(*) OVER (PARTITION BY worker_id) AS running,
           row_number() OVER (PARTITION BY worker_id ORDER BY started_at, id) AS n
    FROM anclax.tasks WHERE status = 'running' AND worker_id IS NOT NULL
) AS r
WHERE n <= {RUNNING_SHOWN}
ORDER BY worker_id, n
"""


@dataclass(frozen=True)
class Running:
    id: int
    name: str
    attempts: int
    started_at: datetime | None
    deadline_at: datetime | None
    cancel_requested: bool


@dataclass
class WorkerRow:
    id: int
    hostname: str
    pid: int
    labels: list[str]
    task_names: list[str] | None
    concurrency: int
    async_concurrency: int
    in_flight: int
    version: str
    started_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    heartbeat_age: timedelta
    alive: bool
    running: list[Running] = field(default_factory=list)
    running_total: int = 0


def load(tx: Tx) -> list[WorkerRow]:
    workers = {int(row["id"]): WorkerRow(**row) for row in tx.fetch(_WORKERS)}
    for row in tx.fetch(_RUNNING):
        worker = workers.get(int(row.pop("worker_id")))
        total = int(row.pop("running"))
        if worker is not None:
            worker.running.append(Running(**row))
            worker.running_total = total
    return list(workers.values())
