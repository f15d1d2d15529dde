-- Every lane (the table stays small: one row per task name, label set and priority in use); the
-- worker decides which ones it serves (engine/lanes.rs).
SELECT id, name, labels, priority FROM anclax.lanes
