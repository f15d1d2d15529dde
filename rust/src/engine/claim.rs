//! The claim loop: claims as many due tasks as there are idle executor slots, from the lanes this
//! worker serves that may have work (one statement for both slot kinds), and sleeps until a
//! notification, a lane's timer (its next delayed task) or the poll.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backoff::{Backoff, jittered};
use crate::db::dedicated::{DedicatedConnection, Session, deadline};
use crate::db::query::JsonText;
use crate::db::sql;
use crate::engine::config::MAX_CLAIM_BATCH;
use crate::engine::lanes::{LaneBook, LaneId, LaneRow, Served};
use crate::engine::running::RunningAttempt;
use crate::engine::slots::refill_threshold;
use crate::engine::stats::Stats;
use crate::engine::task::{AttemptControl, ClaimedTask, next_attempt_key};
use crate::engine::{Dispatch, Engine, SlotKind, Wake};
use crate::error::Result;

/// While the queue has more work, wait this long at most for a quarter of the slots to free up
/// before claiming again: a claim per freed slot would cost a round trip per task.
const REFILL_WAIT: Duration = Duration::from_millis(2);

/// New lanes are learnt from the notifications that name them; this re-reads `anclax.lanes` even
/// without one (rows inserted by hand with no NOTIFY), as a safety net.
const LANES_RELOAD_INTERVAL: Duration = Duration::from_secs(10);
/// At most one reload per this interval, however many notifications name unknown lanes.
const LANES_RELOAD_MIN_GAP: Duration = Duration::from_millis(50);

/// The claim loop's statements, prepared on its own connection (see `db::dedicated`).
const CLAIM_STATEMENTS: &[&str] = &[sql::CLAIM, sql::LANES];
const CLAIM: usize = 0;
const LANES: usize = 1;

struct ClaimLoop {
    engine: Arc<Engine>,
    dispatcher: Arc<dyn Dispatch>,
    connection: DedicatedConnection,
    book: LaneBook,
    served: Served,
    poll_at: Instant,
    lanes_reloaded_at: Option<Instant>,
}

