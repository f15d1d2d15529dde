//! Connection strings: parsing into a tokio-postgres config, and redaction for messages and logs.
//!
//! Both libpq forms are accepted: URLs (`postgresql://user:secret@host:5432/db?sslmode=disable`)
//! and key/value strings (`host=/tmp port=5432 user=me password=secret`). A password never
//! appears in an error, a log line or a `repr`: everything user-visible goes through `redact`.

use std::str::FromStr;

use tokio_postgres::Config;

use crate::error::{Error, Result};

/// Parse a DSN, naming the problem without echoing the secret.
pub fn parse(dsn: &str, application_name: &str) -> Result<Config> {
    if dsn.trim().is_empty() {
        return Err(Error::Invalid(
            "no database DSN given: pass --dsn or set ANCLAX_DSN, e.g. postgresql://user@localhost:5432/app".to_owned(),
        ));
    }
    let mut config =
        Config::from_str(dsn).map_err(|err| Error::Invalid(format!("invalid database DSN {}: {err}", redact(dsn))))?;
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
    Ok(config)
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
