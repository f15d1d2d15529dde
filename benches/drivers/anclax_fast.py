"""anclax-fast: this project, through its public API (Client, TaskRunnerBase, Worker).

The job is one task definition, ``Job {n: int}``, with a pydantic model as a generated package
would have; the executor runs on the worker's executor threads (a sync method: one call per job,
under the GIL, like every other Python handler here).
"""

from __future__ import annotations

import time

import psycopg
from pydantic import BaseModel

from anclax_fast import Client, Spec, TaskContext, TaskDef, Worker
from anclax_fast.runner import TaskRunnerBase
from benches.drivers.kit import Driver, Monitor, Payload, Schedule, Timer, WorkerControl, batches

# Executor threads per worker process for no-op drains: the claim batch is the number of free
# threads, so more threads mean fewer, larger claim statements (docs/tuning.md).
DRAIN_CONCURRENCY = 256
LATENCY_CONCURRENCY = 16


class JobParameters(BaseModel):
    n: int


JOB = TaskDef(name="Job")
SPEC = Spec(source="benches/drivers/anclax_fast.py", tasks=(JOB,), models={"Job": JobParameters})


class _Runner(TaskRunnerBase):
    def run_job(self, params: JobParameters) -> int:
        return self._enqueue(JOB, params)

    def run_job_many(self, params: list[JobParameters]) -> list[int]:
        return self._enqueue_many(JOB, params)


class _Executor:
    def __init__(self, ctl: WorkerControl) -> None:
        self._ctl = ctl
        self._sleep = ctl.options.sleep_s

    def execute_job(self, ctx: TaskContext, params: JobParameters) -> None:
        self._ctl.job_started(params.n)
        if self._sleep > 0:
            time.sleep(self._sleep)


class AnclaxFastDriver(Driver):
    package = "anclax-fast"
    extra_packages = ("pydantic",)
    settings = {  # noqa: RUF012
        "build": "the extension as `make bench` builds it (release profile: fat LTO, one codegen unit)",
        "claim": f"as many tasks as free executor threads per statement ({DRAIN_CONCURRENCY} threads per process "
        f"in drains, {LATENCY_CONCURRENCY} in steady state, 50 for sleeping jobs)",
        "completion": "batched by the engine (one statement per batch, on its own connection)",
        "bulk enqueue": "TaskRunner._enqueue_many (run_<task>_many): one INSERT ... SELECT FROM unnest per batch",
        "single enqueue": "TaskRunner._enqueue (run_<task>): one call of anclax.enqueue() per autocommit transaction",
        "wake-up": "LISTEN/NOTIFY, timers for delayed tasks, 1 s poll as a safety net",
        "retention": "off (the benchmark counts completed rows)",
    }
    docs = ("docs/tuning.md", "docs/architecture.md")

    def install(self, dsn: str) -> None:
        with Client(dsn) as client:
            client.migrate()

    def enqueue_single(self, dsn: str, payloads: list[Payload], timer: Timer) -> None:
        with Client(dsn) as client:
            runner = _Runner(client)
            params = [JobParameters(n=p["n"]) for p in payloads]
            client.counts_by_status()  # opens a pooled connection outside the timed section
            timer.start()
            for job in params:
                runner.run_job(job)
            timer.stop()

    def enqueue_bulk(self, dsn: str, payloads: list[Payload], batch_size: int, timer: Timer) -> None:
        with Client(dsn) as client:
            runner = _Runner(client)
            chunks = [[JobParameters(n=p["n"]) for p in chunk] for chunk in batches(payloads, batch_size)]
            client.counts_by_status()  # opens a pooled connection outside the timed section
            timer.start()
            for chunk in chunks:
                runner.run_job_many(chunk)
            timer.stop()

    def produce_paced(self, dsn: str, schedule: Schedule) -> list[float]:
        committed: list[float] = []
        with Client(dsn) as client:
            runner = _Runner(client)
            for payload in schedule:
                runner.run_job(JobParameters(n=payload["n"]))
                committed.append(time.time())
        return committed

    def work(self, dsn: str, ctl: WorkerControl) -> None:
        options = ctl.options
        if options.sleep_s > 0:
            concurrency = options.concurrency or 50
        elif options.record_times:
            concurrency = LATENCY_CONCURRENCY
        else:
            concurrency = DRAIN_CONCURRENCY
        with Client(dsn) as client:
            worker = Worker(
                client,
                _Executor(ctl),
                SPEC,
                concurrency=concurrency,
                retention_completed=None,
                retention_failed=None,
            )
            ctl.ready_and_wait_for_start()
            worker.start()
            ctl.wait_for_stop()
            worker.stop()

    def open_monitor(self, dsn: str) -> Monitor:
        return _Monitor(dsn)


class _Monitor(Monitor):
    def __init__(self, dsn: str) -> None:
        self._conn = psycopg.connect(dsn, autocommit=True)

    def finished(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM anclax.tasks WHERE status = 'completed'").fetchone()
        return int(row[0]) if row else 0

    def states(self) -> dict[str, int]:
        rows = self._conn.execute("SELECT status, count(*) FROM anclax.tasks GROUP BY status").fetchall()
        states = {str(status): int(count) for status, count in rows}
        again = self._conn.execute("SELECT count(*) FROM anclax.tasks WHERE attempts > 1").fetchone()
        if again and again[0]:
            states["ran more than once"] = int(again[0])  # not a state: makes the check fail loudly
        return states

    def close(self) -> None:
        self._conn.close()


DRIVER = AnclaxFastDriver()
