"""A task table shaped like a busy production queue, for the dashboard's page-time bench and its
query-plan test: generated in SQL (``generate_series``), deterministic for a given size.

Shape ``spread`` (the default retention: completed kept 24 h, failed 7 d), for ``rows`` tasks:

- the oldest 2.5 %: failed (85 %) and cancelled tasks of the past 7 days, with sparse ids (the
  completed tasks between them were pruned);
- then, over the last 24 h, in id order: completed (97.5 %), failed (2 %), cancelled (0.5 %);
  so the last hour holds about 4 % of the table (≈ 200,000 of 5,000,000);
- the newest 2 %: pending (80 % due now, 10 % delayed by an hour, 10 % waiting for a retry after
  an error) and 2,000 running on 20 workers.

Shape ``burst`` puts the 24 h of the recent part into the last hour (the worst case for the
overview's last hour: far more finished tasks than its cap).

Twenty task names (a few busy, most rare), labels on 13 %, unique tags on 2 %, parents on 1 %,
error messages from a dozen kinds with varying numbers in them, events for every failed
attempt (with tracebacks), and 30 cron schedules with 100 past fires each.
"""

from __future__ import annotations

from dataclasses import dataclass

from anclax_fast import Client

__all__ = ["Dataset", "seed"]

CHUNK = 250_000

_NAME = "'Task' || lpad((floor(20 * power(((i::bigint * 2654435761) % 1000003) / 1000003.0, 3)))::int::text, 2, '0')"
_ERRORS = """(ARRAY[
    'ConnectionError: upstream 503 from shard ',
    'TimeoutError: no answer after 30s from payments-api, request ',
    'ValueError: order ',
    'KeyError: ''customer_',
    'PermissionError: token expired for tenant ',
    'RuntimeError: deadlock detected on row ',
    'FatalTaskError: invoice ',
    'OSError: [Errno 28] No space left on device: /tmp/export-',
    'IntegrityError: duplicate key value violates unique constraint "users_email_key" for user ',
    'HTTPError: 429 Too Many Requests, retry after ',
    'json.decoder.JSONDecodeError: Expecting value: line 1 column ',
    'LookupError: no template named welcome_v'
])[1 + (i % 12)] || (i % 997)::text"""
_TRACEBACK = """'Traceback (most recent call last):' || E'\\n' ||
    '  File "/app/myapp/tasks.py", line ' || (40 + i % 60) || ', in execute' || E'\\n' ||
    '    result = client.post(url, json=payload, timeout=30)' || E'\\n' ||
    '  File "/app/.venv/lib/python3.12/site-packages/httpx/_client.py", line 1145, in post' || E'\\n' ||
    '    return self.request("POST", url, json=json)' || E'\\n' || """


@dataclass(frozen=True)
class Dataset:
    rows: int
    shape: str
    old: int
    recent: int
    pending: int
    running: int


