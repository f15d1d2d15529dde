-- Move schedule $1 from its due fire $2 to the next one $3 and create that fire's task row, in one
-- statement. The compare-and-set on next_fire_at makes it exactly once across the fleet: a worker
-- that was beaten to it (or whose clock runs ahead of the database's) gets no row. The
-- notification tells the other workers the new fire time, so they need not ask.
WITH advanced AS (
    UPDATE anclax.schedules
    SET next_fire_at = $3::timestamptz, updated_at = now()
    WHERE id = $1 AND next_fire_at = $2::timestamptz AND next_fire_at <= now() AND NOT paused
    RETURNING id
)
SELECT anclax.create_fire(id, $3::timestamptz),
       pg_notify('anclax_schedules', id::text || '@' || (extract(epoch FROM $3::timestamptz) * 1000)::bigint::text)
FROM advanced
