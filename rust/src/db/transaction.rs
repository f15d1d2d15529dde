//! An explicit transaction on a pooled connection, usable across calls (a Python `Tx`).
//!
//! A transaction that is dropped while still open never goes back to the pool: its connection
//! is closed instead, so the server rolls it back and no later borrower inherits it.

use deadpool_postgres::{Object, Pool};

use crate::db::query::{self, QueryResult};
use crate::db::value::SqlValue;
use crate::error::Result;

pub struct Transaction {
    conn: Option<Object>,
    /// The first statement error: the transaction is aborted from then on.
    failure: Option<String>,
}

impl Transaction {
    pub async fn begin(pool: &Pool) -> Result<Self> {
        let conn = pool.get().await?;
        conn.batch_execute("BEGIN").await?;
        Ok(Self {
            conn: Some(conn),
            failure: None,
        })
    }

    /// Wrap a connection on which the caller already ran BEGIN.
    #[must_use]
    pub fn from_open(conn: Object) -> Self {
        Self {
            conn: Some(conn),
            failure: None,
        }
    }

    fn conn(&self) -> Result<&Object> {
        self.conn
            .as_ref()
            .ok_or_else(|| crate::error::Error::Invalid("the transaction is closed".to_owned()))
    }

    fn record<T>(&mut self, result: Result<T>) -> Result<T> {
        if let Err(err) = &result {
            if self.failure.is_none() && matches!(err, crate::error::Error::Database { .. }) {
                self.failure = Some(err.to_string());
            }
        }
        result
    }

    pub async fn execute(&mut self, sql: &str, values: &[SqlValue]) -> Result<u64> {
        let result = query::execute(self.conn()?, sql, values).await;
        self.record(result)
    }

    pub async fn query(&mut self, sql: &str, values: &[SqlValue]) -> Result<QueryResult> {
        let result = query::query(self.conn()?, sql, values).await;
        self.record(result)
    }

    /// The error that aborted the transaction, if a statement failed.
    #[must_use]
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    #[must_use]
    pub fn is_open(&self) -> bool {
        self.conn.is_some()
    }

    /// Give the connection back to the engine code that opened the transaction (hook path).
    pub fn take_connection(&mut self) -> Option<Object> {
        self.conn.take()
    }

    pub async fn finish(&mut self, commit: bool) -> Result<()> {
        let conn = self.conn()?;
        let result = conn.batch_execute(if commit { "COMMIT" } else { "ROLLBACK" }).await;
        match result {
            Ok(()) => {
                // Back to the pool, clean.
                self.conn = None;
                Ok(())
            }
            Err(err) => {
                // Unknown state: drop the connection rather than pool it.
                if let Some(conn) = self.conn.take() {
                    drop(Object::take(conn));
                }
                Err(err.into())
            }
        }
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            drop(Object::take(conn));
        }
    }
}
