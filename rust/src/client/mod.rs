//! The client side of the engine: enqueue, inspect, cancel and wait, over a pool owned by a
//! `Client`. Pure Rust; `py::client` wraps it for Python.

mod enqueue;
mod wait;

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use deadpool_postgres::Pool;

pub use enqueue::{EnqueueOptions, enqueue, enqueue_many};
pub use wait::DoneWatcher;

use crate::cron::CronSchedule;
use crate::db::connect::ConnectConfig;
use crate::db::query::{self, QueryResult, RawJson};
use crate::db::value::{SqlOut, SqlValue};
use crate::db::{migrate, pool, sql};
use crate::error::{Error, Result};

/// A cron task's schedule, as registered by `run_<task>(params)` or from the spec.
pub struct ScheduleRegistration<'a> {
    pub task_name: &'a str,
    /// '' for the schedule without a tag.
    pub unique_tag: &'a str,
    pub expression: &'a str,
    pub payload: &'a [u8],
    /// `spec` or `app`.
    pub source: &'a str,
    pub options: &'a EnqueueOptions,
}

/// Statuses from which a task never moves again.
pub const FINAL_STATUSES: [&str; 3] = ["completed", "failed", "cancelled"];

pub struct ClientCore {
    pub config: ConnectConfig,
    pub pool: Pool,
    pub done: Arc<DoneWatcher>,
    /// (name, labels, priority) whose lane is known to exist (lanes are never deleted).
    known_lanes: Mutex<HashSet<(String, Vec<String>, i32)>>,
}

impl ClientCore {
    pub fn new(config: ConnectConfig, pool_size: usize) -> Result<Self> {
        let pool = pool::build(config.clone(), pool_size)?;
        let done = Arc::new(DoneWatcher::new(config.clone()));
        Ok(Self {
            config,
            pool,
            done,
            known_lanes: Mutex::default(),
        })
    }

    /// Make sure the lane of (name, labels, priority) exists, creating it in a transaction of its
    /// own: an enqueue inside a caller's transaction would otherwise create it there, and every
    /// other enqueue into that lane would wait for that transaction to end (anclax.lane).
    pub async fn ensure_lane(&self, name: &str, labels: &[String], priority: i32) -> Result<()> {
        let key = (name.to_owned(), labels.to_vec(), priority);
        if self
            .known_lanes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(&key)
        {
            return Ok(());
        }
        let conn = self.pool.get().await?;
        let statement = conn.prepare_cached(sql::ENSURE_LANE).await?;
        conn.query_one(&statement, &[&name, &labels, &priority]).await?;
        self.known_lanes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key);
        Ok(())
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

    /// Insert one task; returns (id, inserted). `AlreadyExists` when the unique tag is taken and
    /// the options say `if_exists_raise`.
    pub async fn enqueue(&self, name: &str, payload: &[u8], options: &EnqueueOptions) -> Result<(i64, bool)> {
        let conn = self.pool.get().await?;
        let (id, inserted) = enqueue(&conn, name, payload, options).await?;
        if !inserted && options.if_exists_raise {
            return Err(Error::AlreadyExists {
                tag: options.unique_tag.clone().unwrap_or_default(),
                id,
            });
        }
        Ok((id, inserted))
    }

    /// Insert many tasks of one name with shared options in one round trip; ids in input order.
    pub async fn enqueue_many(&self, name: &str, payloads: &[&[u8]], options: &EnqueueOptions) -> Result<Vec<i64>> {
        let conn = self.pool.get().await?;
        enqueue_many(&conn, name, payloads, options).await
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

    /// Register or update the schedule of a cron task; returns the task id of its next fire.
    pub async fn register_schedule(&self, schedule: &ScheduleRegistration<'_>) -> Result<i64> {
        let cron = CronSchedule::parse(schedule.expression)?;
        let next = cron
            .next_after(chrono::Utc::now())
            .ok_or_else(|| Error::Invalid(format!("cron expression {:?} never fires", schedule.expression)))?;
        let timezone = cron.timezone().name().to_owned();
        let conn = self.pool.get().await?;
        let statement = conn.prepare_cached(sql::REGISTER_SCHEDULE).await?;
        let o = schedule.options;
        let row = conn
            .query_one(
                &statement,
                &[
                    &schedule.task_name,
                    &schedule.unique_tag,
                    &schedule.expression,
                    &timezone,
                    &RawJson(schedule.payload),
                    &schedule.source,
                    &o.priority,
                    &o.max_attempts,
                    &o.retry_intervals_ms,
                    &o.timeout_ms,
                    &o.labels,
                    &next,
                ],
            )
            .await?;
        Ok(row.get(0))
    }

    pub async fn unschedule(&self, task_name: &str, unique_tag: &str) -> Result<bool> {
        let conn = self.pool.get().await?;
        Ok(conn
            .query_one(sql::UNSCHEDULE, &[&task_name, &unique_tag])
            .await?
            .get(0))
    }

    pub async fn schedules(&self) -> Result<QueryResult> {
        let conn = self.pool.get().await?;
        query::query(&conn, sql::SCHEDULES, &[]).await
    }

    pub fn close(&self) {
        self.done.close();
        self.pool.close();
    }
}
