-- Claim due tasks for worker $1 and start their attempts, provided the worker's lease is live:
-- up to $3 from the lanes $2 (for executor threads) and up to $5 from the lanes $4 (for coroutine
-- slots), each list in preference order (engine/lanes.rs). Returns the claimed tasks, then one
-- row per lane of $6 (id NULL) with when that lane next has a task that is not due yet (NULL:
-- none), so that the claim loop learns where its timers go without a statement of its own.
--
-- Per lane, an ordered walk of tasks_lane_idx over the rows due now, which stops at the first row
-- not yet due: a claim never reads tasks of lanes it does not name (other task names, labels this
-- worker lacks) nor a lane's delayed tasks. The lanes are taken in order (a nested loop over the
-- unnest, stopped by the outer LIMIT), and rows are locked only as they are taken, so a claim
-- locks exactly what it claims.
-- The `id = ANY(ARRAY(...))` form evaluates each locking sub-select exactly once (an InitPlan); the
-- `IN (SELECT ...)` form can get a plan that re-runs it per row once statistics say the table is
-- empty (tests/integration/test_claim_plan.py).
WITH claimed AS (
    UPDATE anclax.tasks AS t
    SET status = 'running',
        attempts = t.attempts + 1,
        claim_token = t.claim_token + 1,
        worker_id = $1,
        started_at = now(),
        deadline_at = now() + t.timeout_ms * interval '1 millisecond'
    WHERE t.id = ANY(
        ARRAY(
            SELECT c.id
            FROM unnest($2::integer[]) AS l(lane)
            CROSS JOIN LATERAL (
                SELECT c.id
                FROM anclax.tasks AS c
                WHERE c.lane = l.lane AND c.status = 'pending' AND c.run_at <= now()
                ORDER BY c.run_at, c.id
                LIMIT $3
                FOR UPDATE SKIP LOCKED
            ) AS c
            -- Only under a live lease: a worker whose lease expired (frozen, cut off) may have been
            -- rescued already, and must register again before it takes anything (lease.rs).
            WHERE EXISTS (SELECT 1 FROM anclax.workers AS w WHERE w.id = $1 AND w.expires_at > now())
            LIMIT $3
        )
        || ARRAY(
            SELECT c.id
            FROM unnest($4::integer[]) AS l(lane)
            CROSS JOIN LATERAL (
                SELECT c.id
                FROM anclax.tasks AS c
                WHERE c.lane = l.lane AND c.status = 'pending' AND c.run_at <= now()
                ORDER BY c.run_at, c.id
                LIMIT $5
                FOR UPDATE SKIP LOCKED
            ) AS c
            WHERE EXISTS (SELECT 1 FROM anclax.workers AS w WHERE w.id = $1 AND w.expires_at > now())
            LIMIT $5
        )
    )
    RETURNING t.id, t.name, t.payload, t.attempts, t.max_attempts, t.retry_intervals_ms, t.labels,
              t.deadline_at, t.priority, t.run_at, t.timeout_ms, t.lane, t.claim_token
)
SELECT id, name, payload, attempts, max_attempts, retry_intervals_ms, labels, deadline_at, priority, run_at,
       timeout_ms, lane, NULL::timestamptz AS next_due, claim_token
FROM claimed
UNION ALL
-- One descent of tasks_lane_idx per lane, starting past now: these rows are never claimable now.
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, l.lane,
       (SELECT c.run_at
        FROM anclax.tasks AS c
        WHERE c.lane = l.lane AND c.status = 'pending' AND c.run_at > now()
        ORDER BY c.run_at
        LIMIT 1),
       NULL
FROM unnest($6::integer[]) AS l(lane)
