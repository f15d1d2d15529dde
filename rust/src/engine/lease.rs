//! Worker registration, heartbeats (which extend the lease of every task the worker runs) and the
//! rescuer (which hands the tasks of workers that stopped heartbeating back to the queue).

use std::collections::HashSet;
use std::sync::Arc;

use crate::backoff::{Backoff, jittered};
use crate::db::sql;
use crate::engine::stats::Stats;
use crate::engine::{Dispatch, Engine, Wake};
use crate::error::Result;

/// Insert this worker's row; returns its id.
pub async fn register(engine: &Engine, hostname: &str, version: &str) -> Result<i64> {
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
    let conn = engine.pool.get().await?;
    conn.execute(sql::DEREGISTER_WORKER, &[&engine.worker_id()]).await?;
    Ok(())
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
pub async fn heartbeat_loop(engine: Arc<Engine>, dispatcher: Arc<dyn Dispatch>, hostname: String, version: String) {
    let mut shutdown = engine.shutdown_signal();
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
        match heartbeat(&engine).await {
            Ok(true) => {
                backoff.reset();
                match reconcile(&engine, &suspects).await {
                    Ok(next) => suspects = next,
                    Err(err) => log::debug!("reconciling running tasks failed: {err}"),
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
async fn reconcile(engine: &Engine, previous: &HashSet<(i64, i64)>) -> Result<HashSet<(i64, i64)>> {
    let conn = engine.pool.get().await?;
    let statement = conn.prepare_cached(sql::RUNNING_FOR_WORKER).await?;
    let rows = conn.query(&statement, &[&engine.worker_id()]).await?;
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
        let statement = conn.prepare_cached(sql::RELEASE_LOST).await?;
        let released: i64 = conn
            .query_one(&statement, &[&engine.worker_id(), &ids, &tokens])
            .await?
            .get(0);
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

async fn heartbeat(engine: &Engine) -> Result<bool> {
    let conn = engine.pool.get().await?;
    let statement = conn.prepare_cached(sql::HEARTBEAT).await?;
    let sent = chrono::Utc::now();
    let alive = conn
        .query_opt(
            &statement,
            &[
                &engine.worker_id(),
                &lease_ms(engine),
                &i32::try_from(engine.running.len()).unwrap_or(i32::MAX),
            ],
        )
        .await?
        .is_some();
    let db_now: chrono::DateTime<chrono::Utc> = conn.query_one("SELECT now()", &[]).await?.get(0);
    engine.observe_db_time(db_now, sent);
    Ok(alive)
}

/// The safety-net pass (orphans, deadlines) runs once per this many rescue passes.
const ORPHAN_PASS_EVERY: u32 = 10;

/// Every worker runs the rescuer; concurrent runs are harmless (row locks serialize them and
/// the second finds nothing left to rescue).
pub async fn rescue_loop(engine: Arc<Engine>) {
    let mut shutdown = engine.shutdown_signal();
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
        match rescue(&engine, orphans.then_some(slack_ms)).await {
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
pub async fn rescue(engine: &Engine, orphan_slack_ms: Option<i64>) -> Result<(u64, u64)> {
    let conn = engine.pool.get().await?;
    let statement = conn.prepare_cached(sql::RESCUE).await?;
    let row = conn.query_one(&statement, &[]).await?;
    let mut rescued: i64 = row.get(0);
    let dead: i64 = row.get(1);
    if let Some(slack_ms) = orphan_slack_ms {
        let statement = conn.prepare_cached(sql::RESCUE_ORPHANS).await?;
        rescued += conn.query_one(&statement, &[&slack_ms]).await?.get::<_, i64>(0);
    }
    Ok((rescued as u64, dead as u64))
}
