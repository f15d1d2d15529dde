-- ($1 name, $2 payload, $3 priority, $4 run_at (NULL: now), $5 max_attempts, $6 retry intervals ms,
--  $7 timeout ms, $8 labels, $9 unique tag, $10 parent id, $11 headers, $12 tags) -> (task_id, inserted).
-- The tags go by name, so that the statement does not depend on the order of later parameters.
-- Every parameter is cast so that drivers that send untyped values (psycopg) bind the same way.
SELECT task_id, inserted
FROM anclax.enqueue($1::text, $2::jsonb, $3::integer, $4::timestamptz, $5::integer, $6::bigint[], $7::bigint,
                    $8::text[], $9::text, $10::bigint, $11::jsonb, p_tags => $12::text[])
