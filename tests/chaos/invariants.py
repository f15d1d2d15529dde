"""The invariants, each an exact rule and the SQL that lists the tasks breaking it.

Every check runs after the fleet has drained and stopped, over ``anclax.*`` (the queue's state)
and ``chaos.*`` (what the harness observed, see ``observe``). A query returns one row per
offending task (or fire time): ``(id, detail)``; an empty result means the invariant holds.

Terms: a task's *final attempt* is its ``attempts`` column once it is final. An *execution* is a
line in an executor log: ``S`` (started) and ``K`` (returned successfully) with the attempt
number the worker was given (the claim's fencing token). A TaskError event whose message starts
with ``released:`` comes from a graceful stop that handed the attempt back uncounted (the same
attempt number is then claimed again); such events are ignored when events are counted, and they
excuse a repeated execution of that attempt number.

What at-least-once allows, and what it does not: an attempt may run to completion in Python and
still not count, if its worker lost the lease (killed, frozen, cut off) or its deadline passed;
the task is then run again under a new attempt number. What must never happen is that a result
is *applied* twice or applied from the wrong attempt. The table applies a success only while
``attempts`` equals the reporting attempt (fencing), so "completed twice" is checked as: a
completed task has exactly one successful execution of its final attempt, no execution of any
later attempt, and every successful execution of an earlier attempt is accounted for by a lease
loss, timeout or release of that attempt (``success_discarded_without_cause``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg
from typing_extensions import LiteralString

# Event messages that explain why an attempt's own result did not count.
_LOST_ATTEMPT: LiteralString = (
    "(e.message LIKE 'lease expired%' OR e.message LIKE 'lease lost%' OR e.message LIKE 'rescued:%' "
    "OR e.message LIKE 'TaskTimeout%' OR e.message LIKE 'released:%')"
)
# Cron rows the stopped fleet legitimately leaves pending: each schedule's next fire, and a fire
# that came due within a second of the fleet being told to stop (its row existed, but the workers
# had stopped claiming).
_LEFT_BY_THE_STOP: LiteralString = """(
    SELECT tt.id FROM anclax.tasks AS tt JOIN anclax.schedules AS s ON tt.schedule_id = s.id
    WHERE tt.status = 'pending'
      AND (tt.fire_at = s.next_fire_at
           OR tt.fire_at >= (SELECT fleet_stopping_at FROM chaos.run_info) - interval '1 second'))"""

# A cron fire time `s` must have its row if some worker process was up and not frozen from
# COVER_BEFORE seconds before `s` (the row of fire `s` is created when fire `s - 1s` comes due)
# to COVER_AFTER seconds after it, and Postgres was not down within OUTAGE_MARGIN seconds of it
# (a fire missed while no worker could reach the database is coalesced, by design).
# (Strings, so that the statements stay literal: psycopg only runs literal SQL.)
COVER_BEFORE: LiteralString = "2"
COVER_AFTER: LiteralString = "1"
OUTAGE_MARGIN: LiteralString = "3"


@dataclass(frozen=True)
class Check:
    name: str
    rule: str
    sql: LiteralString


@dataclass
class CheckResult:
    name: str
    rule: str
    count: int
    samples: list[tuple[int, str]] = field(default_factory=list[tuple[int, str]])

    @property
    def passed(self) -> bool:
        return self.count == 0


CHECKS: tuple[Check, ...] = (
    Check(
        "lost",
        "every acknowledged enqueue's task exists in anclax.tasks",
        """
        SELECT a.task_id, 'acknowledged as ' || a.name || ', not in anclax.tasks'
        FROM (SELECT DISTINCT task_id, name FROM chaos.acked) AS a
        LEFT JOIN anclax.tasks AS t ON t.id = a.task_id
        WHERE t.id IS NULL
        """,
    ),
    Check(
        "acknowledged_name",
        "an acknowledged id names a task of the name the producer enqueued",
        """
        SELECT a.task_id, format('acknowledged as %s, the row is a %s', a.name, t.name)
        FROM (SELECT DISTINCT task_id, name FROM chaos.acked) AS a JOIN anclax.tasks AS t ON t.id = a.task_id
        WHERE t.name <> a.name
        """,
    ),
    Check(
        "not_final",
        "after the drain no task is pending or running (cron fires due as the fleet stopped aside)",
        f"""
        SELECT t.id, format('%s is %s (attempts %s/%s, worker %s, %s, run_at %s, last error %s)',
                            t.name, t.status, t.attempts, t.max_attempts, coalesce(t.worker_id::text, '-'),
                            CASE WHEN t.worker_id IS NULL THEN 'no lease'
                                 WHEN w.id IS NULL THEN 'its worker row is gone'
                                 WHEN w.expires_at > now() THEN 'lease live until ' || w.expires_at
                                 ELSE 'lease expired at ' || w.expires_at END,
                            t.run_at, coalesce(t.last_error, '-'))
        FROM anclax.tasks AS t LEFT JOIN anclax.workers AS w ON w.id = t.worker_id
        WHERE t.status IN ('pending', 'running') AND t.id NOT IN {_LEFT_BY_THE_STOP}
        """,
    ),
    Check(
        "wrong_final_state",
        "every final task is in the state its definition leads to (tests/chaos/tasks.py EXPECTED_STATUS)",
        """
        SELECT t.id, format('%s ended %s, expected %s (attempts %s/%s, last error %s)', t.name, t.status,
                            coalesce(x.status, '(unknown task name)'), t.attempts, t.max_attempts,
                            coalesce(t.last_error, '-'))
        FROM anclax.tasks AS t LEFT JOIN chaos.expected AS x ON x.name = t.name
        WHERE t.status IN ('completed', 'failed', 'cancelled') AND t.status IS DISTINCT FROM x.status
        """,
    ),
    Check(
        "completed_twice",
        "a completed task's final attempt returned successfully exactly once (more: two live leases "
        "with the same fencing token)",
        """
        SELECT t.id, format('%s: %s successful executions of its final attempt %s (pids %s)', t.name, count(*),
                            t.attempts, string_agg(r.pid::text, ','))
        FROM anclax.tasks AS t JOIN chaos.runs AS r ON r.task_id = t.id AND r.kind = 'K' AND r.attempt = t.attempts
        WHERE t.status = 'completed'
          AND NOT EXISTS (SELECT 1 FROM anclax.events AS e WHERE e.task_id = t.id AND e.attempt = t.attempts
                          AND e.message LIKE 'released:%')
        GROUP BY t.id, t.name, t.attempts
        HAVING count(*) > 1
        """,
    ),
    Check(
        "completed_without_success",
        "a completed task's final attempt has a successful execution (the applied result came from it)",
        """
        SELECT t.id, format('%s completed with attempts = %s, but no execution of that attempt returned', t.name,
                            t.attempts)
        FROM anclax.tasks AS t
        WHERE t.status = 'completed'
          AND NOT EXISTS (SELECT 1 FROM chaos.runs AS r WHERE r.task_id = t.id AND r.kind = 'K'
                          AND r.attempt = t.attempts)
        """,
    ),
    Check(
        "run_after_final",
        "no execution of a final task has an attempt number above its final attempt (a task never runs "
        "again once final)",
        """
        SELECT t.id, format('%s ended %s with attempts = %s, but attempt %s ran (pid %s)', t.name, t.status,
                            t.attempts, r.attempt, r.pid)
        FROM anclax.tasks AS t JOIN chaos.runs AS r ON r.task_id = t.id AND r.kind = 'S'
        WHERE t.status IN ('completed', 'failed', 'cancelled') AND r.attempt > t.attempts
        """,
    ),
    Check(
        "success_discarded_without_cause",
        "a successful execution that did not become the task's result belongs to an attempt that lost its "
        "lease, timed out or was released (its TaskError event says so)",
        f"""
        SELECT r.task_id, format('%s: attempt %s returned successfully (pid %s) but was recorded as: %s',
                                 t.name, r.attempt, r.pid, e.message)
        FROM chaos.runs AS r
        JOIN anclax.tasks AS t ON t.id = r.task_id
        JOIN anclax.events AS e ON e.task_id = r.task_id AND e.attempt = r.attempt AND e.kind = 'TaskError'
        WHERE r.kind = 'K' AND (t.status <> 'completed' OR r.attempt < t.attempts) AND NOT {_LOST_ATTEMPT}
        """,
    ),
    Check(
        "attempt_events",
        "a final task has exactly one TaskError event (releases aside) for each attempt before its final "
        "one, one for its final attempt if it failed other than by FatalTaskError, none otherwise",
        """
        WITH t AS (
            SELECT id, name, status, attempts FROM anclax.tasks WHERE status IN ('completed', 'failed')
        ), fatal AS (
            SELECT DISTINCT task_id FROM anclax.events WHERE kind = 'TaskFailed' AND message LIKE 'FatalTaskError%'
        ), wanted AS (
            SELECT t.id, t.name, k AS attempt,
                   CASE WHEN k < t.attempts THEN 1 WHEN t.status = 'completed' THEN 0
                        WHEN t.id IN (SELECT task_id FROM fatal) THEN 0 ELSE 1 END AS n
            FROM t, generate_series(1, t.attempts) AS k
        ), actual AS (
            SELECT e.task_id, e.attempt, count(*) AS n, string_agg(left(e.message, 80), ' | ') AS messages
            FROM anclax.events AS e JOIN t ON t.id = e.task_id
            WHERE e.kind = 'TaskError' AND e.message NOT LIKE 'released:%'
            GROUP BY e.task_id, e.attempt
        )
        SELECT coalesce(w.id, a.task_id),
               format('attempt %s: %s TaskError event(s), expected %s (%s)', coalesce(w.attempt, a.attempt),
                      coalesce(a.n, 0), coalesce(w.n, 0), coalesce(a.messages, 'none'))
        FROM wanted AS w FULL JOIN actual AS a ON a.task_id = w.id AND a.attempt = w.attempt
        WHERE coalesce(a.n, 0) <> coalesce(w.n, 0)
        """,
    ),
    Check(
        "task_failed_events",
        "a failed task has exactly one TaskFailed event; any other task none",
        """
        SELECT t.id, format('%s is %s with %s TaskFailed event(s)', t.name, t.status, count(e.id))
        FROM anclax.tasks AS t LEFT JOIN anclax.events AS e ON e.task_id = t.id AND e.kind = 'TaskFailed'
        GROUP BY t.id, t.name, t.status
        HAVING count(e.id) <> CASE WHEN t.status = 'failed' THEN 1 ELSE 0 END
        """,
    ),
    Check(
        "hook_writes",
        "a failure hook's writes committed exactly once per permanent failure: one audit row for a failed "
        "task whose hook writes, none for any other task (also none when the hook raised)",
        """
        WITH audit AS (SELECT task_id, count(*) AS n FROM chaos.audit GROUP BY task_id)
        SELECT t.id, format('%s is %s with %s audit row(s), expected %s', t.name, t.status, coalesce(a.n, 0),
                            CASE WHEN t.status = 'failed' AND x.hook = 'writes' THEN 1 ELSE 0 END)
        FROM anclax.tasks AS t LEFT JOIN chaos.expected AS x ON x.name = t.name LEFT JOIN audit AS a ON a.task_id = t.id
        WHERE coalesce(a.n, 0) <> CASE WHEN t.status = 'failed' AND x.hook = 'writes' THEN 1 ELSE 0 END
        UNION ALL
        SELECT a.task_id, format('%s audit row(s) for a task that does not exist', a.n)
        FROM audit AS a WHERE NOT EXISTS (SELECT 1 FROM anclax.tasks AS t WHERE t.id = a.task_id)
        """,
    ),
    Check(
        "hook_failed_events",
        "a failed task whose hook raises has exactly one HookFailed event; any other task none",
        """
        SELECT t.id, format('%s is %s with %s HookFailed event(s)', t.name, t.status, count(e.id))
        FROM anclax.tasks AS t
        LEFT JOIN chaos.expected AS x ON x.name = t.name
        LEFT JOIN anclax.events AS e ON e.task_id = t.id AND e.kind = 'HookFailed'
        GROUP BY t.id, t.name, t.status, x.hook
        HAVING count(e.id) <> CASE WHEN t.status = 'failed' AND x.hook = 'raises' THEN 1 ELSE 0 END
        """,
    ),
    Check(
        "unique_tag_ids",
        "every enqueue of a unique tag was acknowledged with the same id, the id of the tag's only row",
        """
        SELECT min(a.task_id),
               format('tag %s acknowledged with ids %s', a.tag, string_agg(DISTINCT a.task_id::text, ','))
        FROM chaos.tag_acks AS a GROUP BY a.tag HAVING count(DISTINCT a.task_id) > 1
        UNION ALL
        SELECT a.task_id, format('tag %s acknowledged as %s, the table has %s', a.tag, a.task_id,
                                 coalesce((SELECT string_agg(t.id::text, ',') FROM anclax.tasks AS t
                                           WHERE t.unique_tag = a.tag), 'no row'))
        FROM (SELECT DISTINCT tag, task_id FROM chaos.tag_acks) AS a
        WHERE (SELECT array_agg(t.id) FROM anclax.tasks AS t WHERE t.unique_tag = a.tag) IS DISTINCT FROM
              ARRAY[a.task_id]
        """,
    ),
    Check(
        "cron_duplicate_fires",
        "each (schedule, fire time) has at most one task row",
        """
        SELECT min(t.id), format('schedule %s fire %s has %s rows (ids %s)', t.schedule_id, t.fire_at, count(*),
                                 string_agg(t.id::text, ','))
        FROM anclax.tasks AS t WHERE t.schedule_id IS NOT NULL
        GROUP BY t.schedule_id, t.fire_at HAVING count(*) > 1
        """,
    ),
    Check(
        "cron_fire_payload",
        "every Beat fire is on the whole-second grid and its ${fireTime} parameter is its own fire time",
        """
        SELECT t.id, format('fire_at %s, note %s', t.fire_at, t.payload->>'note')
        FROM anclax.tasks AS t
        WHERE t.name = 'Beat'
          AND (date_trunc('second', t.fire_at) <> t.fire_at
               OR t.payload->>'note' IS DISTINCT FROM
                  to_char(t.fire_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        """,
    ),
    Check(
        "cron_missed_fires",
        f"every whole second s has a Beat row if a worker was up and not frozen from s-{COVER_BEFORE}s to "
        f"s+{COVER_AFTER}s and Postgres was not down within {OUTAGE_MARGIN}s of s",
        f"""
        WITH span AS (
            SELECT date_trunc('second', min(up_from)) + interval '1 second' AS first,
                   date_trunc('second', max(up_to)) AS last
            FROM chaos.uptime
        ), seconds AS (
            SELECT generate_series(span.first, span.last, interval '1 second') AS s FROM span
        ), covered AS (
            SELECT s FROM seconds
            WHERE EXISTS (
                SELECT 1 FROM chaos.uptime AS u
                WHERE u.up_from <= s - interval '{COVER_BEFORE} seconds'
                  AND u.up_to >= s + interval '{COVER_AFTER} seconds'
                  AND NOT EXISTS (SELECT 1 FROM chaos.frozen AS f WHERE f.incarnation = u.incarnation
                                  AND f.frozen_from <= s + interval '{COVER_AFTER} seconds'
                                  AND f.frozen_to >= s - interval '{COVER_BEFORE} seconds'))
              AND NOT EXISTS (
                SELECT 1 FROM chaos.outages AS o
                WHERE o.down_from <= s + interval '{OUTAGE_MARGIN} seconds'
                  AND o.down_to >= s - interval '{OUTAGE_MARGIN} seconds')
        )
        SELECT extract(epoch FROM c.s)::bigint, format('no Beat row for fire time %s', c.s)
        FROM covered AS c
        WHERE NOT EXISTS (SELECT 1 FROM anclax.tasks AS t WHERE t.name = 'Beat' AND t.fire_at = c.s)
        """,
    ),
)

SAMPLES = 20


def run_checks(dsn: str) -> list[CheckResult]:
    results: list[CheckResult] = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for check in CHECKS:
            rows = conn.execute(check.sql).fetchall()
            rows.sort(key=lambda row: row[0])
            results.append(
                CheckResult(check.name, check.rule, len(rows), [(int(row[0]), str(row[1])) for row in rows[:SAMPLES]])
            )
    return results
