//! A LISTEN connection that survives restarts: it reconnects with backoff and announces each
//! (re)connection, since notifications sent while it was down are lost and listeners must
//! catch up by querying.

use std::time::Duration;

use tokio::sync::{mpsc, watch};

use crate::backoff::Backoff;
use crate::db::connect::ConnectConfig;
use crate::db::pool::connect_dedicated;

/// A silently dead TCP connection delivers nothing; a periodic round trip notices it.
const HEALTH_CHECK_INTERVAL: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub enum ListenEvent {
    Notification {
        channel: String,
        payload: String,
    },
    /// Listening (again): anything announced meanwhile was missed.
    Connected,
}

/// Listen on `channels` until `shutdown` turns true, forwarding to `events`.
pub async fn listen(
    config: ConnectConfig,
    channels: Vec<&'static str>,
    events: mpsc::UnboundedSender<ListenEvent>,
    mut shutdown: watch::Receiver<bool>,
) {
    let statement = channels
        .iter()
        .map(|c| format!("LISTEN {c};"))
        .collect::<Vec<_>>()
        .join(" ");
    let mut backoff = Backoff::default();
    while !*shutdown.borrow() {
        match connect_dedicated(&config).await {
            Ok((client, mut notes)) => match client.batch_execute(&statement).await {
                Ok(()) => {
                    backoff.reset();
                    if events.send(ListenEvent::Connected).is_err() {
                        return;
                    }
                    loop {
                        tokio::select! {
                            note = notes.recv() => match note {
                                Some(note) => {
                                    let event = ListenEvent::Notification {
                                        channel: note.channel().to_owned(),
                                        payload: note.payload().to_owned(),
                                    };
                                    if events.send(event).is_err() {
                                        return;
                                    }
                                }
                                None => break,
                            },
                            () = tokio::time::sleep(HEALTH_CHECK_INTERVAL) => {
                                if client.simple_query("SELECT 1").await.is_err() {
                                    break;
                                }
                            }
                            _ = shutdown.changed() => return,
                        }
                    }
                    log::warn!("lost the LISTEN connection; reconnecting");
                }
                Err(err) => log::warn!("LISTEN failed: {err}"),
            },
            Err(err) => {
                if backoff.attempts() == 0 {
                    log::warn!("cannot open the LISTEN connection: {err}; retrying");
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(backoff.next_delay()) => {}
            _ = shutdown.changed() => return,
        }
    }
}
