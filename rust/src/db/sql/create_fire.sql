SELECT anclax.create_fire($1::bigint, $2::timestamptz)
