SELECT id, task_id, kind, attempt, message, traceback, worker_id, created_at
FROM anclax.events WHERE task_id = $1 ORDER BY id
