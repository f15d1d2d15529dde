//! Starting and stopping a worker's loops, in the order that keeps every task accounted for.

use std::sync::Arc;
use std::time::Duration;

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
        tokio::spawn(listen(
            engine.pg_config.clone(),
            channels_listened,
            events_tx,
            engine.shutdown_signal(),
        )),
        tokio::spawn(route_notifications(
            Arc::clone(engine),
            Arc::clone(&dispatcher),
            events_rx,
            schedules_tx,
        )),
        tokio::spawn(scheduler::scheduler_loop(Arc::clone(engine), schedules_rx)),
        tokio::spawn(claim::claim_loop(
            Arc::clone(engine),
            Arc::clone(&dispatcher),
            channels.wakes,
        )),
        tokio::spawn(lease::heartbeat_loop(
            Arc::clone(engine),
            Arc::clone(&dispatcher),
            identity.hostname,
            identity.version,
        )),
        tokio::spawn(lease::rescue_loop(Arc::clone(engine))),
        tokio::spawn(deadlines::deadline_loop(Arc::clone(engine), Arc::clone(&dispatcher))),
        tokio::spawn(maintenance::maintenance_loop(Arc::clone(engine))),
    ];
    let completer = tokio::spawn(complete::completion_loop(Arc::clone(engine), channels.completions));
    Ok(EngineTasks { completer, others })
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
        match release(engine, &leftovers).await {
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
