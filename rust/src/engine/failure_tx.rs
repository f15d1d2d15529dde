//! A permanent failure with a failure hook: one transaction that marks the task failed, writes
//! its events, runs the hook inside a savepoint, and commits (SEMANTICS.md §3).
//!
//! The transaction is a `db::transaction::Transaction`, like `Client.transaction()`'s: if any
//! statement fails (or the caller drops it), its connection is closed instead of going back to
//! the pool inside an open transaction that still holds the task's row lock.

use deadpool_postgres::Pool;

use crate::db::sql;
use crate::db::text::{clean, clean_owned};
use crate::db::transaction::Transaction;
use crate::engine::task::{ClaimedTask, Failure};
use crate::error::Result;

pub enum FailureStart {
    /// The lease was lost (the task was rescued or re-claimed): nothing to do, no hook.
    LeaseLost,
    /// A cancel was requested meanwhile: the task is cancelled, no hook. Committed.
    Cancelled,
    /// Marked failed (with its final attempt count), events written, savepoint `hook` taken: run
    /// the hook in this transaction, then call `finish`.
    Failed { tx: Box<Transaction>, attempts: i32 },
}

pub async fn begin(
    pool: &Pool,
    task: &ClaimedTask,
    failure: &Failure,
    error_event: bool,
    worker: i64,
) -> Result<FailureStart> {
    let mut tx = Transaction::begin(pool).await?;
    let conn = tx.client()?;
    let message = clean(&failure.message);
    let traceback = failure.traceback.as_deref().map(clean);
    let Some(row) = conn
        .query_opt(sql::FAIL_ONE, &[&task.id, &task.token, &message.as_ref()])
        .await?
    else {
        tx.finish(false).await?;
        return Ok(FailureStart::LeaseLost);
    };
    let status: String = row.try_get(0)?;
    let attempts: i32 = row.try_get(1)?;
    let event = Event {
        conn,
        task_id: task.id,
        attempts,
        worker,
    };
    if status == "cancelled" {
        event.insert("TaskCancelled", "cancelled while running", None).await?;
        conn.execute("SELECT pg_notify($1, $2)", &[&sql::CHANNEL_DONE, &task.id.to_string()])
            .await?;
        tx.finish(true).await?;
        return Ok(FailureStart::Cancelled);
    }
    if error_event {
        event.insert("TaskError", &message, traceback.as_deref()).await?;
    }
    event.insert("TaskFailed", &message, traceback.as_deref()).await?;
    conn.batch_execute("SAVEPOINT hook").await?;
    Ok(FailureStart::Failed {
        tx: Box::new(tx),
        attempts,
    })
}

struct Event<'a> {
    conn: &'a deadpool_postgres::Object,
    task_id: i64,
    attempts: i32,
    worker: i64,
}

impl Event<'_> {
    async fn insert(&self, kind: &str, message: &str, traceback: Option<&str>) -> Result<()> {
        self.conn
            .execute(
                sql::INSERT_EVENT,
                &[&self.task_id, &kind, &self.attempts, &message, &traceback, &self.worker],
            )
            .await?;
        Ok(())
    }
}

/// End the failure transaction. `hook_error`: why the hook failed (it raised, or a statement it
/// ran failed): its writes are rolled back to the savepoint and a HookFailed event records why;
/// the task stays failed either way.
pub async fn finish(
    mut tx: Transaction,
    task_id: i64,
    attempts: i32,
    hook_error: Option<(String, Option<String>)>,
    worker: i64,
) -> Result<()> {
    let conn = tx.client()?;
    match hook_error {
        None => conn.batch_execute("RELEASE SAVEPOINT hook").await?,
        Some((message, traceback)) => {
            conn.batch_execute("ROLLBACK TO SAVEPOINT hook").await?;
            let message = clean_owned(message);
            let traceback = traceback.map(clean_owned);
            conn.execute(
                sql::INSERT_EVENT,
                &[&task_id, &"HookFailed", &attempts, &message, &traceback, &worker],
            )
            .await?;
        }
    }
    conn.execute("SELECT pg_notify($1, $2)", &[&sql::CHANNEL_DONE, &task_id.to_string()])
        .await?;
    tx.finish(true).await
}
