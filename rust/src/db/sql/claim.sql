-- Claim up to $3 due tasks for worker $1, in claim order, and start their attempt, provided the
-- worker's lease is live.
-- $2: the worker's labels (a task runs only where all its labels are present);
-- $4: task names to claim (NULL = any); $5: task names never to claim here.
-- The `id = ANY(ARRAY(...))` form evaluates the locking sub-select exactly once; the `IN (SELECT ...)`
-- form can get a plan that re-runs it per row once statistics say the table is empty.
UPDATE anclax.tasks AS t
SET status = 'running',
    attempts = t.attempts + 1,
    worker_id = $1,
    started_at = now(),
    deadline_at = now() + t.timeout_ms * interval '1 millisecond'
WHERE t.id = ANY(ARRAY(
    SELECT c.id
    FROM anclax.tasks AS c
    WHERE c.status = 'pending'
      AND c.run_at <= now()
      -- Only under a live lease: a worker whose lease expired (frozen, cut off) may have been
      -- rescued already, and must register again before it takes anything (lease.rs).
      AND EXISTS (SELECT 1 FROM anclax.workers AS w WHERE w.id = $1 AND w.expires_at > now())
      AND c.labels <@ $2::text[]
      AND ($4::text[] IS NULL OR c.name = ANY($4::text[]))
      AND NOT (c.name = ANY($5::text[]))
    ORDER BY c.priority DESC, c.run_at, c.id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
))
RETURNING t.id, t.name, t.payload, t.attempts, t.max_attempts, t.retry_intervals_ms, t.labels,
          t.deadline_at, t.priority, t.run_at, t.timeout_ms
