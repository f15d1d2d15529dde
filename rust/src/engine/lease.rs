//! Worker registration, heartbeats (which extend the lease of every task the worker runs) and the
//! rescuer (which hands the tasks of workers that stopped heartbeating back to the queue).

use std::collections::HashSet;
use std::sync::Arc;

use crate::backoff::{Backoff, jittered};
use crate::db::dedicated::{DedicatedConnection, Session, deadline};
use crate::db::sql;
use crate::engine::stats::Stats;
use crate::engine::{Dispatch, Engine, Wake};
use crate::error::Result;

/// Insert this worker's row; returns its id.
pub async fn register(engine: &Engine, hostname: &str, version: &str) -> Result<i64> {
    deadline(
        engine.config.round_trip_timeout(),
        register_once(engine, hostname, version),
    )
    .await
}

async fn register_once(engine: &Engine, hostname: &str, version: &str) -> Result<i64> {
    let conn = engine.pool.get().await?;
    let sent = chrono::Utc::now();
    let row = conn
        .query_one(
            sql::REGISTER_WORKER,
            &[
                &hostname,
                &(std::process::id() as i32),
                &engine.config.labels,
                &(engine.config.concurrency as i32),
                &version,
                &lease_ms(engine),
                &engine.config.task_names,
                &async_slots(engine),
            ],
        )
        .await?;
    let id: i64 = row.get(0);
    let db_now: chrono::DateTime<chrono::Utc> = conn.query_one("SELECT now()", &[]).await?.get(0);
    engine.observe_db_time(db_now, sent);
    engine.set_worker_id(id);
    Ok(id)
}

pub async fn deregister(engine: &Engine) -> Result<()> {
    deadline(engine.config.round_trip_timeout(), async {
        let conn = engine.pool.get().await?;
        conn.execute(sql::DEREGISTER_WORKER, &[&engine.worker_id()]).await?;
        Ok(())
    })
    .await
}

/// The coroutine slots the worker has (what it can run, for the dashboard's Workers page).
fn async_slots(engine: &Engine) -> i32 {
    if engine.config.async_task_names.is_empty() {
        0
    } else {
        i32::try_from(engine.config.async_concurrency).unwrap_or(i32::MAX)
    }
}

fn lease_ms(engine: &Engine) -> i64 {
    i64::try_from(engine.config.lease_ttl.as_millis()).unwrap_or(i64::MAX)
}

/// Extend the lease every third of its TTL. When a heartbeat finds the lease already expired
/// (the process was frozen, or the database unreachable for longer than the TTL), every running
/// attempt is told it is cancelled (their results will be discarded: the rescuer may have handed
/// the tasks to others) and the worker registers anew.
/// The heartbeat loop's statements, on its own connection (see `db::dedicated`): heartbeats never
/// wait for a pooled connection that user code (a failure hook) holds.
const HEARTBEAT_STATEMENTS: &[&str] = &[
    sql::HEARTBEAT,
    "SELECT now()",
    sql::RUNNING_FOR_WORKER,
    sql::RELEASE_LOST,
];
const HEARTBEAT: usize = 0;
const NOW: usize = 1;
const RUNNING_FOR_WORKER: usize = 2;
const RELEASE_LOST: usize = 3;

pub async fn heartbeat_loop(engine: Arc<Engine>, dispatcher: Arc<dyn Dispatch>, hostname: String, version: String) {
    let mut shutdown = engine.shutdown_signal();
    let mut connection = DedicatedConnection::new(
        engine.pg_config.clone(),
        "heartbeat",
        HEARTBEAT_STATEMENTS,
        engine.config.heartbeat_timeout(),
    );
    let mut backoff = Backoff::default();
    let mut suspects = HashSet::new();
    loop {
        let delay = if backoff.attempts() == 0 {
            jittered(engine.config.heartbeat_interval())
        } else {
            backoff.next_delay()
        };
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            _ = shutdown.changed() => return,
        }
        let timeout = connection.timeout();
        let beat = match connection.session().await {
            Ok(session) => deadline(timeout, heartbeat(&engine, session)).await,
            Err(err) => Err(err),
        };
        if beat.is_err() {
            connection.reset();
        }
        match beat {
            Ok(true) => {
                backoff.reset();
                let reconciled = match connection.session().await {
                    Ok(session) => deadline(timeout, reconcile(&engine, session, &suspects)).await,
                    Err(err) => Err(err),
                };
                match reconciled {
                    Ok(next) => suspects = next,
                    Err(err) => {
                        connection.reset();
                        log::debug!("reconciling running tasks failed: {err}");
                    }
                }
            }
            Ok(false) => {
                Stats::add(&engine.stats.lease_losses, 1);
                log::warn!(
                    "worker {} lost its lease (no heartbeat within {:?}); its running tasks may be re-run elsewhere",
                    engine.worker_id(),
                    engine.config.lease_ttl
                );
                for attempt in engine.running.snapshot() {
                    attempt.task.control.cancel();
                    dispatcher.cancel(attempt.task.key);
                }
                match register(&engine, &hostname, &version).await {
                    Ok(id) => {
                        backoff.reset();
                        log::info!("worker registered again as {id}");
                        // Claims stopped with the lease (claim.sql): catch up on what came in meanwhile.
                        engine.wake(Wake::Now);
                    }
                    Err(err) => {
                        backoff.next_delay();
                        log::warn!("re-registering the worker failed: {err}");
                    }
                }
            }
            Err(err) => {
                let _ = backoff.next_delay();
                log::warn!("heartbeat failed: {err}");
            }
        }
    }
}

