//! An explicit transaction on a pooled connection, usable across calls (a Python `Tx`).
//!
//! A transaction that is dropped while still open never goes back to the pool: its connection
//! is closed instead, so the server rolls it back and no later borrower inherits it (nor the row
//! locks it holds). Engine code that needs a transaction (the failure hook path) uses this type
//! too, so that an error anywhere in it detaches the connection the same way.
//!
//! Statements that end or restructure the transaction (`BEGIN`, `COMMIT`, `ROLLBACK`,
//! `SAVEPOINT`, ...) are refused: the transaction's owner ends it. A failure hook's `ROLLBACK`
//! would otherwise undo the failure mark it runs in, and the task would run again.

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
        // Wrapped before BEGIN: if BEGIN fails, the connection's state is unknown and `Drop`
        // closes it rather than pooling it.
        let tx = Self {
            conn: Some(conn),
            failure: None,
        };
        tx.conn()?.batch_execute("BEGIN").await?;
        Ok(tx)
    }

    /// The connection, for engine statements run inside the transaction (never user SQL: that
    /// goes through `execute` and `query`, which refuse transaction control).
    pub fn client(&self) -> Result<&Object> {
        self.conn()
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
        refuse_transaction_control(sql)?;
        let result = query::execute(self.conn()?, sql, values).await;
        self.record(result)
    }

    pub async fn query(&mut self, sql: &str, values: &[SqlValue]) -> Result<QueryResult> {
        refuse_transaction_control(sql)?;
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

/// The leading keywords of statements that end, open or restructure a transaction.
const TRANSACTION_CONTROL: &[&str] = &[
    "BEGIN",
    "COMMIT",
    "ROLLBACK",
    "SAVEPOINT",
    "RELEASE",
    "START",
    "END",
    "ABORT",
];

fn refuse_transaction_control(sql: &str) -> Result<()> {
    let words = leading_words(sql, 2);
    let first = words.first().map(String::as_str).unwrap_or_default();
    let second = words.get(1).map(String::as_str).unwrap_or_default();
    let control = TRANSACTION_CONTROL.contains(&first) || (first == "PREPARE" && second == "TRANSACTION");
    if control {
        return Err(crate::error::Error::Invalid(format!(
            "{first} is not allowed in a Tx: the transaction is ended by its owner (the `with \
             client.transaction()` block, or for a failure hook the engine, which commits the hook's writes \
             together with the failure); raise an exception to roll back"
        )));
    }
    Ok(())
}

/// The first `n` words of `sql`, upper-cased, past whitespace and comments.
fn leading_words(sql: &str, n: usize) -> Vec<String> {
    let mut words = Vec::with_capacity(n);
    let mut rest = sql;
    while words.len() < n {
        rest = skip_space_and_comments(rest);
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        words.push(rest[..end].to_ascii_uppercase());
        rest = &rest[end..];
    }
    words
}

fn skip_space_and_comments(mut sql: &str) -> &str {
    loop {
        sql = sql.trim_start();
        if let Some(line) = sql.strip_prefix("--") {
            sql = line.find('\n').map_or("", |i| &line[i + 1..]);
        } else if sql.starts_with("/*") {
            // Block comments nest in Postgres.
            let mut depth = 0usize;
            let mut end = sql.len();
            let bytes = sql.as_bytes();
            let mut i = 0;
            while i + 1 < bytes.len() {
                if bytes[i] == b'/' && bytes[i + 1] == b'*' {
                    depth += 1;
                    i += 2;
                } else if bytes[i] == b'*' && bytes[i + 1] == b'/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            sql = &sql[end..];
        } else {
            return sql;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_control_is_refused_however_it_is_spelled() {
        for sql in [
            "ROLLBACK",
            "  rollback;",
            "-- undo\nROLLBACK",
            "/* a /* nested */ comment */ commit",
            "begin",
            "START TRANSACTION",
            "savepoint x",
            "RELEASE SAVEPOINT x",
            "end",
            "abort",
            "prepare transaction 'x'",
            "COMMIT PREPARED 'x'",
        ] {
            assert!(refuse_transaction_control(sql).is_err(), "{sql}");
        }
        for sql in [
            "SELECT 1",
            "INSERT INTO rollback_log VALUES (1)",
            "PREPARE q AS SELECT 1",
            "-- ROLLBACK\nSELECT 1",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "",
        ] {
            assert!(refuse_transaction_control(sql).is_ok(), "{sql}");
        }
    }
}
