//! The claim loop: claims as many due tasks as there are idle executor slots, in one statement per
//! slot kind, and sleeps until a notification, a timer (the next delayed task) or the poll.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backoff::{Backoff, jittered};
use crate::db::dedicated::{DedicatedConnection, Session};
use crate::db::query::JsonText;
use crate::db::sql;
use crate::engine::config::MAX_CLAIM_BATCH;
use crate::engine::running::RunningAttempt;
use crate::engine::stats::Stats;
use crate::engine::task::{AttemptControl, ClaimedTask};
use crate::engine::{Dispatch, Engine, SlotKind, Wake};
use crate::error::Result;
use crate::schedule::TimerHeap;

/// While the queue has more work, wait this long at most for a quarter of the slots to free up
/// before claiming again: a claim per freed slot would cost a round trip per task.
const REFILL_WAIT: Duration = Duration::from_millis(2);

/// Wake-up times further apart than this are merged, bounding the timer heap under bursts of
/// delayed tasks.
const TIMER_RESOLUTION_MS: i64 = 1;

/// The claim loop's statements, prepared on its own connection (see `db::dedicated`).
const CLAIM_STATEMENTS: &[&str] = &[sql::CLAIM, sql::NEXT_DUE];
const CLAIM: usize = 0;
const NEXT_DUE: usize = 1;

pub async fn claim_loop(engine: Arc<Engine>, dispatcher: Arc<dyn Dispatch>, mut wakes: mpsc::UnboundedReceiver<Wake>) {
    let mut stopping = engine.stopping();
    let mut connection = DedicatedConnection::new(engine.pg_config.clone(), CLAIM_STATEMENTS);
    let mut timers: TimerHeap<i64, DateTime<Utc>> = TimerHeap::new();
    let mut backoff = Backoff::default();
    let mut more = true;
    while !*stopping.borrow() {
        let idle = engine.slots.idle(SlotKind::Sync) + engine.slots.idle(SlotKind::Async);
        if idle == 0 {
            tokio::select! {
                () = engine.slots.freed.notified() => {}
                _ = stopping.changed() => {}
            }
            continue;
        }
        if more {
            wait_for_refill(&engine).await;
        } else {
            let next_timer = timers.peek().map(|(_, at)| Instant::now() + engine.until(at));
            let poll = tokio::time::sleep(jittered(engine.config.poll_interval));
            tokio::select! {
                wake = wakes.recv() => {
                    match wake {
                        Some(Wake::At(at)) if at > engine.db_now() => {
                            timers.insert(at.timestamp_millis() / TIMER_RESOLUTION_MS, at);
                            continue;
                        }
                        Some(_) => {}
                        None => return,
                    }
                }
                () = sleep_until_opt(next_timer) => {}
                () = poll => {}
                _ = stopping.changed() => continue,
            }
        }
        // Timers that are due now are served by this claim.
        let now = engine.db_now();
        timers.pop_due(now).for_each(drop);
        while let Ok(wake) = wakes.try_recv() {
            if let Wake::At(at) = wake {
                if at > now {
                    timers.insert(at.timestamp_millis() / TIMER_RESOLUTION_MS, at);
                }
            }
        }
        match claim_round(&engine, &mut connection, dispatcher.as_ref()).await {
            Ok(full) => {
                backoff.reset();
                more = full;
                if !full {
                    match next_due(&mut connection).await {
                        Ok(Some(at)) => {
                            timers.insert(at.timestamp_millis() / TIMER_RESOLUTION_MS, at);
                        }
                        Ok(None) => {}
                        Err(err) => log::debug!("next-due query failed: {err}"),
                    }
                }
            }
            Err(err) => {
                more = false;
                connection.reset();
                let delay = backoff.next_delay();
                if err.is_transient() {
                    log::warn!("claim failed: {err}; retrying in {delay:?}");
                } else {
                    log::error!("claim failed: {err}; retrying in {delay:?}");
                }
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = stopping.changed() => {}
                }
            }
        }
    }
}

