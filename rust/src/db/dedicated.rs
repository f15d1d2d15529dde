//! A connection owned by one engine loop (claims, completions): outside the pool, because it
//! carries planner settings that keep the loop's statements on their intended index plans.
//!
//! Why the settings: a queue table churns so fast that its statistics are always stale. Right
//! after a bulk insert they say the table is empty, and the planner then prefers a bitmap scan of
//! every due row plus a sort for a claim, or a hash join over a whole (bloated) partial index for
//! a completion, both of which cost a scan of the backlog per statement. Discouraging sequential
//! scans, bitmap scans, sorts and hash joins leaves the plans these statements are written for:
//! an ordered walk of `tasks_claim_idx` that stops after the limit, and primary-key lookups.
//! User SQL never runs on these connections.

use tokio_postgres::{Client, Statement};

use crate::db::connect::ConnectConfig;

use crate::error::{Error, Result};

const SESSION_SETTINGS: &str =
    "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; SET enable_hashjoin = off";

pub struct DedicatedConnection {
    config: ConnectConfig,
    statements: &'static [&'static str],
    session: Option<Session>,
}

pub struct Session {
    pub client: Client,
    /// Prepared in the order of `statements`.
    pub prepared: Vec<Statement>,
}

impl DedicatedConnection {
    #[must_use]
    pub fn new(config: ConnectConfig, statements: &'static [&'static str]) -> Self {
        Self {
            config,
            statements,
            session: None,
        }
    }

    /// The live session, (re)connecting and preparing when needed.
    pub async fn session(&mut self) -> Result<&Session> {
        if self.session.as_ref().is_some_and(|s| s.client.is_closed()) {
            self.session = None;
        }
        if self.session.is_none() {
            let (client, connection) = self.config.connect().await?;
            tokio::spawn(async move {
                if let Err(err) = connection.await {
                    log::debug!("dedicated connection ended: {err}");
                }
            });
            client.batch_execute(SESSION_SETTINGS).await?;
            let mut prepared = Vec::with_capacity(self.statements.len());
            for statement in self.statements {
                prepared.push(client.prepare(statement).await?);
            }
            self.session = Some(Session { client, prepared });
        }
        self.session
            .as_ref()
            .ok_or_else(|| Error::Unavailable("no dedicated connection".to_owned()))
    }

    /// Forget the session after an error, so the next use reconnects.
    pub fn reset(&mut self) {
        self.session = None;
    }
}
