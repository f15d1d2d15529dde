//! The claim loop: claims as many due tasks as there are idle executor slots, in one statement per
//! slot kind, and sleeps until a notification, a timer (the next delayed task) or the poll.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backoff::{Backoff, jittered};
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

/// Session settings of the claim connection. The claim must walk `tasks_claim_idx` in order and
/// stop after `limit` rows; with statistics that say the table is empty (fresh, or right after a
/// bulk insert) the planner prefers a bitmap scan of all due rows plus a sort, which turns every
/// claim into a scan of the whole backlog. Discouraging those paths keeps the plan stable.
const CLAIM_SESSION_SETTINGS: &str = "SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off";

/// The claim loop's own connection (not pooled: it carries the settings above), with its
/// statements prepared once.
struct ClaimConnection {
    session: Option<ClaimSession>,
}

struct ClaimSession {
    client: tokio_postgres::Client,
    claim: tokio_postgres::Statement,
    next_due: tokio_postgres::Statement,
}

impl ClaimConnection {
    async fn get(&mut self, engine: &Engine) -> Result<&ClaimSession> {
        if self.session.as_ref().is_some_and(|s| s.client.is_closed()) {
            self.session = None;
        }
        if self.session.is_none() {
            let (client, connection) = engine.pg_config.connect(tokio_postgres::NoTls).await?;
            tokio::spawn(async move {
                if let Err(err) = connection.await {
                    log::debug!("claim connection ended: {err}");
                }
            });
            client.batch_execute(CLAIM_SESSION_SETTINGS).await?;
            let claim = client.prepare(sql::CLAIM).await?;
            let next_due = client.prepare(sql::NEXT_DUE).await?;
            self.session = Some(ClaimSession {
                client,
                claim,
                next_due,
            });
        }
        self.session
            .as_ref()
            .ok_or_else(|| crate::error::Error::Unavailable("no claim connection".to_owned()))
    }
}

pub async fn claim_loop(engine: Arc<Engine>, dispatcher: Arc<dyn Dispatch>, mut wakes: mpsc::UnboundedReceiver<Wake>) {
    let mut stopping = engine.stopping();
    let mut connection = ClaimConnection { session: None };
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
                    match next_due(&engine, &mut connection).await {
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
async fn claim_round(engine: &Engine, connection: &mut ClaimConnection, dispatcher: &dyn Dispatch) -> Result<bool> {
    let mut full = false;
    for kind in [SlotKind::Sync, SlotKind::Async] {
        let want = engine.slots.idle(kind).min(MAX_CLAIM_BATCH);
        if want == 0 {
            continue;
        }
        let tasks = claim(engine, connection.get(engine).await?, kind, want).await?;
        full |= tasks.len() == want;
        if tasks.is_empty() {
            continue;
        }
        engine.slots.take(kind, tasks.len());
        Stats::add(&engine.stats.claimed, tasks.len() as u64);
        Stats::add(&engine.stats.claim_batches, 1);
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

async fn claim(engine: &Engine, session: &ClaimSession, kind: SlotKind, limit: usize) -> Result<Vec<ClaimedTask>> {
    let config = &engine.config;
    // Sync slots take every task name except the async ones; async slots only the async ones.
    let (names, excluded): (Option<&Vec<String>>, &[String]) = match kind {
        SlotKind::Sync => (config.task_names.as_ref(), &config.async_task_names),
        SlotKind::Async => (Some(&config.async_task_names), &[]),
    };
    let rows = session
        .client
        .query(
            &session.claim,
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

async fn next_due(engine: &Engine, connection: &mut ClaimConnection) -> Result<Option<DateTime<Utc>>> {
    let session = connection.get(engine).await?;
    Ok(session.client.query_one(&session.next_due, &[]).await?.get(0))
}
