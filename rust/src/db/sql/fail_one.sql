-- The first statement of a permanent failure whose hook must run in the same transaction:
-- ($1 id, $2 the attempt's claim token, $3 message). Returns the new status ('failed', or 'cancelled' when a cancel
-- was requested, which skips the hook), or no row when the lease was lost.
UPDATE anclax.tasks
SET status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'failed' END,
    finished_at = now(),
    attempts = CASE WHEN max_attempts >= 0 THEN least(attempts, max_attempts) ELSE attempts END,
    last_error = $3
WHERE id = $1 AND claim_token = $2 AND status = 'running'
RETURNING status, attempts