pub async fn claim_loop(engine: Arc<Engine>, dispatcher: Arc<dyn Dispatch>, mut wakes: mpsc::UnboundedReceiver<Wake>) {
    let mut stopping = engine.stopping();
    let served = Served {
        labels: engine.config.labels.clone(),
        names: engine.config.task_names.clone(),
        async_names: engine.config.async_task_names.clone(),
    };
    let mut state = ClaimLoop {
        connection: DedicatedConnection::new(
            engine.pg_config.clone(),
            "claim",
            CLAIM_STATEMENTS,
            engine.config.round_trip_timeout(),
        ),
        poll_at: Instant::now() + jittered(engine.config.poll_interval),
        engine,
        dispatcher,
        book: LaneBook::new(),
        served,
        lanes_reloaded_at: None,
    };
    let mut backoff = Backoff::default();
    let mut more = false;
    while !*stopping.borrow() {
        while let Ok(wake) = wakes.try_recv() {
            state.apply(wake);
        }
        if let Err(err) = state.prepare().await {
            more = false;
            state.connection.reset();
            let delay = backoff.next_delay();
            log::warn!("reading the lanes failed: {err}; retrying in {delay:?}");
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = stopping.changed() => {}
            }
            continue;
        }
        let engine = Arc::clone(&state.engine);
        let claimable = |kind| engine.slots.idle(kind) > 0 && state.book.has_ready(kind);
        if !claimable(SlotKind::Sync) && !claimable(SlotKind::Async) {
            more = false;
            // Ready lanes waiting for a free slot, or nothing ready: sleep until that changes.
            let waiting_for_slots = state.book.has_ready(SlotKind::Sync) || state.book.has_ready(SlotKind::Async);
            let timer = state.book.next_timer().map(|at| Instant::now() + engine.until(at));
            tokio::select! {
                wake = wakes.recv() => match wake {
                    Some(wake) => state.apply(wake),
                    None => return,
                },
                () = engine.slots.freed.notified(), if waiting_for_slots => {}
                () = sleep_until_opt(timer) => {}
                () = tokio::time::sleep_until(state.poll_at) => {}
                _ = stopping.changed() => {}
            }
            continue;
        }
        if more {
            let kinds: Vec<SlotKind> = [SlotKind::Sync, SlotKind::Async]
                .into_iter()
                .filter(|&kind| state.book.has_ready(kind))
                .collect();
            wait_for_refill(&engine, &kinds).await;
        }
        match state.claim_round().await {
            Ok(full) => {
                backoff.reset();
                more = full;
            }
            Err(err) => {
                more = false;
                state.connection.reset();
                // What the failed claim would have learnt is unknown: ask every lane again.
                state.book.wake_all();
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

/// With more work queued, let slots accumulate briefly so that claims stay large. Only the slot
/// kinds with work waiting count: an executor's idle coroutine slots must not cut short the wait
/// for its threads when only sync lanes have work (and vice versa).
async fn wait_for_refill(engine: &Engine, kinds: &[SlotKind]) {
    let threshold = |kind| refill_threshold(engine.slots.total(kind));
    let deadline = Instant::now() + REFILL_WAIT;
    loop {
        let enough = kinds
            .iter()
            .any(|&kind| engine.slots.total(kind) > 0 && engine.slots.idle(kind) >= threshold(kind));
        if enough || Instant::now() >= deadline {
            return;
        }
        tokio::select! {
            () = engine.slots.freed.notified() => {}
            () = tokio::time::sleep_until(deadline) => return,
        }
    }
}

impl ClaimLoop {
    fn apply(&mut self, wake: Wake) {
        match wake {
            Wake::Now => {
                self.book.invalidate_all();
                // Rows may have been added without naming their lane (by hand, or by version 1).
                self.book.request_refresh();
            }
            Wake::At(at) => self.book.wake_all_at(at),
            Wake::Lane(lane) => self.book.wake(lane),
            Wake::LaneAt(lane, at) => self.book.wake_at(lane, at),
        }
    }

    /// Before a claim: reload the lanes when asked to (rate-limited), fire due timers and the poll.
    async fn prepare(&mut self) -> Result<()> {
        let now = Instant::now();
        let last = self.lanes_reloaded_at;
        if last.is_none_or(|at| now >= at + LANES_RELOAD_INTERVAL) {
            self.book.request_refresh();
        }
        if self.book.refresh_needed() && last.is_none_or(|at| now >= at + LANES_RELOAD_MIN_GAP) {
            self.lanes_reloaded_at = Some(now);
            let timeout = self.connection.timeout();
            let session = self.connection.session().await?;
            let rows = deadline(timeout, async {
                Ok(session.client.query(&session.prepared[LANES], &[]).await?)
            })
            .await?;
            let lanes = rows
                .iter()
                .map(|row| {
                    Ok(LaneRow {
                        id: row.try_get(0)?,
                        name: row.try_get(1)?,
                        labels: row.try_get(2)?,
                        priority: row.try_get(3)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            self.book.set_lanes(&lanes, &self.served);
        }
        self.book.pop_due(self.engine.db_now());
        if now >= self.poll_at {
            // The safety net: notifications can be missed (a listener reconnecting, a claim of
            // another worker that rolled back), so every lane is tried now and then.
            self.book.wake_all();
            self.poll_at = now + jittered(self.engine.config.poll_interval);
        }
        Ok(())
    }

    /// Claim for each slot kind with idle capacity and ready lanes. True when some claim came
    /// back full (more work is probably waiting).
    async fn claim_round(&mut self) -> Result<bool> {
        let engine = Arc::clone(&self.engine);
        let capacity = |book: &LaneBook, kind| {
            if book.has_ready(kind) {
                engine.slots.idle(kind).min(MAX_CLAIM_BATCH)
            } else {
                0
            }
        };
        let sync_wanted = capacity(&self.book, SlotKind::Sync);
        let async_wanted = capacity(&self.book, SlotKind::Async);
        let order = |book: &mut LaneBook, kind, want: usize| {
            if want > 0 { book.claim_order(kind) } else { Vec::new() }
        };
        let sync_order = order(&mut self.book, SlotKind::Sync, sync_wanted);
        let async_order = order(&mut self.book, SlotKind::Async, async_wanted);
        // Lanes whose next delayed task is not known ask for it in the same statement: a claim
        // that drains them would otherwise need a second round trip to set their timers.
        let ask: Vec<LaneId> = self.book.future_unknown(sync_order.iter().chain(&async_order));
        let timeout = self.connection.timeout();
        let session = self.connection.session().await?;
        let claimed = deadline(
            timeout,
            claim(
                &engine,
                session,
                (&sync_order, sync_wanted),
                (&async_order, async_wanted),
                &ask,
            ),
        )
        .await?;
        let tasks = claimed.tasks;

        let mut per_lane: HashMap<LaneId, usize> = HashMap::new();
        for task in &tasks {
            *per_lane.entry(task.lane).or_default() += 1;
        }
        let taken_from = |lane: LaneId| per_lane.get(&lane).copied().unwrap_or(0);
        let sync_taken: usize = sync_order.iter().map(|&lane| taken_from(lane)).sum();
        let async_taken: usize = async_order.iter().map(|&lane| taken_from(lane)).sum();
        self.book.claimed(&sync_order, sync_wanted, taken_from);
        self.book.claimed(&async_order, async_wanted, taken_from);
        // After the drained lanes are set aside: a lane whose next task came due between the
        // claim's snapshot and now must be ready again, not forgotten.
        let now = engine.db_now();
        for (lane, due) in claimed.next_due {
            self.book.next_due(lane, due, now);
        }

        let (sync_tasks, async_tasks): (Vec<ClaimedTask>, Vec<ClaimedTask>) =
            tasks.into_iter().partition(|t| !async_order.contains(&t.lane));
        self.start(SlotKind::Sync, sync_tasks);
        self.start(SlotKind::Async, async_tasks);
        Ok((sync_wanted > 0 && sync_taken == sync_wanted) || (async_wanted > 0 && async_taken == async_wanted))
    }

    fn start(&self, kind: SlotKind, tasks: Vec<ClaimedTask>) {
        if tasks.is_empty() {
            return;
        }
        let engine = &self.engine;
        engine.slots.take(kind, tasks.len());
        Stats::add(&engine.stats.claimed, tasks.len() as u64);
        Stats::add(&engine.stats.claim_batches, 1);
        engine.stats.claim_batch_size.observe(tasks.len() as f64);
        let tasks: Vec<Arc<ClaimedTask>> = tasks.into_iter().map(Arc::new).collect();
        for task in &tasks {
            engine.running.insert(RunningAttempt {
                kind,
                task: Arc::clone(task),
            });
        }
        self.dispatcher.dispatch(kind, tasks);
    }
}

/// What one claim statement brought back.
struct Claimed {
    tasks: Vec<ClaimedTask>,
    /// (lane, when its next not-yet-due task comes due) for each lane asked about.
    next_due: Vec<(LaneId, Option<DateTime<Utc>>)>,
}

async fn claim(
    engine: &Engine,
    session: &Session,
    (sync_lanes, sync_limit): (&[LaneId], usize),
    (async_lanes, async_limit): (&[LaneId], usize),
    ask_next_due: &[LaneId],
) -> Result<Claimed> {
    let rows = session
        .client
        .query(
            &session.prepared[CLAIM],
            &[
                &engine.worker_id(),
                &sync_lanes,
                &(sync_limit as i64),
                &async_lanes,
                &(async_limit as i64),
                &ask_next_due,
            ],
        )
        .await?;
    let mut claimed = Claimed {
        tasks: Vec::with_capacity(rows.len()),
        next_due: Vec::new(),
    };
    for row in rows {
        let Some(id) = row.try_get::<_, Option<i64>>(0)? else {
            claimed.next_due.push((row.try_get(11)?, row.try_get(12)?));
            continue;
        };
        let payload: JsonText = row.try_get(2)?;
        let labels: Vec<String> = row.try_get(6)?;
        claimed.tasks.push(ClaimedTask {
            id,
            token: row.try_get(13)?,
            key: next_attempt_key(),
            name: row.try_get(1)?,
            payload: payload.0,
            attempt: row.try_get(3)?,
            max_attempts: row.try_get(4)?,
            retry_intervals_ms: row.try_get(5)?,
            labels: labels.into(),
            deadline: row.try_get(7)?,
            priority: row.try_get(8)?,
            run_at: row.try_get(9)?,
            timeout_ms: row.try_get(10)?,
            lane: row.try_get(11)?,
            claimed_at: std::time::Instant::now(),
            control: Arc::new(AttemptControl::default()),
        });
    }
    // UPDATE ... RETURNING does not keep the sub-select's order: restore the claim order.
    claimed.tasks.sort_by(|a, b| {
        b.priority
            .cmp(&a.priority)
            .then(a.run_at.cmp(&b.run_at))
            .then(a.id.cmp(&b.id))
    });
    Ok(claimed)
}
