//! The cron scheduler: every schedule always has the task row of its next fire; when that fire
//! comes due, one worker of the fleet creates the row of the following fire and moves the
//! schedule on, in one statement whose compare-and-set on `next_fire_at` makes it exactly once.
//! Fires missed while no worker ran collapse into the one row that was waiting (SEMANTICS.md §4).
//!
//! Nothing is late if a worker advances a schedule a little after its fire: the row of that fire
//! was created one fire earlier. So each worker waits a random delay past the fire time (up to a
//! quarter of the interval to the next fire, at most a second);
//! the first to wake advances the schedule and notifies the new time (`anclax_schedules`, payload
//! `<id>@<epoch ms>`), and the others, told before their own timer fires, issue no statement.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::backoff::jittered;
use crate::cron::CronSchedule;
use crate::db::sql;
use crate::engine::Engine;
use crate::engine::stats::Stats;
use crate::error::Result;
use crate::schedule::TimerHeap;

/// Re-read every schedule this often even without a notification (a safety net).
const RELOAD_INTERVAL: Duration = Duration::from_secs(30);
/// The most a worker waits past a fire time before advancing its schedule: a quarter of the time
/// to the fire after, at most this. Spread over this much, the first worker's notification
/// usually reaches the others before their own timers fire.
const MAX_ADVANCE_DELAY: Duration = Duration::from_secs(1);

/// Sent by the notification router.
#[derive(Debug)]
pub enum SchedulesChanged {
    /// A schedule was created, changed or removed (or notifications may have been missed).
    Reload,
    /// Another worker advanced schedule `id`: its next fire is at this time.
    Advanced(i64, DateTime<Utc>),
}

impl SchedulesChanged {
    /// An `anclax_schedules` payload: `<id>@<epoch ms>` for an advance, anything else a change.
    #[must_use]
    pub fn parse(payload: &str) -> Self {
        payload
            .split_once('@')
            .and_then(|(id, ms)| {
                let at = ms.parse::<i64>().ok().and_then(DateTime::from_timestamp_millis)?;
                Some(Self::Advanced(id.parse().ok()?, at))
            })
            .unwrap_or(Self::Reload)
    }
}

struct Scheduler {
    engine: Arc<Engine>,
    /// When to try advancing each schedule (its next fire time plus this worker's delay).
    timers: TimerHeap<i64, DateTime<Utc>>,
    /// Each schedule's next fire time and cron expression, as last known.
    known: HashMap<i64, (DateTime<Utc>, String)>,
    parsed: HashMap<String, Option<CronSchedule>>,
}

pub async fn scheduler_loop(engine: Arc<Engine>, mut changes: mpsc::UnboundedReceiver<SchedulesChanged>) {
    let mut shutdown = engine.stopping();
    let mut scheduler = Scheduler {
        engine: Arc::clone(&engine),
        timers: TimerHeap::new(),
        known: HashMap::new(),
        parsed: HashMap::new(),
    };
    let mut reload_at = Instant::now();
    loop {
        if Instant::now() >= reload_at {
            match scheduler.reload().await {
                Ok(()) => reload_at = Instant::now() + jittered(RELOAD_INTERVAL),
                Err(err) => {
                    log::debug!("loading cron schedules failed: {err}");
                    reload_at = Instant::now() + Duration::from_secs(1);
                }
            }
        }
        let next = scheduler.timers.peek().map(|(_, at)| Instant::now() + engine.until(at));
        let wake = next.map_or(reload_at, |n| n.min(reload_at));
        tokio::select! {
            () = tokio::time::sleep_until(wake) => {}
            change = changes.recv() => {
                let Some(change) = change else { return };
                for change in std::iter::once(change).chain(std::iter::from_fn(|| changes.try_recv().ok())) {
                    match change {
                        SchedulesChanged::Reload => reload_at = Instant::now(),
                        SchedulesChanged::Advanced(id, at) => scheduler.set_next_fire(id, at),
                    }
                }
                continue;
            }
            _ = shutdown.changed() => return,
        }
        let due: Vec<i64> = scheduler.timers.pop_due(engine.db_now()).map(|(id, _)| id).collect();
        for schedule_id in due {
            if let Err(err) = scheduler.advance(schedule_id).await {
                log::warn!("advancing cron schedule {schedule_id} failed: {err}; retrying");
                scheduler
                    .timers
                    .insert(schedule_id, engine.db_now() + chrono::Duration::milliseconds(200));
            }
        }
    }
}

