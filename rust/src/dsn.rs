//! Connection strings: parsing into connection settings, and redaction for messages and logs.
//!
//! Both libpq forms are accepted: URLs (`postgresql://user:secret@host:5432/db?sslmode=require`)
//! and key/value strings (`host=/tmp port=5432 user=me password=secret`). A password never
//! appears in an error, a log line or a `repr`: everything user-visible goes through `redact`.
//! `sslmode` and `sslrootcert` are read here rather than by tokio-postgres, which knows neither
//! `verify-ca`/`verify-full` nor root certificates (see `db::tls`).

use std::str::FromStr;

use percent_encoding::percent_decode_str;
use tokio_postgres::Config;
use tokio_postgres::config::Host;

use crate::db::connect::ConnectConfig;
use crate::db::tls::{self, RootCerts, SslMode};
use crate::error::{Error, Result};

/// libpq options for client certificates and revocation lists: not supported (yet), and better
/// refused by name than ignored, since a user who sets them expects them to be used.
const UNSUPPORTED_TLS_OPTIONS: [&str; 5] = ["sslcert", "sslkey", "sslpassword", "sslcrl", "sslcrldir"];

/// Parse a DSN, naming the problem without echoing the secret.
pub fn parse(dsn: &str, application_name: &str) -> Result<ConnectConfig> {
    if dsn.trim().is_empty() {
        return Err(Error::Invalid(
            "no database DSN given: pass --dsn or set ANCLAX_DSN, e.g. postgresql://user@localhost:5432/app".to_owned(),
        ));
    }
    let mut keys = vec!["sslmode", "sslrootcert"];
    keys.extend(UNSUPPORTED_TLS_OPTIONS);
    let (rest, tls_options) = take_options(dsn, &keys);
    let mut mode = SslMode::Prefer;
    let mut root_certs = None;
    for (key, value) in &tls_options {
        match key.as_str() {
            "sslmode" => mode = SslMode::parse(value)?,
            "sslrootcert" => root_certs = Some(RootCerts::from_option(value)),
            _ => {
                return Err(Error::Invalid(format!(
                    "{key} in the database DSN is not supported: anclax-fast encrypts and verifies the server \
                     (sslmode, sslrootcert) but does not present client certificates or read CRLs"
                )));
            }
        }
    }
    let mut config = Config::from_str(&rest)
        .map_err(|err| Error::Invalid(format!("invalid database DSN {}: {err}", redact(dsn))))?;
    if config.get_hosts().is_empty() {
        // libpq's default: the local Unix socket directory.
        config.host("/var/run/postgresql");
    }
    if config.get_user().is_none() {
        if let Ok(user) = std::env::var("USER") {
            config.user(&user);
        }
    }
    if config.get_application_name().is_none() {
        config.application_name(application_name);
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(std::time::Duration::from_secs(10));
    }
    detect_dead_peers(&mut config, &rest);
    // As libpq: TLS is for TCP; a Unix socket connection ignores sslmode.
    if config.get_hosts().iter().all(|host| !matches!(host, Host::Tcp(_))) {
        mode = SslMode::Disable;
    }
    config.ssl_mode(mode.wire_mode());
    let tls = tls::connector(mode, root_certs.as_ref())?;
    Ok(ConnectConfig { pg: config, tls })
}

/// A connection whose peer vanished (host down, network cut, half-open after a failover) is
/// noticed within seconds instead of the OS defaults (keepalives after two hours, unacknowledged
/// data retransmitted for about fifteen minutes): TCP keepalives after 10 s idle, every 5 s, 3
/// probes; and `tcp_user_timeout` of 20 s. Only what the DSN does not set itself.
fn detect_dead_peers(config: &mut Config, dsn: &str) {
    let says = |key: &str| dsn.contains(key);
    if !says("keepalives_idle") {
        config.keepalives_idle(std::time::Duration::from_secs(10));
    }
    if !says("keepalives_interval") {
        config.keepalives_interval(std::time::Duration::from_secs(5));
    }
    if !says("keepalives_retries") {
        config.keepalives_retries(3);
    }
    if config.get_tcp_user_timeout().is_none() {
        config.tcp_user_timeout(std::time::Duration::from_secs(20));
    }
}

