//! Retention: final tasks older than their retention are deleted in batches, by one worker of
//! the fleet at a time (an advisory lock), so the table stays bounded under sustained load.

use std::sync::Arc;

use crate::backoff::jittered;
use crate::db::sql;
use crate::engine::Engine;
use crate::engine::stats::Stats;
use crate::error::Result;

/// Rows deleted per statement: small enough to keep locks and WAL bursts short.
const PRUNE_BATCH: i64 = 5000;
/// Fixed advisory lock key for retention ('anclax.prune').
const PRUNE_LOCK_KEY: i64 = 0x616e_636c_7072_756e;

pub async fn maintenance_loop(engine: Arc<Engine>) {
    let mut shutdown = engine.shutdown_signal();
    if engine.config.retention_completed.is_none() && engine.config.retention_failed.is_none() {
        // Nothing to do, but the loop lives as long as the worker: a supervised loop that ends
        // early means the engine broke (lifecycle::supervise).
        let _ = shutdown.wait_for(|&down| down).await;
        return;
    }
    loop {
        tokio::select! {
            () = tokio::time::sleep(jittered(engine.config.maintenance_interval)) => {}
            _ = shutdown.changed() => return,
        }
        match prune(&engine).await {
            Ok(0) => {}
            Ok(n) => {
                Stats::add(&engine.stats.pruned, n);
                log::info!("retention: deleted {n} finished task(s)");
            }
            Err(err) => log::debug!("retention pass failed: {err}"),
        }
    }
}

pub async fn prune(engine: &Engine) -> Result<u64> {
    let ms = |d: Option<std::time::Duration>| d.map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let completed = ms(engine.config.retention_completed);
    let failed = ms(engine.config.retention_failed);
    let mut conn = engine.pool.get().await?;
    let mut total = 0u64;
    loop {
        let tx = conn.transaction().await?;
        let locked: bool = tx
            .query_one("SELECT pg_try_advisory_xact_lock($1)", &[&PRUNE_LOCK_KEY])
            .await?
            .get(0);
        if !locked {
            return Ok(total);
        }
        // The range scans of tasks_finished_idx must not turn into a sequential scan of the table
        // when statistics are stale (see db::dedicated); LOCAL keeps this to the transaction.
        tx.batch_execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
            .await?;
        let deleted: i64 = tx
            .query_one(sql::PRUNE, &[&completed, &failed, &PRUNE_BATCH])
            .await?
            .get(0);
        tx.commit().await?;
        total += deleted as u64;
        // Each statement deletes up to PRUNE_BATCH of each kind (completed, failed or cancelled).
        if deleted < PRUNE_BATCH || engine.is_stopping() {
            return Ok(total);
        }
    }
}
