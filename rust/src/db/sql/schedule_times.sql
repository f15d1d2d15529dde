-- For the scheduler's timer heap: when each schedule's next fire comes due.
-- Paused schedules are left out: the scheduler skips them until a resume notifies a reload.
SELECT id, cron_expression, next_fire_at FROM anclax.schedules WHERE NOT paused
