-- When the earliest delayed task comes due (NULL: none), for the timer that wakes the claim loop.
SELECT min(run_at) FROM anclax.tasks WHERE status = 'pending' AND run_at > now()