impl Scheduler {
    fn schedule(&mut self, expression: &str) -> Option<&CronSchedule> {
        self.parsed
            .entry(expression.to_owned())
            .or_insert_with(|| match CronSchedule::parse(expression) {
                Ok(schedule) => Some(schedule),
                Err(err) => {
                    log::error!("a stored cron schedule does not parse ({err}); it is skipped");
                    None
                }
            })
            .as_ref()
    }

    async fn reload(&mut self) -> Result<()> {
        let conn = self.engine.pool.get().await?;
        let rows = conn.query(sql::SCHEDULE_TIMES, &[]).await?;
        self.timers.clear();
        self.known.clear();
        for row in rows {
            let id: i64 = row.try_get(0)?;
            let expression: String = row.try_get(1)?;
            let next_fire_at: DateTime<Utc> = row.try_get(2)?;
            self.known.insert(id, (next_fire_at, expression));
            self.set_next_fire(id, next_fire_at);
        }
        Ok(())
    }

    /// Schedule `id` next fires at `at`: try to advance it a little after that.
    fn set_next_fire(&mut self, id: i64, at: DateTime<Utc>) {
        let Some((next_fire_at, expression)) = self.known.get(&id).cloned() else {
            // Not known yet (created since the last reload): the change notification reloads.
            return;
        };
        if at < next_fire_at {
            return; // a stale notification
        }
        self.known.insert(id, (at, expression.clone()));
        let delay = self
            .schedule(&expression)
            .and_then(|s| s.next_after(at))
            .and_then(|after| ((after - at) / 4).to_std().ok())
            .map_or(MAX_ADVANCE_DELAY, |quarter| quarter.min(MAX_ADVANCE_DELAY));
        let delay = Duration::from_secs_f64(delay.as_secs_f64() * fastrand::f64());
        self.timers
            .insert(id, at + chrono::Duration::from_std(delay).unwrap_or_default());
    }

    /// The schedule's next fire is due: create the row of the fire after it and move on, unless
    /// another worker did first.
    async fn advance(&mut self, schedule_id: i64) -> Result<()> {
        let Some((due, expression)) = self.known.get(&schedule_id).cloned() else {
            return Ok(());
        };
        let now = self.engine.db_now().max(due);
        let Some(next) = self.schedule(&expression).and_then(|s| s.next_after(now)) else {
            log::error!("cron schedule {schedule_id} ({expression:?}) has no fire time after {now}; it stays idle");
            return Ok(());
        };
        let conn = self.engine.pool.get().await?;
        let statement = conn.prepare_cached(sql::ADVANCE_SCHEDULE).await?;
        if conn
            .query_opt(&statement, &[&schedule_id, &due, &next])
            .await?
            .is_some()
        {
            Stats::add(&self.engine.stats.cron_fires, 1);
            self.set_next_fire(schedule_id, next);
            return Ok(());
        }
        // Another worker advanced it (its notification is on the way), it was changed or
        // removed, or it is not due yet by the database's clock: read where it stands.
        let current: Option<DateTime<Utc>> = conn
            .query_opt(sql::SCHEDULE_NEXT_FIRE, &[&schedule_id])
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        match current {
            None => {
                self.known.remove(&schedule_id);
            }
            Some(at) if at != due => {
                self.known.insert(schedule_id, (at, expression));
                self.set_next_fire(schedule_id, at);
            }
            Some(_) => {
                self.timers
                    .insert(schedule_id, self.engine.db_now() + chrono::Duration::milliseconds(50));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_payloads() {
        let at = DateTime::from_timestamp_millis(1_764_680_000_000).unwrap();
        assert!(matches!(SchedulesChanged::parse("7@1764680000000"), SchedulesChanged::Advanced(7, t) if t == at));
        assert!(matches!(SchedulesChanged::parse("7"), SchedulesChanged::Reload));
        assert!(matches!(SchedulesChanged::parse(""), SchedulesChanged::Reload));
        assert!(matches!(SchedulesChanged::parse("x@1"), SchedulesChanged::Reload));
    }
}
