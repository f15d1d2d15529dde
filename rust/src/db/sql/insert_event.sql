-- ($1 task, $2 kind, $3 attempt, $4 message, $5 traceback, $6 worker)
INSERT INTO anclax.events (task_id, kind, attempt, message, traceback, worker_id) VALUES ($1, $2, $3, $4, $5, $6)