async fn sleep_until_opt(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// With more work queued, let slots accumulate briefly so that claims stay large.
async fn wait_for_refill(engine: &Engine) {
    let threshold = |kind| (engine.slots.total(kind) / 4).max(1);
    let deadline = Instant::now() + REFILL_WAIT;
    loop {
        let enough = [SlotKind::Sync, SlotKind::Async]
            .into_iter()
            .any(|kind| engine.slots.total(kind) > 0 && engine.slots.idle(kind) >= threshold(kind));
        if enough || Instant::now() >= deadline {
            return;
        }
        tokio::select! {
            () = engine.slots.freed.notified() => {}
            () = tokio::time::sleep_until(deadline) => return,
        }
    }
}

/// Claim for each slot kind with idle capacity. True when some claim came back full (more work
/// is probably waiting).
async fn claim_round(engine: &Engine, connection: &mut DedicatedConnection, dispatcher: &dyn Dispatch) -> Result<bool> {
    let mut full = false;
    for kind in [SlotKind::Sync, SlotKind::Async] {
        let want = engine.slots.idle(kind).min(MAX_CLAIM_BATCH);
        if want == 0 {
            continue;
        }
        let tasks = claim(engine, connection.session().await?, kind, want).await?;
        full |= tasks.len() == want;
        if tasks.is_empty() {
            continue;
        }
        engine.slots.take(kind, tasks.len());
        Stats::add(&engine.stats.claimed, tasks.len() as u64);
        Stats::add(&engine.stats.claim_batches, 1);
        engine.stats.claim_batch_size.observe(tasks.len() as f64);
        let tasks: Vec<Arc<ClaimedTask>> = tasks.into_iter().map(Arc::new).collect();
        for task in &tasks {
            engine.running.insert(
                task.id,
                RunningAttempt {
                    kind,
                    task: Arc::clone(task),
                },
            );
        }
        dispatcher.dispatch(kind, tasks);
    }
    Ok(full)
}

async fn claim(engine: &Engine, session: &Session, kind: SlotKind, limit: usize) -> Result<Vec<ClaimedTask>> {
    let config = &engine.config;
    // Sync slots take every task name except the async ones; async slots only the async ones.
    let (names, excluded): (Option<&Vec<String>>, &[String]) = match kind {
        SlotKind::Sync => (config.task_names.as_ref(), &config.async_task_names),
        SlotKind::Async => (Some(&config.async_task_names), &[]),
    };
    let rows = session
        .client
        .query(
            &session.prepared[CLAIM],
            &[&engine.worker_id(), &config.labels, &(limit as i64), &names, &excluded],
        )
        .await?;
    let mut tasks: Vec<ClaimedTask> = rows
        .into_iter()
        .map(|row| {
            let payload: JsonText = row.get(2);
            let labels: Vec<String> = row.get(6);
            ClaimedTask {
                id: row.get(0),
                name: row.get(1),
                payload: payload.0,
                attempt: row.get(3),
                max_attempts: row.get(4),
                retry_intervals_ms: row.get(5),
                labels: labels.into(),
                deadline: row.get(7),
                priority: row.get(8),
                run_at: row.get(9),
                timeout_ms: row.get(10),
                claimed_at: std::time::Instant::now(),
                control: Arc::new(AttemptControl::default()),
            }
        })
        .collect();
    // UPDATE ... RETURNING does not keep the sub-select's order: restore the claim order.
    tasks.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.run_at.cmp(&b.run_at))
            .then(a.id.cmp(&b.id))
    });
    Ok(tasks)
}

async fn next_due(connection: &mut DedicatedConnection) -> Result<Option<DateTime<Utc>>> {
    let session = connection.session().await?;
    Ok(session.client.query_one(&session.prepared[NEXT_DUE], &[]).await?.get(0))
}
