-- Every schedule with the task id of its pending next fire.
SELECT s.id, s.task_name, s.unique_tag, s.cron_expression, s.payload::text AS payload, s.source, s.next_fire_at, s.paused,
       (SELECT t.id FROM anclax.tasks AS t WHERE t.schedule_id = s.id AND t.fire_at = s.next_fire_at) AS next_task_id
FROM anclax.schedules AS s
ORDER BY s.task_name, s.unique_tag
