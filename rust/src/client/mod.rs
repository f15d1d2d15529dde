//! The client side of the engine: enqueue, inspect, cancel and wait, over a pool owned by a
//! `Client`. Pure Rust; `py::client` wraps it for Python.

mod enqueue;
mod wait;

use std::sync::Arc;

use deadpool_postgres::Pool;
use tokio_postgres::Config;

pub use enqueue::{EnqueueOptions, enqueue, enqueue_many};
pub use wait::DoneWatcher;

use crate::db::query::{self, QueryResult};
use crate::db::value::{SqlOut, SqlValue};
use crate::db::{migrate, pool, sql};
use crate::error::{Error, Result};

/// Statuses from which a task never moves again.
pub const FINAL_STATUSES: [&str; 3] = ["completed", "failed", "cancelled"];

pub struct ClientCore {
    pub config: Config,
    pub pool: Pool,
    pub done: Arc<DoneWatcher>,
}

impl ClientCore {
    pub fn new(config: Config, pool_size: usize) -> Result<Self> {
        let pool = pool::build(config.clone(), pool_size)?;
        let done = Arc::new(DoneWatcher::new(config.clone()));
        Ok(Self { config, pool, done })
    }

    pub async fn migrate(&self) -> Result<Vec<i32>> {
        let mut conn = self.pool.get().await?;
        let client: &mut tokio_postgres::Client = &mut conn;
        migrate::migrate(client).await
    }

    pub async fn check_schema(&self) -> Result<()> {
        let conn = self.pool.get().await?;
        migrate::check(&conn).await
    }

    /// The task row, or `TaskNotFound`.
    pub async fn task(&self, id: i64) -> Result<QueryResult> {
        let conn = self.pool.get().await?;
        let result = query::query(&conn, sql::TASK, &[SqlValue::Int(id)]).await?;
        if result.rows.is_empty() {
            return Err(Error::TaskNotFound(id));
        }
        Ok(result)
    }

    pub async fn events(&self, id: i64) -> Result<QueryResult> {
        let conn = self.pool.get().await?;
        query::query(&conn, sql::EVENTS, &[SqlValue::Int(id)]).await
    }

    /// `cancelled`, `requested` or `final`; `TaskNotFound` when there is no such task.
    pub async fn cancel(&self, id: i64) -> Result<String> {
        let conn = self.pool.get().await?;
        let row = conn.query_one(sql::CANCEL, &[&id]).await?;
        row.get::<_, Option<String>>(0).ok_or(Error::TaskNotFound(id))
    }

    pub async fn status(&self, id: i64) -> Result<Option<String>> {
        let conn = self.pool.get().await?;
        let row = conn.query_opt(sql::TASK_STATUS, &[&id]).await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Wait until the task is final; returns its status.
    pub async fn wait(&self, id: i64, timeout: Option<std::time::Duration>) -> Result<String> {
        self.done.wait(id, timeout, || self.status(id)).await
    }

    pub async fn execute(&self, statement: &str, values: &[SqlValue]) -> Result<Vec<Vec<SqlOut>>> {
        let conn = self.pool.get().await?;
        Ok(query::query(&conn, statement, values).await?.rows)
    }

    pub fn close(&self) {
        self.done.close();
        self.pool.close();
    }
}
