//! `Notifications`: the engine's NOTIFY channels, for Python code that reacts to changes (the
//! dashboard's live updates) without polling. A LISTEN connection of its own that reconnects
//! by itself (`db::listen`); Python waits for what arrived, detached from the interpreter.

use std::time::Duration;

use pyo3::prelude::*;
use tokio::sync::{Mutex, mpsc, watch};

use crate::db::listen::{ListenEvent, listen};
use crate::db::sql;
use crate::error::Error;
use crate::py::blocking::block_on;
use crate::py::client::ClientCore;
use crate::runtime::RuntimeHandle;

/// The channels one may listen to: the engine's own, and no others (the names are spliced into
/// a LISTEN statement, so they come from this list, never from the caller).
const CHANNELS: [&str; 4] = [
    sql::CHANNEL_TASKS,
    sql::CHANNEL_DONE,
    sql::CHANNEL_CANCEL,
    sql::CHANNEL_SCHEDULES,
];

/// One received item: (channel, payload); ("", "") when the connection was (re)established and
/// anything sent while it was down was missed.
type Received = (String, String);

#[pyclass(frozen, module = "anclax_fast._core")]
pub struct Notifications {
    runtime: RuntimeHandle,
    events: Mutex<mpsc::UnboundedReceiver<ListenEvent>>,
    shutdown: watch::Sender<bool>,
}

#[pymethods]
impl Notifications {
    #[new]
    fn new(client: &ClientCore, channels: Vec<String>) -> PyResult<Self> {
        let mut selected = Vec::with_capacity(channels.len());
        for name in &channels {
            let known = CHANNELS.iter().find(|c| **c == name.as_str()).ok_or_else(|| {
                Error::Invalid(format!(
                    "unknown notification channel {name:?}; the channels are {}",
                    CHANNELS.join(", ")
                ))
            })?;
            selected.push(*known);
        }
        if selected.is_empty() {
            return Err(Error::Invalid("listen to at least one channel".to_owned()).into());
        }
        let runtime = client.runtime().clone();
        let (events_tx, events) = mpsc::unbounded_channel();
        let shutdown = watch::channel(false).0;
        runtime.spawn(listen(
            client.core().config.clone(),
            selected,
            events_tx,
            shutdown.subscribe(),
        ));
        Ok(Self {
            runtime,
            events: Mutex::new(events),
            shutdown,
        })
    }

    /// Wait up to `timeout` seconds for at least one notification, then return every one that has
    /// arrived (an empty list after the timeout). None once closed.
    fn next(&self, py: Python<'_>, timeout: f64) -> PyResult<Option<Vec<Received>>> {
        let timeout = Duration::try_from_secs_f64(timeout.max(0.0))
            .map_err(|_| Error::Invalid(format!("invalid timeout {timeout}")))?;
        block_on(py, &self.runtime, async {
            let mut events = self.events.lock().await;
            let first = match tokio::time::timeout(timeout, events.recv()).await {
                Err(_elapsed) => return Ok(Some(Vec::new())),
                Ok(None) => return Ok(None),
                Ok(Some(event)) => event,
            };
            let mut received = vec![item(first)];
            while let Ok(event) = events.try_recv() {
                received.push(item(event));
            }
            Ok(Some(received))
        })
    }

    /// Stop listening and close the connection.
    fn close(&self) {
        self.shutdown.send_replace(true);
    }
}

impl Drop for Notifications {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

fn item(event: ListenEvent) -> Received {
    match event {
        ListenEvent::Notification { channel, payload } => (channel, payload),
        ListenEvent::Connected => (String::new(), String::new()),
    }
}
