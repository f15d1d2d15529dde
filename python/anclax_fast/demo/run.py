"""``anclax-fast demo``: the product end to end, on an embedded PostgreSQL unless a DSN is given.

1. start PostgreSQL (or use ``--dsn`` / ``ANCLAX_DSN``) and migrate the schema;
2. generate the typed package from the tutorial's spec, as a user would;
3. start a worker fleet (``anclax-fast worker --processes N``) running :class:`DemoExecutor`;
4. enqueue a realistic mix for a while: bursts of fast tasks, emails that fail once and are
   retried, orders that fail for good (their hook writes an audit row in the failing
   transaction), delayed notifications, GPU-labelled image jobs, a cron heartbeat every 5 s;
5. show live progress, then stop the fleet gracefully and print a summary.

With the ``ui`` extra installed, the dashboard runs alongside (actions allowed on the throwaway
database, read-only on one given by DSN) and its address is printed first; on a terminal it
stays up after the summary until Enter or Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Generator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from anclax_fast import Client, RetryPolicy
from anclax_fast.codegen import load_spec, render_package, write_package
from anclax_fast.demo.app import AUDIT_TABLE
from anclax_fast.demo.taskgen import (
    PingParameters,
    ProcessOrderParameters,
    ResizeImageParameters,
    SendEmailParameters,
    SendNotificationParameters,
    TaskRunner,
)
from anclax_fast.testing import EmbeddedPostgres

__all__ = ["DemoOptions", "run_demo"]

SPEC_FILE = Path(__file__).with_name("tasks.yaml")
APP = "anclax_fast.demo.app:DemoExecutor"
SPEC_OBJECT = "anclax_fast.demo.taskgen:SPEC"
TICK_S = 0.1


@dataclass
class DemoOptions:
    dsn: str | None = None
    duration: float = 20.0
    processes: int = 2
    concurrency: int = 16
    pings_per_second: int = 2000
    seed: int = 7
    ui_port: int | None = 8080
    """The dashboard's port (another one if it is taken); None: no dashboard."""
    out: TextIO = field(default_factory=lambda: sys.stdout)


@dataclass
class Snapshot:
    at: float
    counts: dict[str, int]
    errors: int
    audits: int
    heartbeats: int

    @property
    def finished(self) -> int:
        return self.counts["completed"] + self.counts["failed"] + self.counts["cancelled"]


