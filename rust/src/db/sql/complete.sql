-- Finalize successful attempts: ($1 ids, $2 the claim token of each one's attempt). Fenced: a
-- task whose lease was lost (rescued, released, re-claimed) has a newer token, no longer matches
-- and keeps its newer state.
-- A cancel requested while the attempt ran wins over success.
WITH done AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.cancel_requested THEN 'cancelled' ELSE 'completed' END,
        finished_at = now()
    FROM unnest($1::bigint[], $2::bigint[]) AS c(id, token)
    WHERE t.id = c.id AND t.claim_token = c.token AND t.status = 'running'
    RETURNING t.id, t.status, t.attempts
), cancelled AS (
    INSERT INTO anclax.events (task_id, kind, attempt, message, worker_id)
    SELECT id, 'TaskCancelled', attempts, 'cancelled while running', $3::bigint FROM done WHERE status = 'cancelled'
), notified AS (
    SELECT pg_notify('anclax_done', string_agg(id::text, ',')) FROM done HAVING count(*) > 0
)
SELECT count(*)::bigint, (SELECT count(*) FROM notified)::bigint FROM done
