//! Starting and stopping a worker's loops, in the order that keeps every task accounted for.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt as _;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::db::listen::{ListenEvent, listen};
use crate::db::{migrate, sql};
use crate::engine::scheduler::{self, SchedulesChanged};
use crate::engine::stats::Stats;
use crate::engine::wake::parse_notification;
use crate::engine::{Dispatch, Engine, EngineChannels, Wake};
use crate::engine::{claim, complete, deadlines, lease, maintenance};
use crate::error::Result;

pub struct EngineTasks {
    completer: JoinHandle<()>,
    others: Vec<JoinHandle<()>>,
}

pub struct Identity {
    pub hostname: String,
    pub version: String,
}

/// Check (or apply) the schema, register the worker, and start every loop. Errors here are the
/// ones a user must see at start-up: bad DSN, unreachable database, unmigrated schema.
pub async fn start(
    engine: &Arc<Engine>,
    channels: EngineChannels,
    dispatcher: Arc<dyn Dispatch>,
    identity: Identity,
    auto_migrate: bool,
) -> Result<EngineTasks> {
    {
        let mut conn = engine.pool.get().await?;
        if auto_migrate {
            let client: &mut tokio_postgres::Client = &mut conn;
            let applied = migrate::migrate(client).await?;
            if !applied.is_empty() {
                log::info!("applied anclax schema migration(s) {applied:?}");
            }
        } else {
            migrate::check(&conn).await?;
        }
    }
    let worker_id = lease::register(engine, &identity.hostname, &identity.version).await?;
    log::info!(
        "worker {worker_id} started: concurrency {}, labels {:?}, lease {:?}",
        engine.config.concurrency,
        engine.config.labels,
        engine.config.lease_ttl
    );
    let (events_tx, events_rx) = mpsc::unbounded_channel();
    let (schedules_tx, schedules_rx) = mpsc::unbounded_channel();
    let channels_listened = vec![sql::CHANNEL_TASKS, sql::CHANNEL_CANCEL, sql::CHANNEL_SCHEDULES];
    let others = vec![
        supervise(
            engine,
            "LISTEN",
            listen(
                engine.pg_config.clone(),
                channels_listened,
                events_tx,
                engine.shutdown_signal(),
            ),
        ),
        supervise(
            engine,
            "notification",
            route_notifications(Arc::clone(engine), Arc::clone(&dispatcher), events_rx, schedules_tx),
        ),
        supervise(
            engine,
            "cron",
            scheduler::scheduler_loop(Arc::clone(engine), schedules_rx),
        ),
        supervise(
            engine,
            "claim",
            claim::claim_loop(Arc::clone(engine), Arc::clone(&dispatcher), channels.wakes),
        ),
        supervise(
            engine,
            "heartbeat",
            lease::heartbeat_loop(
                Arc::clone(engine),
                Arc::clone(&dispatcher),
                identity.hostname,
                identity.version,
            ),
        ),
        supervise(engine, "rescue", lease::rescue_loop(Arc::clone(engine))),
        supervise(
            engine,
            "deadline",
            deadlines::deadline_loop(Arc::clone(engine), Arc::clone(&dispatcher)),
        ),
        supervise(engine, "retention", maintenance::maintenance_loop(Arc::clone(engine))),
    ];
    let completer = supervise(
        engine,
        "completion",
        complete::completion_loop(Arc::clone(engine), channels.completions),
    );
    Ok(EngineTasks { completer, others })
}

/// Run one of the engine's loops. A loop ends only when the worker stops; one that panics or ends
/// before that fails the engine (`Engine::fail`), so the worker stops with an error instead of
/// heartbeating while, say, claiming nothing.
pub fn supervise(
    engine: &Arc<Engine>,
    name: &'static str,
    work: impl Future<Output = ()> + Send + 'static,
) -> JoinHandle<()> {
    let engine = Arc::clone(engine);
    tokio::spawn(async move {
        let outcome = AssertUnwindSafe(work).catch_unwind().await;
        if engine.is_stopping() && outcome.is_ok() {
            return;
        }
        let why = match outcome {
            Ok(()) => format!("the worker's {name} loop ended unexpectedly"),
            Err(panic) => format!("the worker's {name} loop panicked: {}", panic_message(panic.as_ref())),
        };
        log::error!("{why}; the worker stops");
        engine.fail(why);
    })
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned())
}