/// The DSN without the options named in `keys`, and those options' values in order. Values are
/// unquoted (key/value form) or percent-decoded (URL form). A DSN this cannot make sense of is
/// returned whole, for tokio-postgres to report.
fn take_options(dsn: &str, keys: &[&str]) -> (String, Vec<(String, String)>) {
    let mut taken = Vec::new();
    if dsn.starts_with("postgres://") || dsn.starts_with("postgresql://") {
        let Some((base, query)) = dsn.split_once('?') else {
            return (dsn.to_owned(), taken);
        };
        let mut kept = Vec::new();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key_decoded = percent_decode_str(key).decode_utf8_lossy();
            if keys.contains(&key_decoded.as_ref()) {
                taken.push((
                    key_decoded.into_owned(),
                    percent_decode_str(value).decode_utf8_lossy().into_owned(),
                ));
            } else {
                kept.push(pair);
            }
        }
        let rest = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        return (rest, taken);
    }
    let Some(options) = key_value_options(dsn) else {
        return (dsn.to_owned(), taken);
    };
    let mut rest = String::with_capacity(dsn.len());
    let mut copied_up_to = 0;
    for option in options {
        if keys.contains(&option.key.as_str()) {
            rest.push_str(&dsn[copied_up_to..option.span.0]);
            copied_up_to = option.span.1;
            taken.push((option.key, option.value));
        }
    }
    rest.push_str(&dsn[copied_up_to..]);
    (rest, taken)
}

struct KeyValue {
    key: String,
    value: String,
    /// Byte range of `key = value` in the DSN.
    span: (usize, usize),
}

/// libpq's `key = value` syntax: values single-quoted or bare, a backslash escaping the next
/// character in either. `None` when the string does not follow it.
fn key_value_options(dsn: &str) -> Option<Vec<KeyValue>> {
    let bytes = dsn.as_bytes();
    let skip_space = |mut i: usize| {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        i
    };
    let mut options = Vec::new();
    let mut i = skip_space(0);
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = dsn[start..i].to_owned();
        i = skip_space(i);
        if key.is_empty() || bytes.get(i) != Some(&b'=') {
            return None;
        }
        i = skip_space(i + 1);
        let quoted = bytes.get(i) == Some(&b'\'');
        if quoted {
            i += 1;
        }
        let mut value = Vec::new();
        loop {
            match bytes.get(i) {
                None if quoted => return None,
                None => break,
                Some(b'\'') if quoted => {
                    i += 1;
                    break;
                }
                Some(c) if !quoted && c.is_ascii_whitespace() => break,
                Some(b'\\') => {
                    value.push(*bytes.get(i + 1)?);
                    i += 2;
                }
                Some(c) => {
                    value.push(*c);
                    i += 1;
                }
            }
        }
        options.push(KeyValue {
            key,
            value: String::from_utf8(value).ok()?,
            span: (start, i),
        });
        i = skip_space(i);
    }
    Some(options)
}

/// The DSN with any password replaced by `***`.
#[must_use]
pub fn redact(dsn: &str) -> String {
    if let Some(rest) = dsn.split_once("://").map(|(_, rest)| rest) {
        let scheme_len = dsn.len() - rest.len();
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        let redacted_authority = match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => format!("{}:***{}", &userinfo[..colon], &authority[at..]),
                    None => authority.to_owned(),
                }
            }
            None => authority.to_owned(),
        };
        let query = redact_query(&rest[authority_end..]);
        return format!("{}{redacted_authority}{query}", &dsn[..scheme_len]);
    }
    redact_key_values(dsn)
}

fn redact_query(path_and_query: &str) -> String {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return path_and_query.to_owned();
    };
    let params: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{path}?{}", params.join("&"))
}