class Progress:
    """Live lines on a terminal (redrawn in place), plain lines every 2 s otherwise."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self._last_plain = 0.0
        self._previous: Snapshot | None = None

    def show(self, snapshot: Snapshot, enqueued: int) -> None:
        rate = 0.0
        if self._previous is not None and snapshot.at > self._previous.at:
            rate = (snapshot.finished - self._previous.finished) / (snapshot.at - self._previous.at)
        self._previous = snapshot
        c = snapshot.counts
        line = (
            f"enqueued {enqueued:>7}  done {snapshot.finished:>7}  ({rate:>7.0f}/s)  "
            f"pending {c['pending']:>6}  running {c['running']:>4}  retried {snapshot.errors:>4}  "
            f"failed {c['failed']:>4} (audited {snapshot.audits})  cron fires {snapshot.heartbeats}"
        )
        if self.tty:
            self.out.write("\r\033[K" + line)
            self.out.flush()
        elif snapshot.at - self._last_plain >= 2.0:
            self._last_plain = snapshot.at
            self.out.write(line + "\n")
            self.out.flush()

    def end(self) -> None:
        if self.tty:
            self.out.write("\n")


def _say(out: TextIO, message: str) -> None:
    out.write(f"\033[1m==>\033[0m {message}\n" if out.isatty() else f"==> {message}\n")
    out.flush()


def _snapshot(client: Client) -> Snapshot:
    with client.transaction() as tx:
        counts: dict[str, int] = dict.fromkeys(("pending", "running", "completed", "failed", "cancelled"), 0)
        for row in tx.fetch("SELECT status, count(*) AS n FROM anclax.tasks GROUP BY status"):
            counts[row["status"]] = row["n"]
        errors = int(tx.fetchval("SELECT count(*) FROM anclax.events WHERE kind = 'TaskError'"))
        audits = int(tx.fetchval(f"SELECT count(*) FROM {AUDIT_TABLE}"))
        heartbeats = int(
            tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE name = 'Heartbeat' AND status = 'completed'")
        )
    return Snapshot(time.monotonic(), counts, errors, audits, heartbeats)


@contextmanager
def _dashboard(client: Client, options: DemoOptions, *, throwaway: bool) -> Generator[str | None]:
    """The dashboard on a thread, when the ``ui`` extra is installed; yields its URL."""
    if options.ui_port is None:
        yield None
        return
    try:
        from anclax_fast.ui import create_app  # noqa: PLC0415 - only with the extra
        from anclax_fast.ui.server import in_thread  # noqa: PLC0415
    except ImportError:
        _say(options.out, "no dashboard: install it with pip install 'anclax-fast[ui]' to watch the demo in a browser")
        yield None
        return
    # Redrive, cancel and delete are safe to try on the throwaway database, not on yours.
    app = create_app(client, allow_actions=throwaway, title="anclax-fast demo")
    with in_thread(app, port=options.ui_port) as url:
        _say(options.out, f"dashboard: {url} (open it now: it updates live)")
        yield url


def _linger(dashboard: str | None, out: TextIO) -> None:
    """On a terminal, keep the dashboard up after the summary, for a look at the whole run."""
    if dashboard is not None and sys.stdin.isatty():
        _say(out, f"the dashboard stays up at {dashboard}: press Enter (or Ctrl-C) to stop")
        with contextlib.suppress(KeyboardInterrupt, EOFError):
            input()


def _generate_package(out: TextIO) -> None:
    loaded = load_spec(SPEC_FILE, source="api/tasks.yaml")
    files = render_package(loaded.ir, out="taskgen")
    target = Path(tempfile.mkdtemp(prefix="anclax-demo-")) / "taskgen"
    write_package(target, files)
    _say(
        out,
        f"generated a typed package from the tutorial's spec: {len(files)} files, "
        f"{len(loaded.ir.tasks)} tasks in {target}",
    )


class Producer:
    """Enqueues the demo's mix; a seeded RNG makes runs comparable."""

    def __init__(self, client: Client, seed: int, pings_per_second: int) -> None:
        self.runner = TaskRunner(client)
        self.rng = random.Random(seed)
        self.pings_per_tick = max(1, int(pings_per_second * TICK_S))
        self.enqueued = 0
        self.order = 0

    def tick(self) -> None:
        runner, rng = self.runner, self.rng
        self.enqueued += len(runner.run_ping_many([PingParameters(message="pong")] * self.pings_per_tick))
        for _ in range(rng.randint(1, 4)):
            template = "flaky" if rng.random() < 0.3 else "welcome"
            runner.run_send_email(
                SendEmailParameters(user_id=rng.randint(1, 10_000), template_id=template),
                # Override the spec's 5-minute interval so the demo shows retries happening.
                retry_policy=RetryPolicy("1s", 3),
            )
            self.enqueued += 1
        self.order += 1
        runner.run_process_order(ProcessOrderParameters(order_id=self.order))
        self.enqueued += 1
        if rng.random() < 0.3:
            runner.run_send_notification(
                SendNotificationParameters(user_id=rng.randint(1, 100), message="your order shipped", priority="high"),
                delay="3s",
            )
            self.enqueued += 1
        if rng.random() < 0.2:
            runner.run_resize_image(ResizeImageParameters(image_id=uuid.uuid4(), width=rng.choice([320, 640, 1280])))
            self.enqueued += 1


def _start_fleet(dsn: str, options: DemoOptions, log: Path) -> subprocess.Popen[bytes]:
    argv = [
        sys.executable, "-m", "anclax_fast", "worker", APP,
        "--spec", SPEC_OBJECT,
        "--processes", str(options.processes),
        "--concurrency", str(options.concurrency),
        "--labels", "gpu",
        "--lease-ttl", "10",
        "--shutdown-grace", "5",
        "--log-level", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, "ANCLAX_DSN": dsn}
    with log.open("ab") as sink:
        return subprocess.Popen(argv, env=env, stdout=sink, stderr=sink)


def _stop_fleet(fleet: subprocess.Popen[bytes]) -> int:
    if fleet.poll() is None:
        fleet.send_signal(signal.SIGTERM)
    try:
        return fleet.wait(timeout=30)
    except subprocess.TimeoutExpired:
        fleet.kill()
        return fleet.wait()


