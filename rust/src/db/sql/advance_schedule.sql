-- Lock a schedule whose next fire is due, unless another worker holds it (it is advancing it).
SELECT cron_expression, next_fire_at FROM anclax.schedules
WHERE id = $1 AND next_fire_at <= now()
FOR UPDATE SKIP LOCKED
