-- The rescuer's safety net, run rarely since it walks every running task: tasks running for a
-- worker that has no row (it was removed without rescuing them), and tasks far past their
-- deadline ($1 ms of slack: the worker should have finalized them long ago).
WITH rescued AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.cancel_requested THEN 'cancelled' ELSE 'pending' END,
        run_at = now(),
        finished_at = CASE WHEN t.cancel_requested THEN now() END,
        worker_id = NULL,
        last_error = CASE WHEN t.deadline_at < now() - $1::bigint * interval '1 millisecond'
                          THEN 'rescued: still running long after its deadline'
                          ELSE 'lease lost: worker ' || coalesce(t.worker_id::text, '?') || ' is gone' END
    WHERE t.status = 'running' AND t.worker_id IS NOT NULL
      AND (NOT EXISTS (SELECT 1 FROM anclax.workers AS w WHERE w.id = t.worker_id)
           OR t.deadline_at < now() - $1::bigint * interval '1 millisecond')
    RETURNING t.id, t.attempts, t.status, t.last_error
), events AS (
    INSERT INTO anclax.events (task_id, kind, attempt, message)
    SELECT id, CASE WHEN status = 'cancelled' THEN 'TaskCancelled' ELSE 'TaskError' END, attempts, last_error
    FROM rescued
), notified AS (
    SELECT pg_notify('anclax_tasks', '') FROM rescued HAVING count(*) > 0
)
SELECT (SELECT count(*) FROM rescued)::bigint, (SELECT count(*) FROM notified)::bigint