fn redact_key_values(dsn: &str) -> String {
    // `password = 'a b'`, `password=x`: blank out everything up to the end of the value.
    let lower = dsn.to_ascii_lowercase();
    let Some(start) = lower.find("password") else {
        return dsn.to_owned();
    };
    let after_key = start + "password".len();
    let rest = &dsn[after_key..];
    let Some(eq) = rest.find('=') else {
        return dsn.to_owned();
    };
    let value_start = after_key + eq + 1 + (rest[eq + 1..].len() - rest[eq + 1..].trim_start().len());
    let value = &dsn[value_start..];
    let value_len = if let Some(quoted) = value.strip_prefix('\'') {
        let mut escaped = false;
        let mut end = quoted.len();
        for (i, c) in quoted.char_indices() {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '\'' {
                end = i + 1;
                break;
            }
        }
        end + 1
    } else {
        value.find(char::is_whitespace).unwrap_or(value.len())
    };
    let tail = redact_key_values(&dsn[value_start + value_len.min(value.len())..]);
    format!("{}***{tail}", &dsn[..value_start])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(dsn: &str) -> (String, Vec<(String, String)>) {
        take_options(dsn, &["sslmode", "sslrootcert"])
    }

    #[test]
    fn tls_options_come_out_of_urls() {
        let (rest, options) = taken(
            "postgresql://me:pw@db:5432/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca%20x.pem&connect_timeout=5",
        );
        assert_eq!(rest, "postgresql://me:pw@db:5432/app?connect_timeout=5");
        assert_eq!(
            options,
            vec![
                ("sslmode".to_owned(), "verify-full".to_owned()),
                ("sslrootcert".to_owned(), "/etc/ca x.pem".to_owned())
            ]
        );
        assert_eq!(taken("postgresql://db/app?sslmode=require").0, "postgresql://db/app");
        assert_eq!(taken("postgresql://db/app").0, "postgresql://db/app");
    }

    #[test]
    fn tls_options_come_out_of_key_value_strings() {
        let (rest, options) = taken(r"host=db sslmode = verify-ca  sslrootcert='/etc/my ca\'s.pem' dbname=app");
        assert_eq!(rest, "host=db    dbname=app");
        assert_eq!(options[0], ("sslmode".to_owned(), "verify-ca".to_owned()));
        assert_eq!(options[1], ("sslrootcert".to_owned(), "/etc/my ca's.pem".to_owned()));
        // Not key/value syntax: left whole for tokio-postgres to report.
        assert_eq!(taken("host=db sslmode").0, "host=db sslmode");
        assert_eq!(taken("password='unterminated").0, "password='unterminated");
    }

    #[test]
    fn verifying_modes_parse_and_unix_sockets_ignore_sslmode() {
        let config = parse("postgresql://db/app?sslmode=verify-full&sslrootcert=system", "t");
        // The machine may or may not have a system store; either way the mode is understood.
        if let Ok(config) = config {
            assert_eq!(config.pg.get_ssl_mode(), tokio_postgres::config::SslMode::Require);
        }
        let unix = parse("host=/tmp dbname=app sslmode=require", "t").unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(unix.pg.get_ssl_mode(), tokio_postgres::config::SslMode::Disable);
        let tcp = parse("host=db dbname=app sslmode=require", "t").unwrap_or_else(|err| panic!("{err}"));
        assert_eq!(tcp.pg.get_ssl_mode(), tokio_postgres::config::SslMode::Require);
    }

    #[test]
    fn bad_tls_options_are_named() {
        let err = |dsn: &str| parse(dsn, "t").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err("postgresql://db/app?sslmode=allow").contains("invalid sslmode \"allow\""));
        assert!(err("host=db sslcert=/c.pem").contains("sslcert in the database DSN is not supported"));
        assert!(err("postgresql://db/app?sslmode=verify-ca&sslrootcert=/nope.pem").contains("/nope.pem"));
    }

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(
            redact("postgresql://me:s3cret@db:5432/app"),
            "postgresql://me:***@db:5432/app"
        );
        assert_eq!(redact("postgres://me@db/app"), "postgres://me@db/app");
        assert_eq!(redact("postgresql://me:p@ss@db/app"), "postgresql://me:***@db/app");
        assert_eq!(
            redact("postgresql://db/app?user=me&password=x&sslmode=disable"),
            "postgresql://db/app?user=me&password=***&sslmode=disable"
        );
    }

    #[test]
    fn redacts_key_value_passwords() {
        assert_eq!(
            redact("host=db password=s3cret user=me"),
            "host=db password=*** user=me"
        );
        assert_eq!(
            redact("host=db password = 'a b\\' c' user=me"),
            "host=db password = *** user=me"
        );
        assert_eq!(redact("host=db user=me"), "host=db user=me");
    }

    #[test]
    fn invalid_dsn_error_hides_the_password() {
        let err = parse("postgresql://me:s3cret@db:notaport/app", "t")
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid database DSN"), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }

    #[test]
    fn empty_dsn_says_what_to_do() {
        let err = parse("  ", "t").unwrap_err().to_string();
        assert!(err.contains("ANCLAX_DSN"), "{err}");
    }
}
