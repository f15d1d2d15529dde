//! Versioned schema migrations, applied in one transaction under an advisory lock so that many
//! workers starting at once are safe: the first applies, the others wait and find nothing to do.

use tokio_postgres::Client;

use crate::db::sql;
use crate::error::{Error, Result};

/// (version, name, SQL). Append only; never edit a released migration.
pub const MIGRATIONS: &[(i32, &str, &str)] = &[
    (1, "init", include_str!("migrations/0001_init.sql")),
    (2, "lanes", include_str!("migrations/0002_lanes.sql")),
    (4, "ui", include_str!("migrations/0004_ui.sql")),
    (5, "integrations", include_str!("migrations/0005_integrations.sql")),
    (6, "claim_token", include_str!("migrations/0006_claim_token.sql")),
    (7, "control", include_str!("migrations/0007_control.sql")),
];

/// The schema version this build needs.
pub const LATEST_VERSION: i32 = 7;

/// Arbitrary but fixed: the advisory lock key that serializes migrations (`'anclax.migrate'` in hex-ish).
const MIGRATION_LOCK_KEY: i64 = 0x616e_636c_6178_6d67;

const BOOTSTRAP: &str = "CREATE SCHEMA IF NOT EXISTS anclax;
CREATE TABLE IF NOT EXISTS anclax.migrations (
    version    integer PRIMARY KEY,
    name       text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);";

/// Apply every missing migration; returns the versions applied by this call.
pub async fn migrate(client: &mut Client) -> Result<Vec<i32>> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK_KEY])
        .await?;
    tx.batch_execute(BOOTSTRAP).await?;
    let current: i32 = tx.query_one(sql::SCHEMA_VERSION, &[]).await?.get(0);
    if current > LATEST_VERSION {
        return Err(newer_schema(current));
    }
    let mut applied = Vec::new();
    for &(version, name, migration) in MIGRATIONS.iter().filter(|(v, _, _)| *v > current) {
        tx.batch_execute(migration).await?;
        tx.execute(
            "INSERT INTO anclax.migrations (version, name) VALUES ($1, $2)",
            &[&version, &name],
        )
        .await?;
        applied.push(version);
    }
    tx.commit().await?;
    Ok(applied)
}

/// Fail unless the schema is exactly at the version this build needs.
pub async fn check(client: &Client) -> Result<()> {
    let version: i32 = client.query_one(sql::SCHEMA_VERSION, &[]).await?.get(0);
    match version.cmp(&LATEST_VERSION) {
        std::cmp::Ordering::Equal => Ok(()),
        std::cmp::Ordering::Greater => Err(newer_schema(version)),
        std::cmp::Ordering::Less => Err(Error::SchemaNotMigrated(format!(
            "the anclax schema is at version {version}, this anclax-fast needs {LATEST_VERSION}; \
             run `anclax-fast migrate` or Client.migrate()"
        ))),
    }
}

fn newer_schema(version: i32) -> Error {
    Error::SchemaNotMigrated(format!(
        "the anclax schema is at version {version}, newer than this anclax-fast understands ({LATEST_VERSION}); \
         upgrade the anclax-fast package"
    ))
}
