-- Rescue the tasks of workers whose lease expired (killed, frozen, partitioned): back to pending
-- (or cancelled, if a cancel was requested), attempt counted, a TaskError event each. Also rescues
-- running tasks whose owner row is gone, and tasks far past their deadline ($1 ms of slack) as a
-- safety net. Returns (rescued tasks, dead workers removed).
WITH dead AS (
    DELETE FROM anclax.workers WHERE expires_at < now() RETURNING id
), rescued AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.cancel_requested THEN 'cancelled' ELSE 'pending' END,
        run_at = now(),
        finished_at = CASE WHEN t.cancel_requested THEN now() END,
        worker_id = NULL,
        last_error = 'lease expired: worker ' || coalesce(t.worker_id::text, '?') || ' stopped heartbeating'
    WHERE t.status = 'running'
      AND (t.worker_id IN (SELECT id FROM dead)
           OR NOT EXISTS (SELECT 1 FROM anclax.workers AS w WHERE w.id = t.worker_id)
           OR t.deadline_at < now() - $1 * interval '1 millisecond')
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
