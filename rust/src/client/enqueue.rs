//! Enqueue one task (with unique-tag semantics) or many tasks in one round trip.

use chrono::{DateTime, Utc};
use deadpool_postgres::Object;

use crate::db::query::RawJson;
use crate::db::sql;
use crate::error::{Error, Result};

/// Everything about a task row but its name and payload, already validated by the caller
/// (Python's `ResolvedOptions`, read field by field in `py::options`).
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    pub priority: i32,
    pub run_at: Option<DateTime<Utc>>,
    pub max_attempts: i32,
    pub retry_intervals_ms: Vec<i64>,
    pub timeout_ms: i64,
    pub labels: Vec<String>,
    pub unique_tag: Option<String>,
    pub parent_id: Option<i64>,
    /// A taken unique tag raises `AlreadyExists` instead of returning the existing task's id.
    pub if_exists_raise: bool,
    /// Propagation headers (a JSON object of strings, e.g. the W3C trace context), stored on the row.
    pub headers: Option<String>,
    /// Tags (metadata that pause, resume and cancel select by), already sanitized.
    pub tags: Vec<String>,
}

impl EnqueueOptions {
    fn headers(&self) -> Option<RawJson<'_>> {
        self.headers.as_deref().map(|json| RawJson(json.as_bytes()))
    }
}

/// Insert one task (or find the one holding its unique tag). Returns (id, inserted).
pub async fn enqueue(conn: &Object, name: &str, payload: &[u8], options: &EnqueueOptions) -> Result<(i64, bool)> {
    let statement = conn.prepare_cached(sql::ENQUEUE).await?;
    let row = conn
        .query_one(
            &statement,
            &[
                &name,
                &RawJson(payload),
                &options.priority,
                &options.run_at,
                &options.max_attempts,
                &options.retry_intervals_ms,
                &options.timeout_ms,
                &options.labels,
                &options.unique_tag,
                &options.parent_id,
                &options.headers(),
                &options.tags,
            ],
        )
        .await?;
    Ok((row.get(0), row.get(1)))
}

/// Insert many tasks of one name with shared options in one statement; ids in input order.
pub async fn enqueue_many(conn: &Object, name: &str, payloads: &[&[u8]], options: &EnqueueOptions) -> Result<Vec<i64>> {
    if options.unique_tag.is_some() {
        return Err(Error::Invalid(
            "unique_tag cannot be used with a batch enqueue".to_owned(),
        ));
    }
    if payloads.is_empty() {
        return Ok(Vec::new());
    }
    let statement = conn.prepare_cached(sql::ENQUEUE_MANY).await?;
    let json: Vec<RawJson<'_>> = payloads.iter().map(|p| RawJson(p)).collect();
    let rows = conn
        .query(
            &statement,
            &[
                &name,
                &json,
                &options.priority,
                &options.run_at,
                &options.max_attempts,
                &options.retry_intervals_ms,
                &options.timeout_ms,
                &options.labels,
                &options.parent_id,
                &options.headers(),
                &options.tags,
            ],
        )
        .await?;
    let mut ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    // Ids come from one sequence in insertion order, so sorting restores the input order even if
    // the server returned rows in another order.
    ids.sort_unstable();
    Ok(ids)
}
