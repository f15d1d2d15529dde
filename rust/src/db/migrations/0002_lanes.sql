-- anclax-fast schema, version 2: lanes, and no cost that grows with the table.
--
-- A lane is what decides who may run a task and in which order: (task name, label set, priority).
-- Every task row carries its lane; the claim index is led by it, so a worker claims from the
-- lanes it can serve and never reads a task it cannot take (other names, labels it lacks), and a
-- lane's delayed tasks sit at the end of its run_at range where a claim never reaches them.
-- docs/architecture.md ("Lanes") explains the design; docs/deployment.md the upgrade.
--
-- Upgrading in place is safe while workers of version 1 still run: their claims stay correct
-- (they no longer find an index in their claim order, so they get slower until replaced), and
-- clients of version 1 keep enqueueing (the insert trigger gives their rows a lane).

CREATE TABLE anclax.lanes (
    id         integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- sha256 of (name, labels, priority): unique, and small enough for an index whatever the
    -- length of names and labels (a btree entry must fit in a third of a page).
    key        bytea       NOT NULL UNIQUE,
    name       text        NOT NULL,
    -- Sorted and without duplicates (anclax.canonical_labels), so one label set is one lane.
    labels     text[]      NOT NULL,
    priority   integer     NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION anclax.canonical_labels(p_labels text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT l ORDER BY l), '{}') FROM unnest(p_labels) AS l
$$;