def _wait_for_workers(client: Client, fleet: subprocess.Popen[bytes], count: int, timeout: float) -> bool:
    """Until ``count`` workers have registered (so that latencies measure the queue, not start-up)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and fleet.poll() is None:
        with client.transaction() as tx:
            if int(tx.fetchval("SELECT count(*) FROM anclax.workers WHERE expires_at > now()")) >= count:
                return True
        time.sleep(0.1)
    return False


def _wait_for_drain(client: Client, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with client.transaction() as tx:
            busy = tx.fetchval(
                "SELECT count(*) FROM anclax.tasks WHERE status = 'running' "
                "OR (status = 'pending' AND run_at <= now() + interval '3 seconds' AND schedule_id IS NULL)"
            )
        if busy == 0:
            return
        time.sleep(0.2)


def _summary(client: Client, out: TextIO, enqueued: int, elapsed: float) -> bool:
    snap = _snapshot(client)
    with client.transaction() as tx:
        latency = tx.fetchrow(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) AS p50, "
            "percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM started_at - created_at)) AS p99 "
            "FROM anclax.tasks WHERE name = 'Ping' AND status = 'completed'"
        )
        fatal_orders = int(
            tx.fetchval("SELECT count(*) FROM anclax.tasks WHERE name = 'ProcessOrder' AND status = 'failed'")
        )
        retried_emails = int(
            tx.fetchval(
                "SELECT count(*) FROM anclax.tasks WHERE name = 'SendEmail' AND status = 'completed' AND attempts > 1"
            )
        )
    c = snap.counts
    _say(out, "summary")
    lines = [
        f"enqueued          {enqueued} tasks in {elapsed:.1f}s",
        f"completed         {c['completed']} ({c['completed'] / elapsed:.0f}/s over the run)",
        f"retried           {retried_emails} emails succeeded on a later attempt "
        f"({snap.errors} failed attempts recorded)",
        f"failed for good   {c['failed']} ({fatal_orders} unshippable orders); "
        f"{snap.audits} audit rows written by failure hooks inside the failing transactions",
        f"cron              {snap.heartbeats} heartbeat fires (every 5 s, from the spec alone)",
        f"still pending     {c['pending']} (delayed or future cron fires)",
    ]
    if latency is not None and latency["p50"] is not None:
        lines.append(
            f"latency           enqueue -> start p50 {latency['p50'] * 1000:.1f} ms, p99 {latency['p99'] * 1000:.1f} ms"
        )
    for line in lines:
        out.write(f"    {line}\n")
    consistent = snap.audits == c["failed"] and c["running"] == 0
    if not consistent:
        out.write("    WARNING: failures and audit rows do not match, or tasks are still running\n")
    out.flush()
    return consistent


def run_demo(options: DemoOptions) -> int:
    out = options.out
    with ExitStack() as stack:
        dsn = options.dsn or os.environ.get("ANCLAX_DSN")
        given_dsn = bool(dsn)
        if dsn:
            _say(out, "using the database from --dsn / ANCLAX_DSN")
        else:
            _say(out, "no ANCLAX_DSN: starting a throwaway PostgreSQL (removed on exit)")
            pg = stack.enter_context(EmbeddedPostgres(quiet=True))
            dsn = pg.dsn
        client = stack.enter_context(Client(dsn))
        applied = client.migrate()
        _say(out, f"schema ready{' (migrated)' if applied else ''} at {client.dsn}")
        dashboard = stack.enter_context(_dashboard(client, options, throwaway=not given_dsn))
        with client.transaction() as tx:
            tx.execute(
                f"CREATE TABLE IF NOT EXISTS {AUDIT_TABLE} (task_id bigint, reason text, at timestamptz DEFAULT now())"
            )
        _generate_package(out)
        log = Path(tempfile.mkdtemp(prefix="anclax-demo-")) / "workers.log"
        _say(out, f"starting {options.processes} worker processes x {options.concurrency} threads (log: {log})")
        fleet = _start_fleet(dsn, options, log)
        stack.callback(_stop_fleet, fleet)
        if not _wait_for_workers(client, fleet, options.processes, timeout=60):
            out.write(f"the worker fleet did not start; its log:\n{log.read_text()[-3000:]}\n")
            return 1
        producer = Producer(client, options.seed, options.pings_per_second)
        progress = Progress(out)
        _say(out, f"enqueueing a mix of tasks for {options.duration:g}s (Ctrl-C to stop early)")
        started = time.monotonic()
        try:
            while time.monotonic() - started < options.duration:
                if fleet.poll() is not None:
                    out.write(
                        f"\nthe worker fleet exited with {fleet.returncode}; its log:\n{log.read_text()[-3000:]}\n"
                    )
                    return 1
                tick_end = time.monotonic() + TICK_S
                producer.tick()
                progress.show(_snapshot(client), producer.enqueued)
                time.sleep(max(0.0, tick_end - time.monotonic()))
        except KeyboardInterrupt:
            out.write("\ninterrupted: finishing up\n")
        progress.end()
        _say(out, "waiting for the queue to drain")
        _wait_for_drain(client, timeout=20)
        progress.show(_snapshot(client), producer.enqueued)
        progress.end()
        _say(out, "stopping the fleet gracefully (SIGTERM)")
        code = _stop_fleet(fleet)
        if code != 0:
            out.write(f"the fleet exited with {code}; its log:\n{log.read_text()[-3000:]}\n")
            return 1
        consistent = _summary(client, out, producer.enqueued, time.monotonic() - started)
        _linger(dashboard, out)
        return 0 if consistent else 1