def _sizes(rows: int, shape: str) -> Dataset:
    if shape not in ("spread", "burst"):
        raise ValueError(f"shape must be spread or burst, got {shape!r}")
    old = rows * 25 // 1000
    pending = rows * 2 // 100
    running = min(2000, max(20, rows // 2500))
    return Dataset(rows, shape, old, rows - old - pending - running, pending, running)


def seed(client: Client, rows: int, shape: str = "spread", *, progress: bool = False) -> Dataset:
    """Fill an empty, migrated anclax schema; ends with VACUUM ANALYZE (as autovacuum would have)."""
    data = _sizes(rows, shape)
    span = "interval '1 hour'" if shape == "burst" else "interval '24 hours'"
    with client.transaction() as tx:
        tx.execute("SELECT setseed(0.42)")
        tx.execute(
            "INSERT INTO anclax.workers (hostname, pid, labels, concurrency, version, expires_at, task_names, "
            "in_flight, async_concurrency) "
            "SELECT 'worker-' || w || '.prod', 1000 + w, CASE WHEN w % 4 = 0 THEN ARRAY['gpu'] ELSE '{}' END, 100, "
            "'0.1.0', now() + interval '30 seconds', CASE WHEN w % 5 = 0 THEN ARRAY['Task00', 'Task01'] END, "
            "100, 0 FROM generate_series(1, 20) AS w"
        )
    first_worker = _fetch_int(client, "SELECT min(id) FROM anclax.workers")
    # Old failures and cancels, ids spaced 40 apart.
    _chunks(
        client,
        data.old,
        f"""
        INSERT INTO anclax.tasks (id, name, payload, status, attempts, max_attempts, run_at, created_at, started_at,
                                  finished_at, last_error, labels)
        SELECT i * 40, {_NAME}, jsonb_build_object('n', i, 'email', 'user' || i || '@example.com'),
               CASE WHEN i % 7 = 0 THEN 'cancelled' ELSE 'failed' END, 1 + i % 3, 3,
               now() - interval '7 days' + (i::float8 / $3) * interval '6 days',
               now() - interval '7 days' + (i::float8 / $3) * interval '6 days',
               now() - interval '7 days' + (i::float8 / $3) * interval '6 days' + interval '10 ms',
               now() - interval '7 days' + (i::float8 / $3) * interval '6 days' + interval '900 ms',
               CASE WHEN i % 7 <> 0 THEN {_ERRORS} END,
               CASE WHEN i % 8 = 0 THEN ARRAY['gpu'] ELSE '{{}}' END
        FROM generate_series($1::int, $2::int) AS i
        """,
        progress,
    )
    base = data.old * 40 + 1
    _chunks(
        client,
        data.recent,
        f"""
        INSERT INTO anclax.tasks (id, name, payload, status, attempts, max_attempts, run_at, created_at, started_at,
                                  finished_at, last_error, labels, unique_tag, parent_id, worker_id)
        SELECT {base} + i, {_NAME}, jsonb_build_object('n', i, 'email', 'user' || i || '@example.com', 'items', i % 9),
               s.status, CASE WHEN s.status = 'failed' THEN 1 + i % 3 ELSE 1 END, 3,
               t.at, t.at, t.at + (i % 40) * interval '1 ms', t.at + (40 + i % 900) * interval '1 ms',
               CASE WHEN s.status = 'failed' THEN {_ERRORS} END,
               CASE WHEN i % 8 = 0 THEN ARRAY['gpu'] WHEN i % 33 = 0 THEN ARRAY['eu', 'gpu'] ELSE '{{}}' END,
               CASE WHEN i % 50 = 0 THEN 'order-' || i END,
               CASE WHEN i % 100 = 1 AND i > 1 THEN {base} + i - 1 END,
               CASE WHEN s.status <> 'cancelled' THEN {first_worker} + i % 20 END
        FROM generate_series($1::int, $2::int) AS i
        CROSS JOIN LATERAL (SELECT CASE WHEN (i::bigint * 7919) % 1000 < 20 THEN 'failed'
                                        WHEN (i::bigint * 7919) % 1000 < 25 THEN 'cancelled'
                                        ELSE 'completed' END AS status) AS s
        CROSS JOIN LATERAL (SELECT now() - {span} + (i::float8 / $3) * {span} - interval '2 seconds' AS at) AS t
        """,
        progress,
    )
    base += data.recent + 1
    _chunks(
        client,
        data.pending,
        f"""
        INSERT INTO anclax.tasks (id, name, payload, status, attempts, max_attempts, run_at, created_at, last_error,
                                  labels)
        SELECT {base} + i, {_NAME}, jsonb_build_object('n', i, 'email', 'user' || i || '@example.com'), 'pending',
               CASE WHEN i % 10 = 1 THEN 1 ELSE 0 END, 3,
               CASE WHEN i % 10 = 0 THEN now() + interval '1 hour'
                    WHEN i % 10 = 1 THEN now() + (i % 300) * interval '1 second' ELSE now() END,
               now() - interval '10 minutes' + (i::float8 / $3) * interval '10 minutes',
               CASE WHEN i % 10 = 1 THEN {_ERRORS} END,
               CASE WHEN i % 8 = 0 THEN ARRAY['gpu'] ELSE '{{}}' END
        FROM generate_series($1::int, $2::int) AS i
        """,
        progress,
    )
    base += data.pending + 1
    with client.transaction() as tx:
        tx.execute(
            f"""
            INSERT INTO anclax.tasks (id, name, payload, status, attempts, max_attempts, run_at, created_at,
                                      started_at, deadline_at, worker_id)
            SELECT {base} + i, {_NAME}, jsonb_build_object('n', i), 'running', 1, 3, now() - interval '5 s',
                   now() - interval '5 s', now() - (i % 60) * interval '1 second', now() + interval '1 hour',
                   {first_worker} + i % 20
            FROM generate_series(1, $1::int) AS i
            """,
            data.running,
        )
        tx.execute("SELECT setval(pg_get_serial_sequence('anclax.tasks', 'id'), (SELECT max(id) FROM anclax.tasks))")
        # Failed attempts' events: a TaskError per attempt (the last with a traceback) and TaskFailed.
        tx.execute(
            f"""
            INSERT INTO anclax.events (task_id, kind, attempt, message, traceback, worker_id, created_at)
            SELECT t.id, CASE WHEN a.n > t.attempts THEN 'TaskFailed' ELSE 'TaskError' END,
                   least(a.n, t.attempts), t.last_error,
                   CASE WHEN a.n >= t.attempts THEN {_TRACEBACK.replace("i %", "t.id %")} t.last_error END,
                   t.worker_id, coalesce(t.finished_at, t.created_at)
            FROM anclax.tasks AS t CROSS JOIN LATERAL generate_series(1, t.attempts + 1) AS a(n)
            WHERE t.last_error IS NOT NULL AND (t.status = 'failed' OR a.n <= t.attempts)
            """
        )
        tx.execute(
            """
            INSERT INTO anclax.schedules (task_name, unique_tag, cron_expression, payload, source, next_fire_at)
            SELECT 'Report' || s, CASE WHEN s % 3 = 0 THEN 'tenant-' || s ELSE '' END,
                   (ARRAY['0 */5 * * * *', '0 0 2 * * *', '*/30 * * * * *', '0 30 9 * * MON-FRI',
                          'CRON_TZ=Europe/Berlin 0 0 6 * * *', '@every 10m'])[1 + s % 6],
                   jsonb_build_object('day', '${fireDate}'), CASE WHEN s % 2 = 0 THEN 'spec' ELSE 'app' END,
                   now() + (s % 60) * interval '1 second'
            FROM generate_series(1, 30) AS s
            """
        )
        tx.execute(
            """
            INSERT INTO anclax.tasks (name, payload, status, attempts, run_at, created_at, started_at, finished_at,
                                      schedule_id, fire_at, last_error)
            SELECT s.task_name, '{}', CASE WHEN f % 17 = 0 THEN 'failed' ELSE 'completed' END, 1,
                   now() - f * interval '5 minutes', now() - f * interval '5 minutes',
                   now() - f * interval '5 minutes', now() - f * interval '5 minutes' + interval '2 s',
                   s.id, now() - f * interval '5 minutes',
                   CASE WHEN f % 17 = 0 THEN 'TimeoutError: report took longer than 10m' END
            FROM anclax.schedules AS s CROSS JOIN generate_series(1, 100) AS f
            """
        )
    client_vacuum(client)
    return data


def _fetch_int(client: Client, sql: str) -> int:
    with client.transaction() as tx:
        return int(tx.fetchval(sql))


def _chunks(client: Client, total: int, sql: str, progress: bool) -> None:
    for start in range(1, total + 1, CHUNK):
        end = min(total, start + CHUNK - 1)
        with client.transaction() as tx:
            tx.execute(sql, start, end, float(total))
        if progress:
            print(f"  seeded {end:,}/{total:,}", flush=True)


def client_vacuum(client: Client) -> None:
    """VACUUM cannot run in a transaction block: run it through a connection in autocommit."""
    import psycopg

    with psycopg.connect(client.dsn_secret, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) anclax.tasks")
        conn.execute("VACUUM (ANALYZE) anclax.events")
        conn.execute("ANALYZE anclax.workers")
        conn.execute("ANALYZE anclax.schedules")