-- The lane of (name, labels, priority), created on first use. Lanes are never deleted, so an id
-- once seen stays valid. Clients create a lane in its own transaction before they enqueue into
-- it inside a caller's transaction (client::lanes), so that a long transaction holding the first
-- insert of a lane does not make other enqueues of that lane wait for it.
CREATE FUNCTION anclax.lane(p_name text, p_labels text[], p_priority integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_labels text[] := anclax.canonical_labels(coalesce(p_labels, '{}'));
    -- JSON keeps the three parts apart whatever characters names and labels contain.
    v_key bytea := sha256(convert_to(jsonb_build_array(p_name, v_labels, p_priority)::text, 'UTF8'));
    v_id integer;
BEGIN
    LOOP
        SELECT id INTO v_id FROM anclax.lanes WHERE key = v_key;
        IF v_id IS NOT NULL THEN
            RETURN v_id;
        END IF;
        INSERT INTO anclax.lanes (key, name, labels, priority) VALUES (v_key, p_name, v_labels, p_priority)
        ON CONFLICT (key) DO NOTHING
        RETURNING id INTO v_id;
        IF v_id IS NOT NULL THEN
            RETURN v_id;
        END IF;
        -- A concurrent transaction created it and committed: the next SELECT sees it.
    END LOOP;
END
$$;

-- `lane` is NULL only on rows that were final before this migration (they are never claimed;
-- the trigger below gives them a lane if they are ever set back to pending).
ALTER TABLE anclax.tasks ADD COLUMN lane integer;
UPDATE anclax.tasks SET lane = anclax.lane(name, labels, priority) WHERE status IN ('pending', 'running');

-- Rows inserted without a lane (clients of version 1, hand-written SQL) and rows whose name,
-- labels or priority change get theirs here. The engine sets `lane` itself on its hot paths, and
-- its claims and completions never SET these columns, so neither trigger fires for them.
CREATE FUNCTION anclax.assign_lane() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.lane := anclax.lane(NEW.name, NEW.labels, NEW.priority);
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_lane_on_insert BEFORE INSERT ON anclax.tasks
    FOR EACH ROW WHEN (NEW.lane IS NULL) EXECUTE FUNCTION anclax.assign_lane();
CREATE TRIGGER tasks_lane_on_change BEFORE UPDATE OF name, labels, priority ON anclax.tasks
    FOR EACH ROW EXECUTE FUNCTION anclax.assign_lane();
CREATE TRIGGER tasks_lane_on_requeue BEFORE UPDATE OF status ON anclax.tasks
    FOR EACH ROW WHEN (NEW.lane IS NULL AND NEW.status = 'pending') EXECUTE FUNCTION anclax.assign_lane();

-- The claim walks one lane at a time in (run_at, id) order and stops at the first row not yet
-- due: delayed tasks of a lane are never read by a claim, and next-due lookups are one descent.
CREATE INDEX tasks_lane_idx ON anclax.tasks (lane, run_at, id) WHERE status = 'pending';
DROP INDEX anclax.tasks_claim_idx;
DROP INDEX anclax.tasks_due_idx;

-- Retention deletes through this index, touching only rows that are due for deletion; it also
-- serves "recently finished" listings. One entry per finished task.
CREATE INDEX tasks_finished_idx ON anclax.tasks (status, finished_at)
    WHERE status IN ('completed', 'failed', 'cancelled');

-- Enqueue: as in version 1, plus the lane, which the notification names (`<lane>` or
-- `<lane>@<due epoch ms>`) so that only workers serving it wake up.
CREATE OR REPLACE FUNCTION anclax.enqueue(
    p_name text, p_payload jsonb, p_priority integer, p_run_at timestamptz, p_max_attempts integer,
    p_retry_intervals_ms bigint[], p_timeout_ms bigint, p_labels text[], p_unique_tag text, p_parent_id bigint
) RETURNS TABLE (task_id bigint, inserted boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_run_at timestamptz := coalesce(p_run_at, now());
    v_lane integer := anclax.lane(p_name, p_labels, p_priority);
BEGIN
    LOOP
        INSERT INTO anclax.tasks AS t
            (name, payload, priority, run_at, max_attempts, retry_intervals_ms, timeout_ms, labels, unique_tag,
             parent_id, lane)
        VALUES
            (p_name, p_payload, p_priority, v_run_at, p_max_attempts, p_retry_intervals_ms, p_timeout_ms,
             p_labels, p_unique_tag, p_parent_id, v_lane)
        ON CONFLICT (unique_tag) WHERE unique_tag IS NOT NULL DO NOTHING
        RETURNING t.id INTO v_id;
        IF v_id IS NOT NULL THEN
            PERFORM pg_notify('anclax_tasks', anclax.wake_payload(v_lane, v_run_at));
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

-- The `anclax_tasks` payload for work in lane p_lane due at p_run_at: `<lane>` when due now,
-- `<lane>@<epoch ms>` when later (the worker sets a timer). An empty payload means "anything may
-- be due" (releases, rescues).
CREATE FUNCTION anclax.wake_payload(p_lane integer, p_run_at timestamptz) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT p_lane::text
        || CASE WHEN p_run_at > now() THEN '@' || (extract(epoch FROM p_run_at) * 1000)::bigint::text ELSE '' END
$$;

CREATE OR REPLACE FUNCTION anclax.create_fire(p_schedule_id bigint, p_fire_at timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint;
    v_lane integer;
BEGIN
    INSERT INTO anclax.tasks (name, payload, priority, run_at, max_attempts, retry_intervals_ms, timeout_ms, labels,
                              schedule_id, fire_at, lane)
    SELECT s.task_name, anclax.fire_payload(s.payload, p_fire_at, s.timezone), s.priority, p_fire_at,
           s.max_attempts, s.retry_intervals_ms, s.timeout_ms, s.labels, s.id, p_fire_at,
           anclax.lane(s.task_name, s.labels, s.priority)
    FROM anclax.schedules AS s
    WHERE s.id = p_schedule_id
    ON CONFLICT (schedule_id, fire_at) WHERE schedule_id IS NOT NULL DO NOTHING
    RETURNING id, lane INTO v_id, v_lane;
    IF v_id IS NULL THEN
        SELECT id INTO v_id FROM anclax.tasks WHERE schedule_id = p_schedule_id AND fire_at = p_fire_at;
    ELSE
        PERFORM pg_notify('anclax_tasks', anclax.wake_payload(v_lane, p_fire_at));
    END IF;
    RETURN v_id;
END
$$;
