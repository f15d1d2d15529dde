-- anclax-fast schema, version 5: propagation headers on tasks.
--
-- `headers` holds what travels with a task from the code that enqueued it to its attempts, as a
-- flat JSON object of strings (NULL when there is nothing): today the W3C trace context
-- (`traceparent`, `tracestate`) written by the OpenTelemetry integration, so that attempts join
-- or link the enqueuing trace. Adding the column is a catalog change only (no table rewrite).
ALTER TABLE anclax.tasks ADD COLUMN headers jsonb;

-- anclax.enqueue gains p_headers (last, defaulting to NULL, so callers of the ten-argument form
-- keep working). The body is version 2's with the headers added to the INSERT.
DROP FUNCTION anclax.enqueue(text, jsonb, integer, timestamptz, integer, bigint[], bigint, text[], text, bigint);
CREATE FUNCTION anclax.enqueue(
    p_name text, p_payload jsonb, p_priority integer, p_run_at timestamptz, p_max_attempts integer,
    p_retry_intervals_ms bigint[], p_timeout_ms bigint, p_labels text[], p_unique_tag text, p_parent_id bigint,
    p_headers jsonb DEFAULT NULL
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
             parent_id, lane, headers)
        VALUES
            (p_name, p_payload, p_priority, v_run_at, p_max_attempts, p_retry_intervals_ms, p_timeout_ms,
             p_labels, p_unique_tag, p_parent_id, v_lane, p_headers)
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
