-- Bulk enqueue of one task name with shared options: $2 is the array of payloads, in order;
-- $10 the propagation headers and $11 the tags every task of the batch gets.
-- One lane for the whole batch (looked up once), named in the one notification; one lookup of
-- whether the name is paused (the batch then starts paused, and wakes nobody).
WITH lane AS MATERIALIZED (
    SELECT anclax.lane($1::text, $8::text[], $3::integer) AS id, anclax.initial_status($1::text) AS status
), ins AS (
    INSERT INTO anclax.tasks (name, payload, priority, run_at, max_attempts, retry_intervals_ms, timeout_ms, labels,
                              parent_id, lane, headers, tags, status)
    SELECT $1::text, u.p, $3::integer, coalesce($4::timestamptz, now()), $5::integer, $6::bigint[], $7::bigint,
           $8::text[], $9::bigint, (SELECT id FROM lane), $10::jsonb, coalesce($11::text[], '{}'),
           (SELECT status FROM lane)
    FROM unnest($2::jsonb[]) WITH ORDINALITY AS u(p, n)
    ORDER BY u.n
    RETURNING id
), notified AS (
    SELECT pg_notify('anclax_tasks', anclax.wake_payload((SELECT id FROM lane), coalesce($4::timestamptz, now())))
    FROM (SELECT 1 FROM ins LIMIT 1) AS any_row
    WHERE (SELECT status FROM lane) = 'pending'
)
SELECT id, (SELECT count(*) FROM notified)::bigint FROM ins
