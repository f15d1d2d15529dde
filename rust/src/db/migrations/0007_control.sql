-- anclax-fast schema, version 7: the control plane (docs/control-plane.md): tags, the `paused`
-- status, paused task names, cascading cancel, paused cron schedules.
--
-- Every column added here has a constant default, so adding it rewrites nothing. The two indexes
-- are built in the migration's transaction; each holds only the rows its predicate selects
-- (tagged tasks, paused tasks), so on a table without either they are empty and quick to build.

-- Tags: free-form metadata set at enqueue (or in the spec), which pause, resume and cancel select
-- tasks by. Sanitized by the client (non-empty, no NUL, bounded: anclax_fast.runner).
-- pause_requested: a running task was paused; when its attempt ends it becomes `paused` instead
-- of going back to `pending` (tasks_pause_on_settle below). Final outcomes stay final.
ALTER TABLE anclax.tasks
    ADD COLUMN tags            text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN pause_requested boolean NOT NULL DEFAULT false;

-- `paused`: a task that waits for `resume`. It is not in tasks_lane_idx (`WHERE status =
-- 'pending'`), so no claim ever reads it. The new check allows a superset of the old one, which
-- every existing row satisfies: NOT VALID skips a scan of the whole table under the migration's
-- lock, and the check still applies to every row written from now on.
ALTER TABLE anclax.tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE anclax.tasks ADD CONSTRAINT tasks_status_check
    CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled', 'paused')) NOT VALID;

-- Tagged tasks only: untagged rows (the common case) cost nothing on insert, claim or completion.
-- Queries spell out `tags <> '{}'` beside `tags @> $n` so that the planner can use it.
CREATE INDEX tasks_tags_idx ON anclax.tasks USING gin (tags) WHERE tags <> '{}';
-- Paused tasks by name: resume of a task name, and the counts by status. One entry per paused task.
CREATE INDEX tasks_paused_idx ON anclax.tasks (name, id) WHERE status = 'paused';

-- Task names paused as a whole: every task of the name enqueued while its row exists starts
-- `paused` (anclax.enqueue, enqueue_many.sql, create_fire, trigger_schedule consult it).
CREATE TABLE anclax.paused_names (
    name      text        PRIMARY KEY,
    paused_at timestamptz NOT NULL DEFAULT now()
);

-- A paused schedule is skipped by the scheduler (schedule_times.sql, advance_schedule.sql) and
-- its next fire's row waits `paused`.
ALTER TABLE anclax.schedules ADD COLUMN paused boolean NOT NULL DEFAULT false;

