-- Extend the lease of worker $1 (and so of all its running tasks) by $2 ms, and record $3, the
-- attempts it runs (for the dashboard). No row: the lease had already expired, and the rescuer
-- may have handed its tasks to others.
UPDATE anclax.workers
SET heartbeat_at = now(), expires_at = now() + $2::bigint * interval '1 millisecond', in_flight = $3
WHERE id = $1 AND expires_at > now()
RETURNING id
