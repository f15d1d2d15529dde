//! A permanent failure with a failure hook: one transaction that marks the task failed, writes
//! its events, runs the hook inside a savepoint, and commits (SEMANTICS.md §3).

use deadpool_postgres::{Object, Pool};

use crate::db::sql;
use crate::engine::task::{ClaimedTask, Failure};
use crate::error::Result;

pub enum FailureStart {
    /// The lease was lost (the task was rescued or re-claimed): nothing to do, no hook.
    LeaseLost,
    /// A cancel was requested meanwhile: the task is cancelled, no hook. Committed.
    Cancelled,
    /// Marked failed (with its final attempt count), events written, savepoint `hook` taken: run
    /// the hook on this connection, then call `finish`.
    Failed { conn: Box<Object>, attempts: i32 },
}

pub async fn begin(
    pool: &Pool,
    task: &ClaimedTask,
    failure: &Failure,
    error_event: bool,
    worker: i64,
) -> Result<FailureStart> {
    let conn = pool.get().await?;
    conn.batch_execute("BEGIN").await?;
    let Some(row) = conn
        .query_opt(sql::FAIL_ONE, &[&task.id, &task.attempt, &failure.message])
        .await?
    else {
        conn.batch_execute("ROLLBACK").await?;
        return Ok(FailureStart::LeaseLost);
    };
    let status: String = row.get(0);
    let attempts: i32 = row.get(1);
    let event = |kind: &'static str, message: String, traceback: Option<String>| {
        let conn = &conn;
        async move {
            conn.execute(
                sql::INSERT_EVENT,
                &[&task.id, &kind, &attempts, &message, &traceback, &worker],
            )
            .await
        }
    };
    if status == "cancelled" {
        event("TaskCancelled", "cancelled while running".to_owned(), None).await?;
        conn.execute("SELECT pg_notify($1, $2)", &[&sql::CHANNEL_DONE, &task.id.to_string()])
            .await?;
        conn.batch_execute("COMMIT").await?;
        return Ok(FailureStart::Cancelled);
    }
    if error_event {
        event("TaskError", failure.message.clone(), failure.traceback.clone()).await?;
    }
    event("TaskFailed", failure.message.clone(), failure.traceback.clone()).await?;
    conn.batch_execute("SAVEPOINT hook").await?;
    Ok(FailureStart::Failed {
        conn: Box::new(conn),
        attempts,
    })
}

/// End the failure transaction. `hook_error`: why the hook failed (it raised, or a statement it
/// ran failed): its writes are rolled back to the savepoint and a HookFailed event records why;
/// the task stays failed either way.
pub async fn finish(
    conn: Object,
    task_id: i64,
    attempts: i32,
    hook_error: Option<(String, Option<String>)>,
    worker: i64,
) -> Result<()> {
    match hook_error {
        None => conn.batch_execute("RELEASE SAVEPOINT hook").await?,
        Some((message, traceback)) => {
            conn.batch_execute("ROLLBACK TO SAVEPOINT hook").await?;
            conn.execute(
                sql::INSERT_EVENT,
                &[&task_id, &"HookFailed", &attempts, &message, &traceback, &worker],
            )
            .await?;
        }
    }
    conn.execute("SELECT pg_notify($1, $2)", &[&sql::CHANNEL_DONE, &task_id.to_string()])
        .await?;
    conn.batch_execute("COMMIT").await?;
    Ok(())
}
