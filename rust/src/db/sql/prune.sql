-- Retention: delete up to $3 final tasks older than their retention, with their events.
-- $1: completed retention in ms, $2: failed/cancelled retention in ms (NULL: keep forever).
-- Walks the primary key from the oldest task (ids grow with time, so old final tasks come first;
-- tasks still pending or running are stepped over); run with index scans enforced (SET LOCAL).
WITH doomed AS (
    SELECT id
    FROM anclax.tasks
    WHERE (status = 'completed' AND $1::bigint IS NOT NULL AND finished_at < now() - $1::bigint * interval '1 millisecond')
       OR (status IN ('failed', 'cancelled') AND $2::bigint IS NOT NULL
           AND finished_at < now() - $2::bigint * interval '1 millisecond')
    ORDER BY id
    LIMIT $3
    FOR UPDATE SKIP LOCKED
), deleted AS (
    DELETE FROM anclax.tasks AS t USING doomed AS d WHERE t.id = d.id RETURNING t.id
), events AS (
    DELETE FROM anclax.events AS e USING deleted AS d WHERE e.task_id = d.id
)
SELECT count(*)::bigint FROM deleted
