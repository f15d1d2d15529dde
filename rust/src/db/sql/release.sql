-- Graceful shutdown: hand attempts still running after the grace period back to the queue at once
-- ($1 ids, $2 attempts, $3 worker). The attempt counts; the next claim fails the task without
-- running it if that was its last one.
WITH released AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.cancel_requested THEN 'cancelled' ELSE 'pending' END,
        run_at = now(),
        worker_id = NULL,
        finished_at = CASE WHEN t.cancel_requested THEN now() END,
        last_error = 'released: the worker shut down before the attempt finished'
    FROM unnest($1::bigint[], $2::integer[]) AS c(id, attempt)
    WHERE t.id = c.id AND t.attempts = c.attempt AND t.status = 'running'
    RETURNING t.id, t.attempts, t.status
), events AS (
    INSERT INTO anclax.events (task_id, kind, attempt, message, worker_id)
    SELECT id, CASE WHEN status = 'cancelled' THEN 'TaskCancelled' ELSE 'TaskError' END, attempts,
           'released: the worker shut down before the attempt finished', $3
    FROM released
), notified AS (
    SELECT pg_notify('anclax_tasks', '') FROM released HAVING count(*) > 0
)
SELECT count(*)::bigint, (SELECT count(*) FROM notified)::bigint FROM released
