//! `Client.wait`: woken by `anclax_done` notifications, with a slow re-check as a safety net for
//! notifications lost while the LISTEN connection was down.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

use super::FINAL_STATUSES;
use crate::db::connect::ConnectConfig;
use crate::db::listen::{ListenEvent, listen};
use crate::db::sql;
use crate::error::{Error, Result};

/// Re-check the status this often even without a notification.
const RECHECK_INTERVAL: Duration = Duration::from_secs(5);
/// Until the LISTEN connection is up, notifications may be missed: re-check faster.
const RECHECK_INTERVAL_UNLISTENED: Duration = Duration::from_millis(250);

type Waiters = HashMap<i64, Vec<oneshot::Sender<()>>>;

pub struct DoneWatcher {
    config: ConnectConfig,
    waiters: Arc<Mutex<Waiters>>,
    /// Bumped on every (re)connection of the listener; true-ish "listening" when > 0.
    connections: watch::Sender<u64>,
    shutdown: watch::Sender<bool>,
    started: OnceLock<()>,
}

impl DoneWatcher {
    #[must_use]
    pub fn new(config: ConnectConfig) -> Self {
        Self {
            config,
            waiters: Arc::default(),
            connections: watch::channel(0).0,
            shutdown: watch::channel(false).0,
            started: OnceLock::new(),
        }
    }

    fn ensure_started(&self) {
        self.started.get_or_init(|| {
            let (events_tx, mut events_rx) = mpsc::unbounded_channel();
            tokio::spawn(listen(
                self.config.clone(),
                vec![sql::CHANNEL_DONE],
                events_tx,
                self.shutdown.subscribe(),
            ));
            let waiters = Arc::clone(&self.waiters);
            let connections = self.connections.clone();
            tokio::spawn(async move {
                while let Some(event) = events_rx.recv().await {
                    match event {
                        ListenEvent::Connected => {
                            connections.send_modify(|n| *n += 1);
                        }
                        ListenEvent::Notification { payload, .. } => {
                            let mut waiters = waiters.lock().unwrap_or_else(PoisonError::into_inner);
                            for id in payload.split(',').filter_map(|s| s.parse::<i64>().ok()) {
                                for sender in waiters.remove(&id).unwrap_or_default() {
                                    let _ = sender.send(());
                                }
                            }
                        }
                    }
                }
            });
        });
    }

    pub async fn wait<F, Fut>(&self, id: i64, timeout: Option<Duration>, status: F) -> Result<String>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<String>>>,
    {
        self.ensure_started();
        let result = self.wait_loop(id, timeout, status).await;
        self.prune(id);
        result
    }

    async fn wait_loop<F, Fut>(&self, id: i64, timeout: Option<Duration>, status: F) -> Result<String>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<Option<String>>>,
    {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut connections = self.connections.subscribe();
        loop {
            // Register before reading the status: a notification after the read cannot be missed.
            let (sender, woken) = oneshot::channel();
            self.prune(id);
            self.waiters
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .entry(id)
                .or_default()
                .push(sender);
            match status().await? {
                None => return Err(Error::TaskNotFound(id)),
                Some(status) if FINAL_STATUSES.contains(&status.as_str()) => return Ok(status),
                Some(_) => {}
            }
            let recheck = if *connections.borrow() > 0 {
                RECHECK_INTERVAL
            } else {
                RECHECK_INTERVAL_UNLISTENED
            };
            let until_deadline = deadline.map_or(recheck, |d| d.saturating_duration_since(Instant::now()));
            tokio::select! {
                _ = woken => {}
                _ = connections.changed() => {}
                () = tokio::time::sleep(recheck.min(until_deadline)) => {}
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return match status().await? {
                    Some(status) if FINAL_STATUSES.contains(&status.as_str()) => Ok(status),
                    Some(_) => Err(Error::WaitTimeout(id)),
                    None => Err(Error::TaskNotFound(id)),
                };
            }
        }
    }

    /// Drop the senders of waits that ended (their receivers are gone).
    fn prune(&self, id: i64) {
        let mut waiters = self.waiters.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(list) = waiters.get_mut(&id) {
            list.retain(|s| !s.is_closed());
            if list.is_empty() {
                waiters.remove(&id);
            }
        }
    }

    pub fn close(&self) {
        let _ = self.shutdown.send(true);
    }
}
