//! TLS for every database connection, with libpq's `sslmode` meanings, on rustls (ring).
//!
//! tokio-postgres itself knows only `disable`, `prefer` and `require`, and leaves certificate
//! checks to the connector. Managed Postgres services document `verify-full` with a CA file, so
//! the two verifying modes are implemented here: `dsn::parse` takes `sslmode` and `sslrootcert`
//! out of the DSN, hands tokio-postgres the encryption part and builds the verifier below.
//!
//! | sslmode | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | never | - |
//! | `prefer` (default) | when the server offers TLS | no |
//! | `require` | always | no (against `sslrootcert` when one is given or `~/.postgresql/root.crt` exists, as libpq does) |
//! | `verify-ca` | always | chain up to a root in `sslrootcert` |
//! | `verify-full` | always | chain, and the host name must match the certificate |

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres::config::SslMode as WireMode;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::{Error, Result};

/// libpq's `sslmode` values; `allow` is not offered (it only matters for servers that demand TLS
/// from some clients and not others, and behaves as `prefer` against every other server).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn parse(value: &str) -> Result<Self> {
        match value {
            "disable" => Ok(Self::Disable),
            "prefer" => Ok(Self::Prefer),
            "require" => Ok(Self::Require),
            "verify-ca" => Ok(Self::VerifyCa),
            "verify-full" => Ok(Self::VerifyFull),
            other => Err(Error::Invalid(format!(
                "invalid sslmode {other:?} in the database DSN: use disable, prefer, require, verify-ca or verify-full"
            ))),
        }
    }

    /// What tokio-postgres is told: whether to ask for TLS and whether to give up without it.
    #[must_use]
    pub fn wire_mode(self) -> WireMode {
        match self {
            Self::Disable => WireMode::Disable,
            Self::Prefer => WireMode::Prefer,
            Self::Require | Self::VerifyCa | Self::VerifyFull => WireMode::Require,
        }
    }
}

/// Where trusted roots come from: `sslrootcert=<PEM file>` or `sslrootcert=system`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RootCerts {
    File(PathBuf),
    System,
}

impl RootCerts {
    #[must_use]
    pub fn from_option(value: &str) -> Self {
        if value == "system" {
            Self::System
        } else {
            Self::File(PathBuf::from(value))
        }
    }
}

/// The connector every connection (pooled, dedicated, LISTEN) is made with.
pub fn connector(mode: SslMode, root_certs: Option<&RootCerts>) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let default_file = default_root_file();
    let roots = match (root_certs, &default_file) {
        (Some(roots), _) => Some(roots.clone()),
        (None, Some(path)) if path.exists() => Some(RootCerts::File(path.clone())),
        _ => None,
    };
    let verifier: Arc<dyn ServerCertVerifier> = match (mode, roots) {
        (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, None) => {
            Arc::new(EncryptOnly(provider.signature_verification_algorithms))
        }
        (SslMode::Require | SslMode::VerifyCa, Some(roots)) => Arc::new(ChainOnly(webpki_verifier(&roots, &provider)?)),
        (SslMode::VerifyFull, Some(roots)) => webpki_verifier(&roots, &provider)?,
        (SslMode::VerifyCa | SslMode::VerifyFull, None) => {
            let looked_at = default_file.map_or_else(
                || "no home directory to look for ~/.postgresql/root.crt in".to_owned(),
                |path| format!("{} does not exist", path.display()),
            );
            return Err(Error::Invalid(format!(
                "sslmode={} needs trusted root certificates: add sslrootcert=/path/to/ca.pem to the DSN, \
                 or sslrootcert=system for the operating system's store ({looked_at})",
                if mode == SslMode::VerifyCa {
                    "verify-ca"
                } else {
                    "verify-full"
                }
            )));
        }
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::Invalid(format!("cannot set up TLS: {err}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

fn default_root_file() -> Option<PathBuf> {
    std::env::var_os("HOME").map(|home| Path::new(&home).join(".postgresql").join("root.crt"))
}

fn load_roots(roots: &RootCerts) -> Result<RootCertStore> {
    let mut store = RootCertStore::empty();
    match roots {
        RootCerts::File(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .and_then(Iterator::collect::<Result<Vec<_>, _>>)
                .map_err(|err| {
                    Error::Invalid(format!(
                        "cannot read the root certificates in sslrootcert={}: {err}",
                        path.display()
                    ))
                })?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(Error::Invalid(format!(
                    "sslrootcert={} holds no usable certificate (expected PEM `BEGIN CERTIFICATE` blocks)",
                    path.display()
                )));
            }
        }
        RootCerts::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(Error::Invalid(
                    "sslrootcert=system: the operating system's certificate store is empty or unreadable \
                     (on Debian and Ubuntu it comes with the ca-certificates package)"
                        .to_owned(),
                ));
            }
        }
    }
    Ok(store)
}

fn webpki_verifier(roots: &RootCerts, provider: &Arc<CryptoProvider>) -> Result<Arc<WebPkiServerVerifier>> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(load_roots(roots)?), Arc::clone(provider))
        .build()
        .map_err(|err| Error::Invalid(format!("cannot set up certificate verification: {err}")))
}

/// `prefer` and `require` without roots: the session is encrypted and the handshake signature
/// is checked against the certificate presented, but who presented it is not (libpq's meaning).
#[derive(Debug)]
struct EncryptOnly(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for EncryptOnly {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name in the certificate may differ from
/// the host connected to (the WebPKI verifier checks the chain first, so a name mismatch is the
/// only error it can report for a chain that passed).
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::{RootCerts, SslMode, connector};
    use crate::error::Error;

    #[test]
    fn every_libpq_mode_but_allow_parses() {
        for mode in ["disable", "prefer", "require", "verify-ca", "verify-full"] {
            assert!(SslMode::parse(mode).is_ok(), "{mode}");
        }
        assert!(matches!(SslMode::parse("allow"), Err(Error::Invalid(m)) if m.contains("verify-full")));
    }

    #[test]
    fn verifying_without_roots_says_what_to_add() {
        let err = connector(
            SslMode::VerifyFull,
            Some(&RootCerts::File("/nonexistent/ca.pem".into())),
        );
        assert!(matches!(err, Err(Error::Invalid(m)) if m.contains("/nonexistent/ca.pem")));
    }

    #[test]
    fn a_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("anclax-tls-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap_or_else(|err| panic!("{err}"));
        let path = dir.join("empty.pem");
        std::fs::write(&path, "not a certificate\n").unwrap_or_else(|err| panic!("{err}"));
        let err = connector(SslMode::VerifyCa, Some(&RootCerts::File(path)));
        assert!(matches!(err, Err(Error::Invalid(m)) if m.contains("no usable certificate")));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn modes_that_do_not_verify_need_no_roots() {
        for mode in [SslMode::Disable, SslMode::Prefer, SslMode::Require] {
            assert!(connector(mode, None).is_ok(), "{mode:?}");
        }
    }
}
