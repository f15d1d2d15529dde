//! What opening a connection takes: the tokio-postgres settings and the TLS connector, kept
//! together so that pooled, dedicated and LISTEN connections all encrypt and verify alike.

use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::{Client, Config, Connection, Socket};
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Result;

pub type TlsStream = <MakeRustlsConnect as MakeTlsConnect<Socket>>::Stream;

#[derive(Clone)]
pub struct ConnectConfig {
    pub pg: Config,
    pub tls: MakeRustlsConnect,
}

impl std::fmt::Debug for ConnectConfig {
    // tokio-postgres's own Debug prints the password as "_".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectConfig")
            .field("pg", &self.pg)
            .finish_non_exhaustive()
    }
}

impl ConnectConfig {
    /// A new connection; the caller drives the returned `Connection`.
    pub async fn connect(&self) -> Result<(Client, Connection<Socket, TlsStream>)> {
        Ok(self.pg.connect(self.tls.clone()).await?)
    }
}
