-- For the scheduler's timer heap: when each schedule's next fire comes due.
SELECT id, cron_expression, next_fire_at FROM anclax.schedules
