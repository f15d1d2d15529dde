-- What the database says worker $1 is running (for the worker to reconcile with what it knows).
SELECT id, claim_token FROM anclax.tasks WHERE worker_id = $1 AND status = 'running'
