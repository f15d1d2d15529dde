-- ($1 hostname, $2 pid, $3 labels, $4 concurrency, $5 version, $6 lease ttl ms)
INSERT INTO anclax.workers (hostname, pid, labels, concurrency, version, expires_at)
VALUES ($1, $2, $3, $4, $5, now() + $6::bigint * interval '1 millisecond')
RETURNING id
