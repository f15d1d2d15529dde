-- The lane of ($1 name, $2 labels, $3 priority), created if new (in its own transaction, before an
-- enqueue into it runs inside a caller's transaction: see anclax.lane).
SELECT anclax.lane($1::text, $2::text[], $3::integer)
