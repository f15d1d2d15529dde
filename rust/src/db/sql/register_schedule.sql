-- ($1 task, $2 unique tag ('' for none), $3 expression, $4 zone, $5 payload template, $6 source,
--  $7 priority, $8 max attempts, $9 retry intervals ms, $10 timeout ms, $11 labels, $12 next fire)
SELECT anclax.register_schedule($1::text, $2::text, $3::text, $4::text, $5::jsonb, $6::text, $7::integer, $8::integer,
                                $9::bigint[], $10::bigint, $11::text[], $12::timestamptz)
