//! The worker engine: claim loop, completion batcher, leases, rescues, deadlines, cron scheduler
//! and retention, as tokio tasks around a shared `Engine`. Pure Rust: executing a task is the
//! business of a `Dispatch` implementation (the Python executor threads in `py::worker`).

pub mod claim;
pub mod complete;
pub mod config;
pub mod deadlines;
pub mod failure_tx;
pub mod lanes;
pub mod lease;
pub mod lifecycle;
pub mod maintenance;
pub mod running;
pub mod scheduler;
pub mod slots;
pub mod stats;
pub mod task;
pub mod wake;

use std::collections::HashSet;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use deadpool_postgres::Pool;
use tokio::sync::{mpsc, watch};

pub use config::WorkerConfig;
pub use running::Running;
pub use slots::{SlotKind, Slots};
pub use stats::Stats;
pub use task::{AttemptKey, ClaimedTask, Decision, Failure, FailureKind};
pub use wake::Wake;

use crate::db::connect::ConnectConfig;
use crate::error::Result;

/// What the engine needs from whoever runs tasks.
pub trait Dispatch: Send + Sync + 'static {
    /// Start these attempts (never blocks). Each one must end with `Engine::finish_attempt`.
    fn dispatch(&self, kind: SlotKind, tasks: Vec<Arc<ClaimedTask>>);
    /// The attempt passed its deadline (its control is now timed out): interrupt it.
    fn interrupt(&self, key: AttemptKey);
    /// A cancel was requested for this running attempt (its `cancelled` flag is already set).
    fn cancel(&self, key: AttemptKey);
    /// The attempt is still running long after its deadline and the engine gave up on it: free
    /// the executor capacity it holds (a replacement thread), and finalize the attempt as timed
    /// out (running the failure hook if it was the last attempt), then `finish_attempt` it.
    fn abandon(&self, kind: SlotKind, task: Arc<ClaimedTask>);
}

/// The result of an attempt, for the completion batcher.
#[derive(Debug)]
pub struct Completion {
    pub task_id: i64,
    /// The attempt's claim token: the fence of every write about it.
    pub token: i64,
    pub decision: Decision,
    pub failure: Option<Failure>,
}

pub struct Engine {
    pub config: WorkerConfig,
    pub pg_config: ConnectConfig,
    /// Housekeeping (registration, releases, cron, retention, migrations): never lent to user code.
    pub pool: Pool,
    /// Failure hooks' transactions, which stay open for as long as user code runs: bounded apart
    /// from `pool`, so that hooks blocking on a slow service cannot starve the engine.
    pub hook_pool: Pool,
    pub running: Running,
    pub slots: Slots,
    pub stats: Stats,
    worker_id: AtomicI64,
    /// Database clock minus local clock, in ms: timers convert database times with it.
    clock_offset_ms: AtomicI64,
    completions: mpsc::UnboundedSender<Completion>,
    /// Attempts (id, claim token) whose result was handed to the batcher but is not written yet
    /// (reconciliation must not mistake them for lost attempts).
    unrecorded: Mutex<HashSet<(i64, i64)>>,
    wakes: mpsc::UnboundedSender<Wake>,
    /// True once the worker stops claiming.
    stopping: watch::Sender<bool>,
    /// True once everything must stop (after the graceful part of a stop).
    shutdown: watch::Sender<bool>,
    /// Why the engine cannot go on (one of its loops panicked or ended): the worker stops.
    failure: Mutex<Option<String>>,
}

/// The receiving ends an engine's loops consume, handed out once by `Engine::new`.
pub struct EngineChannels {
    pub completions: mpsc::UnboundedReceiver<Completion>,
    pub wakes: mpsc::UnboundedReceiver<Wake>,
}

