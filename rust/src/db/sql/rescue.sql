-- Rescue the tasks of workers whose lease expired (killed, frozen, partitioned): back to pending
-- (or cancelled, if a cancel was requested), attempt counted, a TaskError event each.
-- Returns (rescued tasks, dead workers removed). The lookup goes through the dead workers' ids,
-- so it touches only their rows of `tasks_running_idx`.
WITH dead AS (
    DELETE FROM anclax.workers WHERE expires_at < now() RETURNING id
), rescued AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.cancel_requested THEN 'cancelled' ELSE 'pending' END,
        run_at = now(),
        finished_at = CASE WHEN t.cancel_requested THEN now() END,
        worker_id = NULL,
        last_error = 'lease expired: worker ' || t.worker_id || ' stopped heartbeating'
    WHERE t.status = 'running' AND t.worker_id = ANY(ARRAY(SELECT id FROM dead))
    RETURNING t.id, t.attempts, t.status, t.last_error
), events AS (
    INSERT INTO anclax.events (task_id, kind, attempt, message)
    SELECT id, CASE WHEN status = 'cancelled' THEN 'TaskCancelled' ELSE 'TaskError' END, attempts, last_error
    FROM rescued
), notified AS (
    SELECT pg_notify('anclax_tasks', '') FROM rescued HAVING count(*) > 0
)
SELECT (SELECT count(*) FROM rescued)::bigint, (SELECT count(*) FROM dead)::bigint,
       (SELECT count(*) FROM notified)::bigint
