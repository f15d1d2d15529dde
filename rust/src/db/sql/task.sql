SELECT id, name, status, payload::text, priority, run_at, attempts, max_attempts, retry_intervals_ms, timeout_ms,
       labels, unique_tag, parent_id, schedule_id, fire_at, worker_id, cancel_requested, started_at, deadline_at,
       finished_at, last_error, created_at, headers, tags, pause_requested
FROM anclax.tasks WHERE id = $1
