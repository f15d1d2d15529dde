//! The connection pool (deadpool) and single dedicated connections (for LISTEN).

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::Client;

use crate::db::connect::ConnectConfig;
use crate::error::{Error, Result};

/// How long a caller waits for a free pooled connection before giving up with a clear error.
pub const POOL_WAIT_TIMEOUT: Duration = Duration::from_secs(30);

pub fn build(config: ConnectConfig, size: usize) -> Result<Pool> {
    if size == 0 {
        return Err(Error::Invalid("pool_size must be at least 1".to_owned()));
    }
    let connect_timeout = config.pg.get_connect_timeout().copied();
    let manager = Manager::from_config(
        config.pg,
        config.tls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_WAIT_TIMEOUT))
        .create_timeout(connect_timeout)
        .build()
        .map_err(|err| Error::Invalid(format!("cannot build the connection pool: {err}")))
}

/// A connection outside the pool, its I/O driven by a spawned task; returns the client and a
/// receiver of the asynchronous messages (notifications) it gets.
pub async fn connect_dedicated(
    config: &ConnectConfig,
) -> Result<(
    Client,
    tokio::sync::mpsc::UnboundedReceiver<tokio_postgres::Notification>,
)> {
    let (client, mut connection) = config.connect().await?;
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match futures_util::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(note))) => {
                    if tx.send(note).is_err() {
                        break;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(err)) => {
                    log::debug!("dedicated connection ended: {err}");
                    break;
                }
                None => break,
            }
        }
    });
    Ok((client, rx))
}
