-- Attempts the database says worker $1 runs but the worker does not know of (a claim whose
-- response was lost with the connection, a result that could not be recorded): back to the queue
-- at once ($2 ids, $3 their claim tokens). The attempt does not count: as far as the worker knows it never ran.
WITH released AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.cancel_requested THEN 'cancelled' ELSE 'pending' END,
        attempts = CASE WHEN t.cancel_requested THEN t.attempts ELSE t.attempts - 1 END,
        finished_at = CASE WHEN t.cancel_requested THEN now() END,
        run_at = now(),
        worker_id = NULL,
        last_error = 'released: the worker lost track of this attempt (its claim or result did not get through)'
    FROM unnest($2::bigint[], $3::bigint[]) AS c(id, token)
    WHERE t.id = c.id AND t.claim_token = c.token AND t.status = 'running' AND t.worker_id = $1::bigint
    RETURNING t.id, t.attempts + CASE WHEN t.cancel_requested THEN 0 ELSE 1 END AS attempt, t.status, t.last_error
), events AS (
    INSERT INTO anclax.events (task_id, kind, attempt, message, worker_id)
    SELECT id, CASE WHEN status = 'cancelled' THEN 'TaskCancelled' ELSE 'TaskError' END, attempt, last_error, $1::bigint
    FROM released
), notified AS (
    SELECT pg_notify('anclax_tasks', '') FROM released HAVING count(*) > 0
)
SELECT count(*)::bigint, (SELECT count(*) FROM notified)::bigint FROM released
