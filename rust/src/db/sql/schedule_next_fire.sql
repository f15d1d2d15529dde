-- The schedule's next fire time (no row: removed or paused), read without a lock.
SELECT next_fire_at FROM anclax.schedules WHERE id = $1 AND NOT paused
