SELECT anclax.unschedule($1::text, $2::text)
