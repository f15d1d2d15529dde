-- ($1 hostname, $2 pid, $3 labels, $4 concurrency, $5 version, $6 lease ttl ms,
--  $7 task names served (NULL: every name), $8 async concurrency (0: no async tasks))
INSERT INTO anclax.workers (hostname, pid, labels, concurrency, version, expires_at, task_names, async_concurrency)
VALUES ($1, $2, $3, $4, $5, now() + $6::bigint * interval '1 millisecond', $7, $8)
RETURNING id
