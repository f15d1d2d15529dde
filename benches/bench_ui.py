"""Server time of every dashboard page on a large task table, and the plan of every statement.

Seeds ``--rows`` tasks (``benches/ui_dataset.py``; 5,000,000 by default, about 4 minutes), then
requests each page ``--repeat`` times through the ASGI app in process (no network: the time is
the server's, from request to the last byte: queries, Python, template) and reports the median,
95th percentile and maximum. Then it runs ``EXPLAIN (ANALYZE, BUFFERS)`` on every statement each
page issued and reports its time, the buffers it touched and whether it scanned a table
sequentially. The target is under 150 ms per page.

    .venv/bin/python -m benches.bench_ui                     # 5M rows, shape "spread"
    .venv/bin/python -m benches.bench_ui --shape burst       # 5M finished within the last hour
    .venv/bin/python -m benches.bench_ui --rows 200000 --repeat 5

Speed is measured here, never asserted in a test; results go to benches/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from anclax_fast import Client
from anclax_fast._core import Tx
from anclax_fast.testing import BENCH_SETTINGS, EmbeddedPostgres
from anclax_fast.ui import create_app
from anclax_fast.ui.db import Database
from benches.ui_dataset import Dataset, seed

TARGET_MS = 150.0


@dataclass
class Statement:
    sql: str
    args: tuple[Any, ...]


@dataclass
class Recorder:
    """Wraps the transactions pages read through, to list the statements each page issues."""

    statements: list[Statement] = field(default_factory=list)
    active: bool = False


class RecordingTx:
    def __init__(self, tx: Tx, recorder: Recorder) -> None:
        self._tx = tx
        self._recorder = recorder

    def _note(self, sql: str, args: tuple[Any, ...]) -> None:
        if self._recorder.active:
            self._recorder.statements.append(Statement(sql, args))

    def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        self._note(sql, args)
        return self._tx.fetch(sql, *args)

    def fetchrow(self, sql: str, *args: Any) -> dict[str, Any] | None:
        self._note(sql, args)
        return self._tx.fetchrow(sql, *args)

    def fetchval(self, sql: str, *args: Any) -> Any:
        self._note(sql, args)
        return self._tx.fetchval(sql, *args)

    def execute(self, sql: str, *args: Any) -> int:
        return self._tx.execute(sql, *args)


def record_reads(recorder: Recorder) -> None:
    original = Database._read  # pyright: ignore[reportPrivateUsage] - the bench observes the pages' reads

    def _read(self: Database, load: Callable[[Tx], Any]) -> Any:
        return original(self, lambda tx: load(RecordingTx(tx, recorder)))  # type: ignore[arg-type]

    Database._read = _read  # type: ignore[method-assign]


def pages(client: Client) -> list[tuple[str, str]]:
    """(label, path) of every page worth timing, with ids taken from the data."""
    with client.transaction() as tx:
        failed = tx.fetchval("SELECT max(id) FROM anclax.tasks WHERE status = 'failed' AND schedule_id IS NULL")
        completed = tx.fetchval("SELECT max(id) FROM anclax.tasks WHERE status = 'completed' AND parent_id IS NOT NULL")
        parent = tx.fetchval("SELECT parent_id FROM anclax.tasks WHERE id = $1", completed)
        tag = tx.fetchval("SELECT unique_tag FROM anclax.tasks WHERE unique_tag IS NOT NULL ORDER BY id DESC LIMIT 1")
        middle = tx.fetchval("SELECT (min(id) + max(id)) / 2 FROM anclax.tasks")
    return [
        ("overview", "/"),
        ("tasks", "/tasks"),
        ("tasks, page further back", f"/tasks?cursor={middle}"),
        ("tasks: pending", "/tasks?status=pending"),
        ("tasks: running", "/tasks?status=running"),
        ("tasks: retrying", "/tasks?status=retrying"),
        ("tasks: completed", "/tasks?status=completed"),
        ("tasks: failed", "/tasks?status=failed"),
        ("tasks: cancelled", "/tasks?status=cancelled"),
        ("tasks: failed, name, last 1h", "/tasks?status=failed&name=Task03&since=1h"),
        ("tasks: a busy name", "/tasks?name=Task00"),
        ("tasks: a rare name (budget)", "/tasks?name=Task19"),
        ("tasks: label", "/tasks?label=eu"),
        ("tasks: error text", "/tasks?error=deadlock"),
        ("tasks: error text, failed", "/tasks?status=failed&error=deadlock"),
        ("tasks: unique tag", f"/tasks?unique_tag={tag}"),
        ("tasks: created in a range", "/tasks?since=3h&until=2h"),
        ("task: failed, with events", f"/tasks/{failed}"),
        ("task: parent with a child", f"/tasks/{parent}"),
        ("failures: 1h", "/failures?window=1h"),
        ("failures: 24h", "/failures?window=24h"),
        ("failures: 7d", "/failures?window=7d"),
        ("schedules", "/schedules"),
        ("workers", "/workers"),
    ]


def explain(client: Client, statement: Statement) -> dict[str, Any]:
    if statement.sql.lstrip().upper().startswith("EXPLAIN"):
        # A row estimate the page asks the planner for: it reads no rows.
        return {"ms": 0.0, "buffers": 0, "seq_scans": [], "nodes": ["planner estimate"]}
    with client.transaction() as tx:
        tx.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        plan = tx.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement.sql}", *statement.args)
    root = (json.loads(plan) if isinstance(plan, str) else plan)[0]
    nodes: list[str] = []
    seq_scans: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        kind = node["Node Type"]
        relation = node.get("Relation Name")
        index = node.get("Index Name")
        nodes.append(f"{kind}{' on ' + relation if relation else ''}{' using ' + index if index else ''}")
        if kind == "Seq Scan" and relation in ("tasks", "events"):
            seq_scans.append(relation)
        for child in node.get("Plans", []):
            walk(child)

    walk(root["Plan"])
    buffers = root["Plan"].get("Shared Hit Blocks", 0) + root["Plan"].get("Shared Read Blocks", 0)
    return {
        "ms": root["Execution Time"] + root["Planning Time"],
        "buffers": buffers,
        "seq_scans": seq_scans,
        "nodes": [n for n in nodes if "Scan" in n],
    }


async def time_pages(app: Any, targets: list[tuple[str, str]], repeat: int, recorder: Recorder) -> dict[str, Any]:
    results: dict[str, Any] = {}
    transport = httpx2.ASGITransport(app=app)
    http = httpx2.AsyncClient(transport=transport, base_url="http://bench")
    async with http:
        for label, path in targets:
            await http.get(path)  # warm: first plans, template compilation
            recorder.statements.clear()
            recorder.active = True
            response = await http.get(path)
            recorder.active = False
            statements = list(recorder.statements)
            if response.status_code != 200:
                raise RuntimeError(f"{path}: HTTP {response.status_code}: {response.text[:500]}")
            times: list[float] = []
            for _ in range(repeat):
                start = time.perf_counter()
                response = await http.get(path)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            results[label] = {
                "path": path,
                "median_ms": statistics.median(times),
                "p95_ms": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
                "max_ms": times[-1],
                "bytes": len(response.content),
                "statements": statements,
            }
            print(f"{label:34} {results[label]['median_ms']:8.1f} ms median", flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--shape", choices=("spread", "burst"), default="spread")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--out", default="benches/out")
    parser.add_argument(
        "--dsn", help="an existing database: seeded when its anclax.tasks is empty, used as it is otherwise"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    recorder = Recorder()
    record_reads(recorder)
    with contextlib.ExitStack() as stack:
        dsn = args.dsn or stack.enter_context(EmbeddedPostgres(settings=BENCH_SETTINGS)).dsn
        client = stack.enter_context(Client(dsn))
        client.migrate()
        with client.transaction() as tx:
            empty = tx.fetchval("SELECT NOT EXISTS (SELECT 1 FROM anclax.tasks)")
        data: Dataset | None = None
        if empty:
            started = time.monotonic()
            data = seed(client, args.rows, args.shape, progress=True)
            print(f"seeded {args.rows:,} tasks ({args.shape}) in {time.monotonic() - started:.0f}s", flush=True)
        app = create_app(client, allow_actions=False)
        results = asyncio.run(time_pages(app, pages(client), args.repeat, recorder))
        for result in results.values():
            result["plans"] = [explain(client, s) for s in result.pop("statements")]
        with client.transaction() as tx:
            size = tx.fetchval("SELECT pg_size_pretty(pg_total_relation_size('anclax.tasks'))")
            server = tx.fetchval("SHOW server_version")
    report = {
        "rows": args.rows,
        "shape": args.shape,
        "dataset": data.__dict__ if data is not None else "existing database",
        "table_size": size,
        "postgres": server,
        "settings": dict(BENCH_SETTINGS),
        "nproc": os.cpu_count(),
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "repeat": args.repeat,
        "pages": results,
    }
    os.makedirs(args.out, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = os.path.join(args.out, f"ui-pages-{args.shape}-{args.rows}-{stamp}.json")
    with open(path, "w", encoding="utf-8") as sink:
        json.dump(report, sink, indent=2, default=str)
    print(
        f"\n{args.rows:,} rows ({args.shape}, table {size}), PostgreSQL {server}, {os.cpu_count()} cores, "
        f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after"
    )
    print(f"{'page':34} {'median':>8} {'p95':>8} {'max':>8}  statements (ms, buffers; seq scans)")
    for label, r in results.items():
        flag = "" if r["p95_ms"] < TARGET_MS else "  OVER TARGET"
        plans = ", ".join(
            f"{p['ms']:.1f}/{p['buffers']}{'/SEQ ' + '+'.join(p['seq_scans']) if p['seq_scans'] else ''}"
            for p in r["plans"]
        )
        print(f"{label:34} {r['median_ms']:8.1f} {r['p95_ms']:8.1f} {r['max_ms']:8.1f}  {plans}{flag}")
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
