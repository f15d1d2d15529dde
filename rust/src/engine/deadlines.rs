//! Attempt deadlines: at the deadline the attempt is marked timed out (`ctx.cancelled` turns
//! true) and interrupted; if it is still running `timeout_grace` later, the worker abandons it.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::time::Instant;

use crate::engine::stats::Stats;
use crate::engine::{AttemptKey, Dispatch, Engine};
use crate::schedule::TimerHeap;

pub async fn deadline_loop(engine: Arc<Engine>, dispatcher: Arc<dyn Dispatch>) {
    let mut shutdown = engine.shutdown_signal();
    // Attempts that timed out, due when their grace period ends.
    let mut grace: TimerHeap<AttemptKey, DateTime<Utc>> = TimerHeap::new();
    let grace_period = chrono::Duration::from_std(engine.config.timeout_grace).unwrap_or(chrono::Duration::MAX);
    loop {
        let next = [engine.running.next_deadline(), grace.peek().map(|(_, at)| at)]
            .into_iter()
            .flatten()
            .min();
        let sleep = next.map(|at| Instant::now() + engine.until(at));
        tokio::select! {
            () = async { match sleep { Some(at) => tokio::time::sleep_until(at).await, None => std::future::pending().await } } => {}
            () = engine.running.deadline_changed.notified() => continue,
            _ = shutdown.changed() => return,
        }
        let now = engine.db_now();
        for attempt in engine.running.pop_due_deadlines(now) {
            let task_id = attempt.task.id;
            if attempt.task.control.time_out() {
                Stats::add(&engine.stats.timed_out, 1);
                log::warn!(
                    "task {task_id} ({}) passed its deadline; interrupting it",
                    attempt.task.name
                );
                dispatcher.interrupt(attempt.task.key);
                grace.insert(attempt.task.key, attempt.task.deadline + grace_period);
            }
        }
        let expired: Vec<AttemptKey> = grace.pop_due(now).map(|(key, _)| key).collect();
        for key in expired {
            let Some(attempt) = engine.running.get(key) else {
                continue;
            };
            let task_id = attempt.task.id;
            if attempt.task.control.abandon() {
                log::error!(
                    "task {task_id} ({}) is still running {:?} after its deadline (stuck outside Python, e.g. in C code); \
                     abandoning its thread and failing the attempt",
                    attempt.task.name,
                    engine.config.timeout_grace
                );
                dispatcher.abandon(attempt.kind, attempt.task);
            }
        }
    }
}