impl Engine {
    pub fn new(
        config: WorkerConfig,
        pg_config: ConnectConfig,
        pool: Pool,
        hook_pool: Pool,
    ) -> Result<(Arc<Self>, EngineChannels)> {
        config.validate()?;
        let (completions_tx, completions) = mpsc::unbounded_channel();
        let (wakes_tx, wakes) = mpsc::unbounded_channel();
        let async_slots = if config.async_task_names.is_empty() {
            0
        } else {
            config.async_concurrency
        };
        let engine = Self {
            slots: Slots::new(config.concurrency, async_slots),
            config,
            pg_config,
            pool,
            hook_pool,
            running: Running::default(),
            stats: Stats::default(),
            worker_id: AtomicI64::new(0),
            clock_offset_ms: AtomicI64::new(0),
            completions: completions_tx,
            unrecorded: Mutex::default(),
            wakes: wakes_tx,
            stopping: watch::channel(false).0,
            shutdown: watch::channel(false).0,
            failure: Mutex::default(),
        };
        Ok((Arc::new(engine), EngineChannels { completions, wakes }))
    }

    #[must_use]
    pub fn worker_id(&self) -> i64 {
        self.worker_id.load(Ordering::Acquire)
    }

    pub fn set_worker_id(&self, id: i64) {
        self.worker_id.store(id, Ordering::Release);
    }

    /// The database's idea of now, from the local clock and the measured offset.
    #[must_use]
    pub fn db_now(&self) -> DateTime<Utc> {
        Utc::now() + chrono::Duration::milliseconds(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    /// Record the database time observed around a round trip that started at `sent` (local time).
    pub fn observe_db_time(&self, db_time: DateTime<Utc>, sent: DateTime<Utc>) {
        let now = Utc::now();
        let midpoint = sent + (now - sent) / 2;
        self.clock_offset_ms
            .store((db_time - midpoint).num_milliseconds(), Ordering::Relaxed);
    }

    /// How long from now (local) until database time `at`.
    #[must_use]
    pub fn until(&self, at: DateTime<Utc>) -> std::time::Duration {
        (at - self.db_now()).to_std().unwrap_or_default()
    }

    pub fn wake(&self, wake: Wake) {
        let _ = self.wakes.send(wake);
    }

    pub fn complete(&self, completion: Completion) {
        self.unrecorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert((completion.task_id, completion.token));
        if self.completions.send(completion).is_err() {
            // Only after a stop: the attempt was released (or will be rescued) already.
            log::debug!("a result arrived after the worker stopped; it is dropped");
        }
    }

    /// The batcher wrote (or gave up on) the results of these attempts (id, claim token).
    pub fn recorded(&self, attempts: impl IntoIterator<Item = (i64, i64)>) {
        let mut unrecorded = self.unrecorded.lock().unwrap_or_else(PoisonError::into_inner);
        for attempt in attempts {
            unrecorded.remove(&attempt);
        }
    }

    /// The attempts (id, claim token) this worker knows of: running, or their result not yet
    /// written.
    #[must_use]
    pub fn known_attempts(&self) -> HashSet<(i64, i64)> {
        let mut known: HashSet<(i64, i64)> = self
            .running
            .snapshot()
            .iter()
            .map(|a| (a.task.id, a.task.token))
            .collect();
        known.extend(
            self.unrecorded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
                .copied(),
        );
        known
    }

    /// The attempt's executor is done with it (its result, if any, was handed to `complete`).
    pub fn finish_attempt(&self, key: AttemptKey, kind: SlotKind) {
        if self.running.remove(key).is_some() {
            self.slots.release(kind);
        }
    }

    #[must_use]
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stopping.subscribe()
    }

    #[must_use]
    pub fn is_stopping(&self) -> bool {
        *self.stopping.borrow()
    }

    pub fn begin_stop(&self) {
        self.stopping.send_replace(true);
    }

    #[must_use]
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// One of the engine's loops died: stop claiming, and let the owner (`Worker.run`, the CLI)
    /// see why and stop the worker with an error, rather than heartbeat while doing nothing.
    pub fn fail(&self, why: String) {
        self.failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert(why);
        self.begin_stop();
    }

    /// Why the engine failed, if it did.
    #[must_use]
    pub fn failure(&self) -> Option<String> {
        self.failure.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    pub fn shut_down(&self) {
        self.stopping.send_replace(true);
        self.shutdown.send_replace(true);
    }
}
