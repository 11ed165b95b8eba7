//! Checks that serde cannot express, run after loading. Errors name the key and its origin.

use std::net::SocketAddr;

use figment::Figment;

use crate::error::origin_of;
use crate::{ConfigError, Secret, Settings};

pub(crate) fn validate(settings: &mut Settings, figment: &Figment) -> Result<(), ConfigError> {
    let invalid = |key: &str, reason: String| ConfigError::InvalidValue {
        key: key.to_owned(),
        origin: origin_of(figment, key),
        reason,
    };

    let server = &mut settings.server;
    server.listen.parse::<SocketAddr>().map_err(|_| {
        invalid(
            "server.listen",
            format!(
                "`{}` is not an IP:PORT socket address (for example 127.0.0.1:8080 or \
                     [::]:8080)",
                server.listen
            ),
        )
    })?;
    if let Some(public_url) = &server.public_url {
        let normalised =
            check_public_url(public_url).map_err(|r| invalid("server.public_url", r))?;
        server.public_url = Some(normalised);
    }
    if server.max_body_bytes == 0 {
        return Err(invalid(
            "server.max_body_bytes",
            "must be at least 1".to_owned(),
        ));
    }

    let db = &settings.database;
    check_database_url(db.url.as_ref()).map_err(|r| invalid("database.url", r))?;
    check_database_url(db.admin_url.as_ref()).map_err(|r| invalid("database.admin_url", r))?;
    if db.max_connections == 0 {
        return Err(invalid(
            "database.max_connections",
            "must be at least 1".to_owned(),
        ));
    }
    if db.app_role.trim().is_empty() {
        return Err(invalid("database.app_role", "must not be empty".to_owned()));
    }

    let cache = &settings.cache;
    if let Some(url) = &cache.redis_url {
        let lower = url.expose().trim().to_ascii_lowercase();
        let ok = lower.starts_with("redis://") || lower.starts_with("rediss://");
        if !ok {
            return Err(invalid(
                "cache.redis_url",
                "expected a redis:// or rediss:// URL".to_owned(),
            ));
        }
    }
    for (key, value) in [
        ("cache.ttl_secs", cache.ttl_secs),
        ("cache.local_ttl_secs", cache.local_ttl_secs),
        ("cache.max_entries", cache.max_entries),
    ] {
        if value == 0 {
            return Err(invalid(key, "must be at least 1".to_owned()));
        }
    }
    let ns_ok = !cache.namespace.is_empty()
        && cache.namespace.len() <= 64
        && cache
            .namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ns_ok {
        return Err(invalid(
            "cache.namespace",
            "1 to 64 characters of letters, digits, '-', '_' and '.'".to_owned(),
        ));
    }

    if settings.log.level.trim().is_empty() {
        return Err(invalid(
            "log.level",
            "must not be empty (for example `info` or `tessera=debug,info`)".to_owned(),
        ));
    }
    Ok(())
}

/// An absolute `http(s)` URL with a host and neither query nor fragment; returned without a
/// trailing `/`.
fn check_public_url(value: &str) -> Result<String, String> {
    let expected = "expected an absolute http:// or https:// URL such as https://id.example.com";
    let url =
        url::Url::parse(value).map_err(|e| format!("`{value}` is not a URL ({e}); {expected}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{value}` is not an http(s) URL; {expected}"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!("`{value}` must not have a query or fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("`{value}` must not contain credentials"));
    }
    Ok(value.trim().trim_end_matches('/').to_owned())
}

/// PostgreSQL (`postgres://`, `postgresql://`) or a SQLite file (`sqlite:`). The message never
/// repeats the URL, which may hold a password.
fn check_database_url(url: Option<&Secret>) -> Result<(), String> {
    let Some(url) = url else { return Ok(()) };
    let lower = url.expose().trim().to_ascii_lowercase();
    if ["postgres://", "postgresql://", "sqlite:"]
        .iter()
        .any(|scheme| lower.starts_with(scheme))
    {
        Ok(())
    } else {
        Err(
            "must start with `postgres://` or `postgresql://` (PostgreSQL) or `sqlite:` \
             (a SQLite file); leave it unset for the embedded SQLite database"
                .to_owned(),
        )
    }
}