async fn route_notifications(
    engine: Arc<Engine>,
    dispatcher: Arc<dyn Dispatch>,
    mut events: mpsc::UnboundedReceiver<ListenEvent>,
    schedules: mpsc::UnboundedSender<SchedulesChanged>,
) {
    while let Some(event) = events.recv().await {
        match event {
            // Anything may have happened while not listening.
            ListenEvent::Connected => {
                engine.wake(Wake::Now);
                let _ = schedules.send(SchedulesChanged::Reload);
            }
            ListenEvent::Notification { channel, payload } if channel == sql::CHANNEL_SCHEDULES => {
                let _ = schedules.send(SchedulesChanged::parse(&payload));
            }
            ListenEvent::Notification { channel, payload } if channel == sql::CHANNEL_TASKS => {
                engine.wake(parse_notification(&payload));
            }
            ListenEvent::Notification { channel, payload } if channel == sql::CHANNEL_CANCEL => {
                let Ok(task_id) = payload.parse::<i64>() else { continue };
                for attempt in engine.running.of_task(task_id) {
                    attempt.task.control.cancel();
                    dispatcher.cancel(attempt.task.key);
                }
            }
            ListenEvent::Notification { .. } => {}
        }
    }
}

/// Stop gracefully: claim nothing more, let running attempts finish within `grace`, hand the
/// rest back to the queue at once, flush results, and leave the fleet.
pub async fn stop(engine: &Arc<Engine>, tasks: EngineTasks, grace: Duration) {
    engine.begin_stop();
    let deadline = tokio::time::Instant::now() + grace;
    while !engine.running.is_empty() && tokio::time::Instant::now() < deadline {
        tokio::select! {
            () = engine.running.drained.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
            () = tokio::time::sleep_until(deadline) => {}
        }
    }
    let leftovers = engine.running.snapshot();
    let mut all_released = true;
    if !leftovers.is_empty() {
        for attempt in &leftovers {
            attempt.task.control.release();
        }
        match crate::db::dedicated::deadline(engine.config.round_trip_timeout(), release(engine, &leftovers)).await {
            Ok(n) => {
                Stats::add(&engine.stats.released, n);
                log::warn!("released {n} task(s) still running after the {grace:?} shutdown grace period");
            }
            Err(err) => {
                all_released = false;
                log::warn!(
                    "could not release running tasks at shutdown ({err}); they return to the queue when the lease expires"
                );
            }
        }
    }
    engine.shut_down();
    let _ = tasks.completer.await;
    for task in tasks.others {
        task.abort();
    }
    if all_released {
        if let Err(err) = lease::deregister(engine).await {
            log::debug!("could not remove the worker row: {err}");
        }
    }
    log::info!("worker {} stopped", engine.worker_id());
}

async fn release(engine: &Engine, leftovers: &[crate::engine::running::RunningAttempt]) -> Result<u64> {
    let ids: Vec<i64> = leftovers.iter().map(|a| a.task.id).collect();
    let tokens: Vec<i64> = leftovers.iter().map(|a| a.task.token).collect();
    let conn = engine.pool.get().await?;
    let row = conn
        .query_one(sql::RELEASE, &[&ids, &tokens, &engine.worker_id()])
        .await?;
    let released: i64 = row.get(0);
    Ok(released as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::WorkerConfig;

    fn engine() -> Arc<Engine> {
        let pg = crate::dsn::parse("postgresql://nobody@127.0.0.1:1/none", "test").expect("dsn");
        let pool = crate::db::pool::build(pg.clone(), 1).expect("pool");
        let config = WorkerConfig {
            task_names: Some(vec!["T".to_owned()]),
            ..WorkerConfig::default()
        };
        Engine::new(config, pg, pool.clone(), pool).expect("engine").0
    }

    #[test]
    fn a_loop_that_panics_or_ends_fails_the_engine() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let panicking = engine();
            supervise(&panicking, "claim", async { panic!("boom") })
                .await
                .expect("joined");
            assert_eq!(
                panicking.failure().as_deref(),
                Some("the worker's claim loop panicked: boom")
            );
            assert!(panicking.is_stopping());

            let ending = engine();
            supervise(&ending, "heartbeat", async {}).await.expect("joined");
            assert_eq!(
                ending.failure().as_deref(),
                Some("the worker's heartbeat loop ended unexpectedly")
            );

            let stopped = engine();
            stopped.begin_stop();
            supervise(&stopped, "claim", async {}).await.expect("joined");
            assert_eq!(stopped.failure(), None);
        });
    }
}
