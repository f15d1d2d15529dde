//! Postgres access: connection pool, migrations, LISTEN, SQL statements and value conversion.
//! No Python here; the binding layer calls into these from detached threads or tokio tasks.

pub mod connect;
pub mod dedicated;
pub mod listen;
pub mod migrate;
pub mod pool;
pub mod query;
pub mod sql;
pub mod text;
pub mod tls;
pub mod transaction;
pub mod value;
