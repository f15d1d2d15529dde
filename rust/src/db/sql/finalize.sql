-- Finalize failed attempts that need no hook, in one statement: retries go back to pending at
-- now() + their delay, permanent failures become failed. Per row: $1 id, $2 claim token, $3 fail
-- (permanent), $4 retry delay in ms, $5 message, $6 traceback, $7 write a TaskError event;
-- $8 the reporting worker. Fenced like complete.sql; a requested cancel turns the row cancelled.
WITH input AS (
    SELECT *
    FROM unnest($1::bigint[], $2::bigint[], $3::boolean[], $4::bigint[], $5::text[], $6::text[], $7::boolean[])
         AS i(id, token, fail, delay_ms, message, traceback, error_event)
), upd AS (
    UPDATE anclax.tasks AS t
    SET status = CASE WHEN t.cancel_requested THEN 'cancelled' WHEN i.fail THEN 'failed' ELSE 'pending' END,
        run_at = CASE WHEN i.fail OR t.cancel_requested THEN t.run_at
                      ELSE now() + i.delay_ms * interval '1 millisecond' END,
        finished_at = CASE WHEN i.fail OR t.cancel_requested THEN now() END,
        worker_id = CASE WHEN i.fail OR t.cancel_requested THEN t.worker_id END,
        -- A claim past max_attempts (a rescued final attempt) is failed without running it.
        attempts = CASE WHEN t.max_attempts >= 0 THEN least(t.attempts, t.max_attempts) ELSE t.attempts END,
        last_error = i.message
    FROM input AS i
    WHERE t.id = i.id AND t.claim_token = i.token AND t.status = 'running'
    RETURNING t.id, t.status, t.run_at, t.attempts, i.message, i.traceback, i.error_event, t.lane
), events AS (
    INSERT INTO anclax.events (task_id, kind, attempt, message, traceback, worker_id)
    SELECT u.id, e.kind, u.attempts, u.message, u.traceback, $8::bigint
    FROM upd AS u
    CROSS JOIN LATERAL (VALUES ('TaskError', u.error_event),
                               ('TaskFailed', u.status = 'failed'),
                               ('TaskCancelled', u.status = 'cancelled')) AS e(kind, wanted)
    WHERE e.wanted
), notified AS (
    SELECT pg_notify('anclax_done', string_agg(id::text, ',')) FROM upd WHERE status <> 'pending' HAVING count(*) > 0
)
SELECT u.id, u.status, u.run_at, (SELECT count(*) FROM notified)::bigint, u.lane FROM upd AS u
