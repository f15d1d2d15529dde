//! Running user SQL (from `Tx`) with server-typed parameters, and JSON payload parameters.

use bytes::{BufMut, BytesMut};
use deadpool_postgres::Object;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

use crate::db::value::{SqlOut, SqlValue, TypeMismatch};
use crate::error::{Error, Result};

/// Rows as column names plus values, ready to become Python dicts.
#[derive(Debug, Default)]
pub struct QueryResult {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlOut>>,
}

fn params(values: &[SqlValue]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

/// Check the argument count, and encode every argument for its parameter's type before anything
/// is sent, so that a value the type cannot take is reported as such, with its position, and
/// leaves the connection and its transaction usable. (Left to tokio-postgres, the same failure is
/// an opaque "error serializing parameter N" that looks like a broken connection.)
fn check_params(statement: &tokio_postgres::Statement, values: &[SqlValue]) -> Result<()> {
    let expected = statement.params().len();
    if expected != values.len() {
        return Err(Error::Invalid(format!(
            "the statement has {expected} placeholder(s) ($1..${expected}) but {} argument(s) were given",
            values.len()
        )));
    }
    let mut scratch = BytesMut::new();
    for (index, (value, ty)) in values.iter().zip(statement.params()).enumerate() {
        scratch.clear();
        if let Err(err) = value.to_sql(ty, &mut scratch) {
            return Err(Error::Parameter {
                message: format!("parameter ${}: {err}", index + 1),
                type_error: err.is::<TypeMismatch>(),
            });
        }
    }
    Ok(())
}

/// Prepared statements kept per pooled connection for user SQL. Dynamic SQL (a new text per
/// call) would otherwise grow the cache, and the server's prepared statements, without limit;
/// past this many the connection's cache is emptied (its statements are closed on the server).
pub const MAX_CACHED_STATEMENTS: usize = 256;

async fn prepare(conn: &Object, sql: &str) -> Result<tokio_postgres::Statement> {
    if conn.statement_cache.size() >= MAX_CACHED_STATEMENTS {
        conn.statement_cache.clear();
    }
    Ok(conn.prepare_cached(sql).await?)
}

pub async fn execute(conn: &Object, sql: &str, values: &[SqlValue]) -> Result<u64> {
    let statement = prepare(conn, sql).await?;
    check_params(&statement, values)?;
    Ok(conn.execute(&statement, &params(values)).await?)
}

pub async fn query(conn: &Object, sql: &str, values: &[SqlValue]) -> Result<QueryResult> {
    let statement = prepare(conn, sql).await?;
    check_params(&statement, values)?;
    let rows = conn.query(&statement, &params(values)).await?;
    let columns: Vec<String> = statement.columns().iter().map(|c| c.name().to_owned()).collect();
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let mut values = Vec::with_capacity(columns.len());
        for (index, column) in columns.iter().enumerate() {
            let value: SqlOut = row.try_get(index).map_err(|err| Error::Database {
                message: format!("column {column:?}: {err}"),
                sqlstate: None,
            })?;
            values.push(value);
        }
        out.push(values);
    }
    Ok(QueryResult { columns, rows: out })
}

/// JSON text sent as-is to a json/jsonb parameter: no parse on our side, the server validates it.
#[derive(Debug)]
pub struct RawJson<'a>(pub &'a [u8]);

impl ToSql for RawJson<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        if *ty == Type::JSONB {
            // jsonb's binary input format: a version byte, then the text.
            out.put_u8(1);
        }
        out.put_slice(self.0);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }

    to_sql_checked!();
}

/// A json/jsonb column as its JSON text, without parsing it here (the executor's model parses it).
#[derive(Debug)]
pub struct JsonText(pub Vec<u8>);

impl<'a> FromSql<'a> for JsonText {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let text = if *ty == Type::JSONB {
            raw.get(1..).unwrap_or_default()
        } else {
            raw
        };
        Ok(Self(text.to_vec()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::JSON | Type::JSONB)
    }
}
