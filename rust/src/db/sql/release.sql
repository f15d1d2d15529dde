-- Graceful shutdown: hand attempts still running after the grace period back to the queue at once
-- ($1 ids, $2 their claim tokens, $3 worker). The interrupted attempt does not count against max_attempts:
-- the worker chose to stop, the task did not fail (a crash, by contrast, counts: see rescue.sql).
WITH released AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.cancel_requested THEN 'cancelled' ELSE 'pending' END,
        attempts = CASE WHEN t.cancel_requested THEN t.attempts ELSE t.attempts - 1 END,
        run_at = now(),
        worker_id = NULL,
        finished_at = CASE WHEN t.cancel_requested THEN now() END,
        last_error = 'released: the worker shut down before the attempt finished'
    FROM unnest($1::bigint[], $2::bigint[]) AS c(id, token)
    WHERE t.id = c.id AND t.claim_token = c.token AND t.status = 'running'
    RETURNING t.id, t.attempts + CASE WHEN t.cancel_requested THEN 0 ELSE 1 END AS attempt, t.status
), events AS (
    INSERT INTO anclax.events (task_id, kind, attempt, message, worker_id)
    SELECT id, CASE WHEN status = 'cancelled' THEN 'TaskCancelled' ELSE 'TaskError' END, attempt,
           'released: the worker shut down before the attempt finished (the attempt does not count)', $3::bigint
    FROM released
), notified AS (
    SELECT pg_notify('anclax_tasks', '') FROM released HAVING count(*) > 0
)
SELECT count(*)::bigint, (SELECT count(*) FROM notified)::bigint FROM released
