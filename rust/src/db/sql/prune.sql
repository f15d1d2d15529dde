-- Retention: delete up to $3 final tasks older than their retention, with their events.
-- $1: completed retention in ms, $2: failed/cancelled retention in ms (NULL: keep forever).
-- Both lookups are range scans of tasks_finished_idx that end at the retention cutoff, so a pass
-- reads only rows that are due for deletion, however many finished rows are kept.
WITH completed AS MATERIALIZED (
    SELECT id
    FROM anclax.tasks
    WHERE status = 'completed' AND $1::bigint IS NOT NULL
      AND finished_at < now() - $1::bigint * interval '1 millisecond'
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), failed AS MATERIALIZED (
    SELECT id
    FROM anclax.tasks
    WHERE status IN ('failed', 'cancelled') AND $2::bigint IS NOT NULL
      AND finished_at < now() - $2::bigint * interval '1 millisecond'
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), deleted AS (
    DELETE FROM anclax.tasks AS t
    WHERE t.id = ANY(ARRAY(SELECT id FROM completed UNION ALL SELECT id FROM failed))
    RETURNING t.id
), events AS (
    DELETE FROM anclax.events AS e USING deleted AS d WHERE e.task_id = d.id
)
SELECT count(*)::bigint FROM deleted