-- The status a new task of name p_name starts in.
CREATE FUNCTION anclax.initial_status(p_name text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN EXISTS (SELECT 1 FROM anclax.paused_names AS p WHERE p.name = p_name)
                THEN 'paused' ELSE 'pending' END
$$;

-- A running task that was paused leaves `running` (success, failure, retry, rescue, release,
-- cancel): a retry (or a rescue, or a release) becomes `paused` instead of `pending`; any other
-- outcome stands. The claim and completion statements never set pause_requested, so this costs
-- them only the WHEN check.
CREATE FUNCTION anclax.settle_pause() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.pause_requested := false;
    IF NEW.status = 'pending' THEN
        NEW.status := 'paused';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_pause_on_settle BEFORE UPDATE OF status ON anclax.tasks
    FOR EACH ROW WHEN (OLD.pause_requested AND NEW.status <> 'running') EXECUTE FUNCTION anclax.settle_pause();

-- anclax.enqueue gains p_tags (defaulting to NULL, so callers of the eleven-argument form keep
-- working; the engine passes it by name) and starts the task `paused` when its name is paused.
DROP FUNCTION anclax.enqueue(text, jsonb, integer, timestamptz, integer, bigint[], bigint, text[], text, bigint, jsonb);
CREATE FUNCTION anclax.enqueue(
    p_name text, p_payload jsonb, p_priority integer, p_run_at timestamptz, p_max_attempts integer,
    p_retry_intervals_ms bigint[], p_timeout_ms bigint, p_labels text[], p_unique_tag text, p_parent_id bigint,
    p_headers jsonb DEFAULT NULL, p_tags text[] DEFAULT NULL
) RETURNS TABLE (task_id bigint, inserted boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_run_at timestamptz := coalesce(p_run_at, now());
    v_lane integer := anclax.lane(p_name, p_labels, p_priority);
    v_status text := anclax.initial_status(p_name);
BEGIN
    LOOP
        INSERT INTO anclax.tasks AS t
            (name, payload, priority, run_at, max_attempts, retry_intervals_ms, timeout_ms, labels, unique_tag,
             parent_id, lane, headers, tags, status)
        VALUES
            (p_name, p_payload, p_priority, v_run_at, p_max_attempts, p_retry_intervals_ms, p_timeout_ms,
             p_labels, p_unique_tag, p_parent_id, v_lane, p_headers, coalesce(p_tags, '{}'), v_status)
        ON CONFLICT (unique_tag) WHERE unique_tag IS NOT NULL DO NOTHING
        RETURNING t.id INTO v_id;
        IF v_id IS NOT NULL THEN
            IF v_status = 'pending' THEN
                PERFORM pg_notify('anclax_tasks', anclax.wake_payload(v_lane, v_run_at));
            END IF;
            RETURN QUERY SELECT v_id, true;
            RETURN;
        END IF;
        SELECT t.id INTO v_id FROM anclax.tasks t WHERE t.unique_tag = p_unique_tag;
        IF v_id IS NOT NULL THEN
            RETURN QUERY SELECT v_id, false;
            RETURN;
        END IF;
        -- The conflicting row was deleted (retention) between the two statements: try again.
    END LOOP;
END
$$;

-- Cancel: as in version 1, and a paused task is cancelled at once like a pending one.
CREATE OR REPLACE FUNCTION anclax.cancel(p_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_status text;
BEGIN
    SELECT status INTO v_status FROM anclax.tasks WHERE id = p_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    ELSIF v_status IN ('pending', 'paused') THEN
        UPDATE anclax.tasks SET status = 'cancelled', finished_at = now() WHERE id = p_id;
        INSERT INTO anclax.events (task_id, kind, attempt, message)
            SELECT id, 'TaskCancelled', attempts, 'cancelled before it ran' FROM anclax.tasks WHERE id = p_id;
        PERFORM pg_notify('anclax_done', p_id::text);
        RETURN 'cancelled';
    ELSIF v_status = 'running' THEN
        UPDATE anclax.tasks SET cancel_requested = true WHERE id = p_id;
        PERFORM pg_notify('anclax_cancel', p_id::text);
        RETURN 'requested';
    END IF;
    RETURN 'final';
END
$$;

-- Cancel tasks p_ids and, with p_cascade, every descendant (children via parent_id, their
-- children, ...), each through anclax.cancel. Returns one row per task looked at (the given ones
-- that exist, and their descendants) with anclax.cancel's outcome, in id order. The walk goes
-- through tasks_parent_idx, one descent per task of the tree; final tasks are walked through too
-- (a completed parent may have pending children).
CREATE FUNCTION anclax.cancel_tree(p_ids bigint[], p_cascade boolean)
RETURNS TABLE (task_id bigint, outcome text)
LANGUAGE sql AS $$
    WITH RECURSIVE tree(id) AS (
        SELECT t.id FROM anclax.tasks AS t WHERE t.id = ANY(p_ids)
        UNION
        SELECT c.id FROM tree JOIN anclax.tasks AS c ON c.parent_id = tree.id WHERE p_cascade
    )
    SELECT tree.id, anclax.cancel(tree.id) FROM tree ORDER BY tree.id
$$;

-- Create a fire's row: as in version 2, and `paused` when the schedule or the task name is paused.
CREATE OR REPLACE FUNCTION anclax.create_fire(p_schedule_id bigint, p_fire_at timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_lane integer;
    v_status text;
BEGIN
    INSERT INTO anclax.tasks (name, payload, priority, run_at, max_attempts, retry_intervals_ms, timeout_ms, labels,
                              schedule_id, fire_at, lane, status)
    SELECT s.task_name, anclax.fire_payload(s.payload, p_fire_at, s.timezone), s.priority, p_fire_at,
           s.max_attempts, s.retry_intervals_ms, s.timeout_ms, s.labels, s.id, p_fire_at,
           anclax.lane(s.task_name, s.labels, s.priority),
           CASE WHEN s.paused THEN 'paused' ELSE anclax.initial_status(s.task_name) END
    FROM anclax.schedules AS s
    WHERE s.id = p_schedule_id
    ON CONFLICT (schedule_id, fire_at) WHERE schedule_id IS NOT NULL DO NOTHING
    RETURNING id, lane, status INTO v_id, v_lane, v_status;
    IF v_id IS NULL THEN
        SELECT id INTO v_id FROM anclax.tasks WHERE schedule_id = p_schedule_id AND fire_at = p_fire_at;
    ELSIF v_status = 'pending' THEN
        PERFORM pg_notify('anclax_tasks', anclax.wake_payload(v_lane, p_fire_at));
    END IF;
    RETURN v_id;
END
$$;

-- Register (or update) a schedule: as in version 1, except that the waiting next fire may be
-- `paused` (a paused schedule stays paused when a worker registers its spec again).
CREATE OR REPLACE FUNCTION anclax.register_schedule(
    p_task_name text, p_unique_tag text, p_expression text, p_timezone text, p_payload jsonb, p_source text,
    p_priority integer, p_max_attempts integer, p_retry_intervals_ms bigint[], p_timeout_ms bigint, p_labels text[],
    p_next_fire timestamptz
) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_schedule anclax.schedules;
    v_created bigint;
BEGIN
    INSERT INTO anclax.schedules AS s (task_name, unique_tag, cron_expression, timezone, payload, source, priority,
                                       max_attempts, retry_intervals_ms, timeout_ms, labels, next_fire_at)
    VALUES (p_task_name, p_unique_tag, p_expression, p_timezone, p_payload, p_source, p_priority, p_max_attempts,
            p_retry_intervals_ms, p_timeout_ms, p_labels, p_next_fire)
    ON CONFLICT (task_name, unique_tag) DO NOTHING
    RETURNING s.id INTO v_created;
    SELECT * INTO v_schedule FROM anclax.schedules
    WHERE task_name = p_task_name AND unique_tag = p_unique_tag FOR UPDATE;
    IF v_created IS NULL THEN
        UPDATE anclax.schedules
        SET payload = p_payload, source = p_source, priority = p_priority, max_attempts = p_max_attempts,
            retry_intervals_ms = p_retry_intervals_ms, timeout_ms = p_timeout_ms, labels = p_labels,
            timezone = p_timezone, updated_at = now(),
            cron_expression = p_expression,
            next_fire_at = CASE WHEN cron_expression = p_expression THEN next_fire_at ELSE p_next_fire END
        WHERE id = v_schedule.id;
        IF v_schedule.cron_expression <> p_expression THEN
            -- The old next fire belongs to the old expression.
            UPDATE anclax.tasks SET status = 'cancelled', finished_at = now(),
                   last_error = 'the schedule was re-registered with a new cron expression'
            WHERE schedule_id = v_schedule.id AND status IN ('pending', 'paused');
        ELSE
            UPDATE anclax.tasks AS t
            SET payload = anclax.fire_payload(p_payload, t.fire_at, p_timezone), priority = p_priority,
                max_attempts = p_max_attempts, retry_intervals_ms = p_retry_intervals_ms, timeout_ms = p_timeout_ms,
                labels = p_labels
            WHERE t.schedule_id = v_schedule.id AND t.status IN ('pending', 'paused');
        END IF;
        SELECT * INTO v_schedule FROM anclax.schedules WHERE id = v_schedule.id;
    END IF;
    PERFORM pg_notify('anclax_schedules', v_schedule.id::text);
    RETURN anclax.create_fire(v_schedule.id, v_schedule.next_fire_at);
END
$$;

-- Remove a schedule: as in version 1, and a paused next fire is cancelled too.
CREATE OR REPLACE FUNCTION anclax.unschedule(p_task_name text, p_unique_tag text) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
BEGIN
    DELETE FROM anclax.schedules WHERE task_name = p_task_name AND unique_tag = p_unique_tag RETURNING id INTO v_id;
    IF v_id IS NULL THEN
        RETURN false;
    END IF;
    WITH cancelled AS (
        UPDATE anclax.tasks SET status = 'cancelled', finished_at = now(), last_error = 'the schedule was removed'
        WHERE schedule_id = v_id AND status IN ('pending', 'paused')
        RETURNING id, attempts
    )
    INSERT INTO anclax.events (task_id, kind, attempt, message)
    SELECT id, 'TaskCancelled', attempts, 'the schedule was removed' FROM cancelled;
    PERFORM pg_notify('anclax_schedules', v_id::text);
    RETURN true;
END
$$;

-- Run a schedule's task once now: as in version 4, and `paused` when its task name is paused.
CREATE OR REPLACE FUNCTION anclax.trigger_schedule(p_schedule_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_status text;
BEGIN
    INSERT INTO anclax.tasks (name, payload, priority, run_at, max_attempts, retry_intervals_ms, timeout_ms, labels,
                              status)
    SELECT s.task_name, anclax.fire_payload(s.payload, now(), s.timezone), s.priority, now(), s.max_attempts,
           s.retry_intervals_ms, s.timeout_ms, s.labels, anclax.initial_status(s.task_name)
    FROM anclax.schedules AS s
    WHERE s.id = p_schedule_id
    RETURNING id, status INTO v_id, v_status;
    IF v_status = 'pending' THEN
        PERFORM pg_notify('anclax_tasks', '');
    END IF;
    RETURN v_id;
END
$$;

-- Pause schedule p_id: the scheduler stops advancing it, and the row of its next fire (pending,
-- ahead of time) waits `paused`. A fire already running is left to finish. Returns whether it
-- changed (false: no such schedule, or already paused).
CREATE FUNCTION anclax.pause_schedule(p_id bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE anclax.schedules SET paused = true, updated_at = now() WHERE id = p_id AND NOT paused;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE anclax.tasks SET status = 'paused' WHERE schedule_id = p_id AND status = 'pending';
    PERFORM pg_notify('anclax_schedules', p_id::text);
    RETURN true;
END
$$;

-- Resume schedule p_id. Its waiting fire runs at its time if that is still ahead; a fire whose
-- time passed while the schedule was paused is skipped (cancelled, with a reason), and the
-- schedule moves to p_next_fire (the first fire time after now, computed by the caller with the
-- Rust cron parser): resuming never fires the missed backlog. Returns whether it changed.
CREATE FUNCTION anclax.resume_schedule(p_id bigint, p_next_fire timestamptz) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_schedule anclax.schedules;
BEGIN
    SELECT * INTO v_schedule FROM anclax.schedules WHERE id = p_id AND paused FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    UPDATE anclax.schedules SET paused = false, updated_at = now() WHERE id = p_id;
    IF v_schedule.next_fire_at > now() THEN
        UPDATE anclax.tasks SET status = anclax.initial_status(name)
        WHERE schedule_id = p_id AND fire_at = v_schedule.next_fire_at AND status = 'paused';
    ELSE
        WITH skipped AS (
            UPDATE anclax.tasks
            SET status = 'cancelled', finished_at = now(),
                last_error = 'skipped: its cron schedule was paused at its fire time'
            WHERE schedule_id = p_id AND status = 'paused'
            RETURNING id, attempts, last_error
        )
        INSERT INTO anclax.events (task_id, kind, attempt, message)
        SELECT id, 'TaskCancelled', attempts, last_error FROM skipped;
        UPDATE anclax.schedules SET next_fire_at = p_next_fire WHERE id = p_id;
        PERFORM anclax.create_fire(p_id, p_next_fire);
    END IF;
    PERFORM pg_notify('anclax_tasks', '');
    PERFORM pg_notify('anclax_schedules', p_id::text);
    RETURN true;
END
$$;