/// Compare the attempts the database says this worker runs with the ones it knows of. One it does
/// not know of is a claim whose response was lost (the connection broke after the claim
/// committed) or a result that could not be written: seen unknown twice in a row (a heartbeat
/// apart, long after any claim or result in flight arrived), it goes back to the queue at once
/// instead of waiting for its deadline. Returns the attempts unknown this time.
async fn reconcile(engine: &Engine, session: &Session, previous: &HashSet<(i64, i64)>) -> Result<HashSet<(i64, i64)>> {
    let conn = &session.client;
    let rows = conn
        .query(&session.prepared[RUNNING_FOR_WORKER], &[&engine.worker_id()])
        .await?;
    let known = engine.known_attempts();
    let mut unknown = HashSet::new();
    for row in &rows {
        let attempt: (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        if !known.contains(&attempt) {
            unknown.insert(attempt);
        }
    }
    let (ids, tokens): (Vec<i64>, Vec<i64>) = unknown.intersection(previous).copied().unzip();
    if !ids.is_empty() {
        let released: i64 = conn
            .query_one(&session.prepared[RELEASE_LOST], &[&engine.worker_id(), &ids, &tokens])
            .await?
            .try_get(0)?;
        if released > 0 {
            log::warn!(
                "released {released} task(s) this worker had lost track of (a claim or result lost with a connection)"
            );
            Stats::add(&engine.stats.released, released as u64);
            engine.wake(Wake::Now);
        }
    }
    Ok(unknown)
}

async fn heartbeat(engine: &Engine, session: &Session) -> Result<bool> {
    let conn = &session.client;
    let sent = chrono::Utc::now();
    let alive = conn
        .query_opt(
            &session.prepared[HEARTBEAT],
            &[
                &engine.worker_id(),
                &lease_ms(engine),
                &i32::try_from(engine.running.len()).unwrap_or(i32::MAX),
            ],
        )
        .await?
        .is_some();
    let db_now: chrono::DateTime<chrono::Utc> = conn.query_one(&session.prepared[NOW], &[]).await?.try_get(0)?;
    engine.observe_db_time(db_now, sent);
    Ok(alive)
}

/// The safety-net pass (orphans, deadlines) runs once per this many rescue passes.
const ORPHAN_PASS_EVERY: u32 = 10;

/// Every worker runs the rescuer; concurrent runs are harmless (row locks serialize them and
/// the second finds nothing left to rescue).
/// The rescuer's statements, on its own connection: a rescue that waits for row locks (held by a
/// frozen worker's transaction) delays no heartbeat.
const RESCUE_STATEMENTS: &[&str] = &[sql::RESCUE, sql::RESCUE_ORPHANS];
const RESCUE: usize = 0;
const RESCUE_ORPHANS: usize = 1;

pub async fn rescue_loop(engine: Arc<Engine>) {
    let mut shutdown = engine.shutdown_signal();
    let mut connection = DedicatedConnection::new(
        engine.pg_config.clone(),
        "rescue",
        RESCUE_STATEMENTS,
        engine.config.round_trip_timeout(),
    );
    // Running tasks far past their deadline are rescued even if their worker looks alive: the
    // worker should have finalized them within timeout_grace.
    let slack_ms =
        i64::try_from((engine.config.timeout_grace + engine.config.lease_ttl).as_millis()).unwrap_or(i64::MAX);
    let mut pass = 0u32;
    loop {
        tokio::select! {
            () = tokio::time::sleep(jittered(engine.config.rescue_interval())) => {}
            _ = shutdown.changed() => return,
        }
        pass = pass.wrapping_add(1);
        let orphans = pass % ORPHAN_PASS_EVERY == 0;
        let timeout = connection.timeout();
        let result = match connection.session().await {
            Ok(session) => deadline(timeout, rescue(session, orphans.then_some(slack_ms))).await,
            Err(err) => Err(err),
        };
        if result.is_err() {
            connection.reset();
        }
        match result {
            Ok((0, _)) => {}
            Ok((rescued, dead)) => {
                log::warn!("rescued {rescued} task(s) from {dead} worker(s) whose lease expired");
                Stats::add(&engine.stats.rescued, rescued);
                engine.wake(Wake::Now);
            }
            Err(err) => log::warn!("rescue pass failed: {err}"),
        }
    }
}

/// Rescue the tasks of dead workers and, with `orphan_slack_ms`, also orphans and tasks that
/// far outlived their deadline. Returns (tasks rescued, dead workers removed).
async fn rescue(session: &Session, orphan_slack_ms: Option<i64>) -> Result<(u64, u64)> {
    let conn = &session.client;
    let row = conn.query_one(&session.prepared[RESCUE], &[]).await?;
    let mut rescued: i64 = row.try_get(0)?;
    let dead: i64 = row.try_get(1)?;
    if let Some(slack_ms) = orphan_slack_ms {
        rescued += conn
            .query_one(&session.prepared[RESCUE_ORPHANS], &[&slack_ms])
            .await?
            .try_get::<_, i64>(0)?;
    }
    Ok((rescued as u64, dead as u64))
}
