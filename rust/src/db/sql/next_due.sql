-- When each of the lanes $1 next has a pending task that is not due yet (NULL: none), for the
-- timers that wake the claim loop. One descent of tasks_lane_idx per lane.
SELECT l.lane,
       (SELECT c.run_at
        FROM anclax.tasks AS c
        WHERE c.lane = l.lane AND c.status = 'pending' AND c.run_at > now()
        ORDER BY c.run_at
        LIMIT 1) AS due
FROM unnest($1::integer[]) AS l(lane)
