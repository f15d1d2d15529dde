-- anclax-fast schema, version 4: what the dashboard (`anclax-fast ui`) and `Client.retry` need.
-- Every column added here has a constant default or none, so adding it rewrites nothing. The
-- two indexes are built in the migration's transaction and block writes to anclax.tasks while
-- they build (a few seconds per million rows): on a large table, migrate at a quiet moment.

-- The Workers page: what each worker serves and how busy it is. Written at registration
-- (task_names, async_concurrency) and by every heartbeat (in_flight). Workers of an older
-- version leave the defaults, which the page shows as unknown.
ALTER TABLE anclax.workers
    ADD COLUMN task_names        text[],                      -- NULL: every task name of its spec
    ADD COLUMN async_concurrency integer NOT NULL DEFAULT 0,  -- coroutine slots; 0 without async tasks
    ADD COLUMN in_flight         integer NOT NULL DEFAULT 0;  -- attempts running at the last heartbeat

-- Why these indexes, and what they cost. Every completion already rewrites the row without HOT
-- (it changes `status`, which partial-index predicates read), so an index costs one entry per
-- row that satisfies its predicate when the row enters that state, and nothing for other rows.
-- Finished tasks by status and finish time (the overview's last hour, the Failures page, the
-- Tasks page filtered on a final status, bulk actions by filter) use tasks_finished_idx of
-- version 2: nothing to add for them.
--
-- Tasks waiting for a retry (pending after a failed attempt): "what is failing right now" on the
-- Failures page and the overview, without reading the pending backlog. One entry per retry.
CREATE INDEX tasks_retrying_idx ON anclax.tasks (run_at) WHERE status = 'pending' AND attempts > 0;

-- What groups failures on the Failures page: the first line of the error ("Type: message") with
-- the parts that vary between occurrences of one error replaced (UUIDs, hex values, numbers that
-- stand alone or start a word: "order 42" and "order 43" are one error, "Error404" stays),
-- capped at 200 characters. It costs a few microseconds per message (three regular expressions
-- over at most 300 characters): the Failures page applies it to a bounded number of rows.
CREATE FUNCTION anclax.error_fingerprint(p_message text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT left(
        regexp_replace(
            regexp_replace(
                regexp_replace(
                    left(split_part(coalesce(p_message, ''), E'\n', 1), 300),
                    '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}', '<uuid>', 'g'),
                '\m0x[0-9a-fA-F]+', '<hex>', 'g'),
            '\m[0-9]+(\.[0-9]+)?', '<n>', 'g'),
        200)
$$;

-- Failed tasks by group (the Failures page's task name and error fingerprint): a bulk action on a
-- group reads only that group's tasks, not every failure of its window. The fingerprint is
-- computed once, when a task fails for good; successes never evaluate it.
CREATE INDEX tasks_failure_group_idx ON anclax.tasks (name, anclax.error_fingerprint(last_error))
    WHERE status = 'failed';

-- Send failed or cancelled tasks back to the queue (`Client.retry`, the dashboard's redrive):
-- pending, due now, with a fresh attempt budget, and a `TaskRetried` event naming who did it.
-- Other statuses are left alone. Returns how many tasks changed.
--
-- The attempt counter is the fencing token of a claim (a late result applies only while the row
-- carries the attempt it ran), so it never goes back: the budget is extended instead, to as many
-- attempts as the task had before (its max_attempts, minus the attempts it had used when it was
-- last retried, which that retry's event records). Unlimited tasks stay unlimited.
CREATE FUNCTION anclax.retry(p_ids bigint[], p_actor text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_count bigint;
BEGIN
    WITH retried AS (
        UPDATE anclax.tasks AS t
        SET status = 'pending',
            run_at = now(),
            max_attempts = CASE WHEN t.max_attempts < 0 THEN -1 ELSE t.attempts + greatest(1, t.max_attempts - coalesce(
                (SELECT e.attempt FROM anclax.events AS e
                 WHERE e.task_id = t.id AND e.kind = 'TaskRetried' ORDER BY e.id DESC LIMIT 1), 0)) END,
            worker_id = NULL,
            cancel_requested = false,
            started_at = NULL,
            deadline_at = NULL,
            finished_at = NULL
        WHERE t.id = ANY(p_ids) AND t.status IN ('failed', 'cancelled')
        RETURNING t.id, t.attempts
    ), events AS (
        INSERT INTO anclax.events (task_id, kind, attempt, message)
        SELECT id, 'TaskRetried', attempts, 'retried by ' || p_actor FROM retried
    )
    SELECT count(*) INTO v_count FROM retried;
    IF v_count > 0 THEN
        -- An empty payload: workers re-check everything (the tasks are due now).
        PERFORM pg_notify('anclax_tasks', '');
    END IF;
    RETURN v_count;
END
$$;

-- Delete final tasks (completed, failed, cancelled) and their events; pending and running ones
-- are left alone (cancel them first). Returns how many tasks were deleted.
CREATE FUNCTION anclax.delete_tasks(p_ids bigint[]) RETURNS bigint
LANGUAGE sql AS $$
    WITH deleted AS (
        DELETE FROM anclax.tasks
        WHERE id = ANY(p_ids) AND status IN ('completed', 'failed', 'cancelled')
        RETURNING id
    ), events AS (
        DELETE FROM anclax.events AS e USING deleted AS d WHERE e.task_id = d.id
    )
    SELECT count(*) FROM deleted
$$;

-- Run a schedule's task once now, outside its cron times ("trigger now"): a plain task with the
-- schedule's parameters (${fireTime} = now) and options. It is not one of the schedule's fires
-- (no schedule_id), so the schedule's own fire times are untouched. Returns the task id, or
-- NULL when there is no such schedule.
CREATE FUNCTION anclax.trigger_schedule(p_schedule_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    INSERT INTO anclax.tasks (name, payload, priority, run_at, max_attempts, retry_intervals_ms, timeout_ms, labels)
    SELECT s.task_name, anclax.fire_payload(s.payload, now(), s.timezone), s.priority, now(), s.max_attempts,
           s.retry_intervals_ms, s.timeout_ms, s.labels
    FROM anclax.schedules AS s
    WHERE s.id = p_schedule_id
    RETURNING id INTO v_id;
    IF v_id IS NOT NULL THEN
        PERFORM pg_notify('anclax_tasks', '');
    END IF;
    RETURN v_id;
END
$$;
