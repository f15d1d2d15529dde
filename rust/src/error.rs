//! The one error type of the Rust side. `py::errors` converts it into the Python hierarchy
//! defined in `python/anclax_fast/errors.py`; nothing else maps errors to Python.

use std::fmt::Write as _;

use thiserror::Error;

use crate::cron::CronError;
use crate::duration::DurationError;

#[derive(Debug, Error)]
pub enum Error {
    /// An invalid option or argument (raised as `ConfigurationError`).
    #[error("{0}")]
    Invalid(String),
    /// A statement argument that its parameter's SQL type cannot take, found before anything was
    /// sent: `TypeError` when the Python type is wrong, `ValueError` when the value is (out of
    /// range, not valid JSON, ...). The connection and its transaction are unaffected.
    #[error("{message}")]
    Parameter { message: String, type_error: bool },
    /// The database cannot be reached or the connection broke (`DatabaseUnavailable`).
    #[error("{0}")]
    Unavailable(String),
    /// The server rejected a statement (`DatabaseError` with its SQLSTATE).
    #[error("{message}")]
    Database { message: String, sqlstate: Option<String> },
    /// The `anclax` schema is missing or too old (`SchemaNotMigrated`).
    #[error("{0}")]
    SchemaNotMigrated(String),
    #[error("no task with id {0}")]
    TaskNotFound(i64),
    #[error("a task with unique tag {tag:?} already exists (id {id})")]
    AlreadyExists { tag: String, id: i64 },
    #[error("task {0} did not reach a final state in time")]
    WaitTimeout(i64),
    /// An invalid cron expression, raised as `CronError`.
    #[error(transparent)]
    Cron(#[from] CronError),
    /// An invalid duration or retry interval, raised as `IntervalError`.
    #[error(transparent)]
    Duration(#[from] DurationError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// SQLSTATEs that mean "the anclax objects are not there": undefined schema, table, function.
const MISSING_OBJECT_STATES: [&str; 3] = ["3F000", "42P01", "42883"];

impl From<tokio_postgres::Error> for Error {
    fn from(err: tokio_postgres::Error) -> Self {
        if let Some(db) = err.as_db_error() {
            let sqlstate = db.code().code().to_owned();
            let mut message = db.message().to_owned();
            if let Some(detail) = db.detail() {
                let _ = write!(message, " (detail: {detail})");
            }
            if let Some(hint) = db.hint() {
                let _ = write!(message, " (hint: {hint})");
            }
            if MISSING_OBJECT_STATES.contains(&sqlstate.as_str()) && message.contains("anclax") {
                return Error::SchemaNotMigrated(format!(
                    "the anclax schema is missing or out of date ({message}); run `anclax-fast migrate` \
                     or Client.migrate()"
                ));
            }
            return Error::Database {
                message,
                sqlstate: Some(sqlstate),
            };
        }
        Error::Unavailable(format!("database connection failed: {}", with_causes(&err)))
    }
}

/// The error and its causes: tokio-postgres puts the reason a connection failed ("invalid peer
/// certificate: UnknownIssuer", "connection refused") in the source, not in its own message.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            let _ = write!(message, ": {text}");
        }
        source = cause.source();
    }
    message
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(err: deadpool_postgres::PoolError) -> Self {
        match err {
            deadpool_postgres::PoolError::Backend(e) => e.into(),
            deadpool_postgres::PoolError::Timeout(_) => {
                Error::Unavailable("timed out waiting for a database connection".to_owned())
            }
            deadpool_postgres::PoolError::Closed => Error::Unavailable("the client is closed".to_owned()),
            other => Error::Unavailable(format!("database connection pool: {other}")),
        }
    }
}

impl Error {
    /// Whether retrying the same operation later can succeed (connection trouble, not a bad statement).
    #[must_use]
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Unavailable(_) => true,
            // Class 08 (connection exception), 57P01..57P03 (admin shutdown, crash shutdown, cannot
            // connect now), 40001/40P01 (serialization failure, deadlock), 55P03 (lock_timeout)
            // and 57014 (statement_timeout, or a cancel): all worth a retry.
            Error::Database {
                sqlstate: Some(state), ..
            } => {
                state.starts_with("08")
                    || state.starts_with("57P")
                    || ["40001", "40P01", "55P03", "57014"].contains(&state.as_str())
            }
            _ => false,
        }
    }
}
