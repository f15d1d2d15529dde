//! The cron scheduler: every schedule always has the task row of its next fire; when that fire
//! comes due, one worker of the fleet (whoever locks the schedule row first) creates the row of
//! the following fire and moves the schedule on. Fires missed while no worker ran collapse into
//! the one row that was waiting (SEMANTICS.md §4). A timer heap wakes the scheduler at each fire.

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

/// Sent by the notification router: a schedule was created, changed or removed.
#[derive(Debug)]
pub struct SchedulesChanged;

struct Scheduler {
    engine: Arc<Engine>,
    timers: TimerHeap<i64, DateTime<Utc>>,
    parsed: HashMap<String, Option<CronSchedule>>,
}

pub async fn scheduler_loop(engine: Arc<Engine>, mut changes: mpsc::UnboundedReceiver<SchedulesChanged>) {
    let mut shutdown = engine.stopping();
    let mut scheduler = Scheduler {
        engine: Arc::clone(&engine),
        timers: TimerHeap::new(),
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
                if change.is_none() {
                    return;
                }
                while changes.try_recv().is_ok() {}
                reload_at = Instant::now();
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
        for row in rows {
            let id: i64 = row.get(0);
            let next_fire_at: DateTime<Utc> = row.get(2);
            self.timers.insert(id, next_fire_at);
        }
        Ok(())
    }

    /// The schedule's next fire is due: create the row of the fire after it and move on.
    async fn advance(&mut self, schedule_id: i64) -> Result<()> {
        let mut conn = self.engine.pool.get().await?;
        // Most workers of a fleet find the fire already advanced by another one: one plain read
        // tells them when the next one is, without a transaction.
        let current: Option<DateTime<Utc>> = conn
            .query_opt(sql::SCHEDULE_NEXT_FIRE, &[&schedule_id])
            .await?
            .map(|row| row.try_get(0))
            .transpose()?;
        let Some(next_fire_at) = current else {
            // Removed: the change notification (or the reload) updates the timers.
            return Ok(());
        };
        if next_fire_at > self.engine.db_now() {
            self.timers.insert(schedule_id, next_fire_at);
            return Ok(());
        }
        let tx = conn.transaction().await?;
        let Some(row) = tx.query_opt(sql::ADVANCE_SCHEDULE, &[&schedule_id]).await? else {
            // Another worker holds it (it is advancing it right now), or it is not due by the
            // database clock yet: look again shortly, when either has settled.
            tx.rollback().await?;
            self.timers
                .insert(schedule_id, self.engine.db_now() + chrono::Duration::milliseconds(50));
            return Ok(());
        };
        let expression: String = row.get(0);
        let due: DateTime<Utc> = row.get(1);
        let now = self.engine.db_now().max(due);
        let Some(next) = self.schedule(&expression).and_then(|s| s.next_after(now)) else {
            tx.rollback().await?;
            log::error!("cron schedule {schedule_id} ({expression:?}) has no fire time after {now}; it stays idle");
            return Ok(());
        };
        tx.query_one(sql::CREATE_FIRE, &[&schedule_id, &next]).await?;
        tx.execute(sql::SET_NEXT_FIRE, &[&schedule_id, &next]).await?;
        tx.commit().await?;
        Stats::add(&self.engine.stats.cron_fires, 1);
        // create_fire's notification (naming the fire's lane and time) sets the claim timers of
        // every worker serving it, this one included.
        self.timers.insert(schedule_id, next);
        Ok(())
    }
}
