//! The engine's SQL, one statement per file under `sql/`, so it can be read, reviewed and
//! EXPLAINed as SQL. Statements are prepared once per connection (deadpool's statement cache).

macro_rules! statements {
    ($($name:ident => $file:literal),* $(,)?) => {
        $(pub const $name: &str = include_str!(concat!("sql/", $file));)*
    };
}

statements! {
    CLAIM => "claim.sql",
    COMPLETE => "complete.sql",
    FINALIZE => "finalize.sql",
    FAIL_ONE => "fail_one.sql",
    INSERT_EVENT => "insert_event.sql",
    RELEASE => "release.sql",
    RESCUE => "rescue.sql",
    RESCUE_ORPHANS => "rescue_orphans.sql",
    RUNNING_FOR_WORKER => "running_for_worker.sql",
    RELEASE_LOST => "release_lost.sql",
    LANES => "lanes.sql",
    ENSURE_LANE => "ensure_lane.sql",
    REGISTER_WORKER => "register_worker.sql",
    HEARTBEAT => "heartbeat.sql",
    DEREGISTER_WORKER => "deregister_worker.sql",
    ENQUEUE => "enqueue.sql",
    ENQUEUE_MANY => "enqueue_many.sql",
    TASK => "task.sql",
    TASK_STATUS => "task_status.sql",
    EVENTS => "events.sql",
    CANCEL => "cancel.sql",
    SCHEMA_VERSION => "schema_version.sql",
    PRUNE => "prune.sql",
    REGISTER_SCHEDULE => "register_schedule.sql",
    UNSCHEDULE => "unschedule.sql",
    SCHEDULES => "schedules.sql",
    SCHEDULE_TIMES => "schedule_times.sql",
    ADVANCE_SCHEDULE => "advance_schedule.sql",
    SCHEDULE_NEXT_FIRE => "schedule_next_fire.sql",
}

/// NOTIFY channels. `anclax_tasks`: new or released work (payload: `<lane>`, `<lane>@<due epoch
/// ms>`, or '' for "anything may be due": engine::wake);
/// `anclax_cancel`: a running task was cancelled (payload: its id); `anclax_done`: tasks reached a
/// final state (payload: comma-separated ids); `anclax_schedules`: cron schedules changed
/// (payload: the schedule id), or one was advanced to its next fire (`<id>@<epoch ms>`).
pub const CHANNEL_TASKS: &str = "anclax_tasks";
pub const CHANNEL_CANCEL: &str = "anclax_cancel";
pub const CHANNEL_DONE: &str = "anclax_done";
pub const CHANNEL_SCHEDULES: &str = "anclax_schedules";

/// Postgres caps a NOTIFY payload at 8000 bytes; batches that notify their ids stay below this
/// many tasks (an id is at most 19 digits plus a comma).
pub const MAX_NOTIFIED_IDS: usize = 390;
