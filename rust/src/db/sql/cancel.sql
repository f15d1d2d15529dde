-- -> 'cancelled' (was pending), 'requested' (running: finalized as cancelled when it returns),
--    'final' (already completed/failed/cancelled: unchanged), or no row (no such task).
SELECT anclax.cancel($1)
