//! A connection owned by one engine loop (claims, completions, heartbeats, rescues): outside the
//! pool, so that no user code (a failure hook holding pooled connections) can make the engine's
//! own statements wait, and because it carries planner settings that keep the loop's statements
//! on their intended index plans.
//!
//! Why the settings: a queue table churns so fast that its statistics are always stale. Right
//! after a bulk insert they say the table is empty, and the planner then prefers a bitmap scan of
//! every due row plus a sort for a claim, or a hash join over a whole (bloated) partial index for
//! a completion, both of which cost a scan of the backlog per statement. Discouraging sequential
//! scans, bitmap scans, sorts and hash joins leaves the plans these statements are written for:
//! an ordered walk of `tasks_claim_idx` that stops after the limit, and primary-key lookups.
//! User SQL never runs on these connections.
//!
//! Every round trip has a deadline: `statement_timeout` and `lock_timeout` on the session (a
//! statement stuck behind a lock fails instead of waiting), and a client-side timeout
//! (`deadline`, around each use of the session) for a server that does not answer at all (a frozen backend, a
//! half-open connection): the session is then dropped, its socket closed, and the next use
//! connects anew. Each connection names itself in `application_name` (`<name>:<loop>`), so it
//! can be told apart in `pg_stat_activity`.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_postgres::{Client, Statement};

use crate::db::connect::ConnectConfig;

use crate::error::{Error, Result};

const PLANNER_SETTINGS: &str =
    "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off; SET enable_hashjoin = off";

pub struct DedicatedConnection {
    config: ConnectConfig,
    statements: &'static [&'static str],
    timeout: Duration,
    session: Option<Session>,
}

pub struct Session {
    pub client: Client,
    /// Prepared in the order of `statements`.
    pub prepared: Vec<Statement>,
    /// Drives the socket; aborted with the session, which closes the socket even while a request
    /// is waiting for a server that does not answer.
    driver: JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl DedicatedConnection {
    /// `name` goes into `application_name`; `timeout` bounds every round trip (client side, and
    /// as the session's `statement_timeout`; `lock_timeout` is half of it).
    #[must_use]
    pub fn new(config: ConnectConfig, name: &str, statements: &'static [&'static str], timeout: Duration) -> Self {
        let mut config = config;
        let base = config.pg.get_application_name().unwrap_or("anclax-fast").to_owned();
        config.pg.application_name(format!("{base}:{name}"));
        Self {
            config,
            statements,
            timeout,
            session: None,
        }
    }

    /// The live session, (re)connecting and preparing when needed.
    pub async fn session(&mut self) -> Result<&Session> {
        if self.session.as_ref().is_some_and(|s| s.client.is_closed()) {
            self.session = None;
        }
        if self.session.is_none() {
            let timeout = self.timeout;
            let session = deadline(timeout, connect(&self.config, self.statements, timeout)).await?;
            self.session = Some(session);
        }
        self.session
            .as_ref()
            .ok_or_else(|| Error::Unavailable("no dedicated connection".to_owned()))
    }

    /// The round-trip deadline: callers wrap each use of the session in `deadline(timeout, ..)`
    /// and `reset` on an error.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Forget the session after an error, so the next use reconnects.
    pub fn reset(&mut self) {
        self.session = None;
    }
}

async fn connect(config: &ConnectConfig, statements: &[&str], timeout: Duration) -> Result<Session> {
    let (client, connection) = config.connect().await?;
    let driver = tokio::spawn(async move {
        if let Err(err) = connection.await {
            log::debug!("dedicated connection ended: {err}");
        }
    });
    // Wrapped at once: an error below drops the session and with it the socket.
    let mut session = Session {
        client,
        prepared: Vec::with_capacity(statements.len()),
        driver,
    };
    let timeout_ms = timeout.as_millis().max(1);
    let settings = format!(
        "{PLANNER_SETTINGS}; SET statement_timeout = {timeout_ms}; SET lock_timeout = {}",
        (timeout_ms / 2).max(1)
    );
    session.client.batch_execute(&settings).await?;
    for statement in statements {
        let prepared = session.client.prepare(statement).await?;
        session.prepared.push(prepared);
    }
    Ok(session)
}

/// `work`, or an `Unavailable` error once `timeout` passed without an answer.
pub async fn deadline<T>(timeout: Duration, work: impl Future<Output = Result<T>>) -> Result<T> {
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(Error::Unavailable(format!(
            "the database did not answer within {timeout:?} (the connection is dropped and made anew)"
        ))),
    }
}
