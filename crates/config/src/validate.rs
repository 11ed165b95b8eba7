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

    for proxy in &server.trusted_proxies {
        check_network(proxy).map_err(|r| invalid("server.trusted_proxies", r))?;
    }

    let auth = &settings.auth;
    if auth.argon2_iterations == 0 || auth.argon2_parallelism == 0 {
        return Err(invalid(
            "auth.argon2_iterations",
            "argon2_iterations and argon2_parallelism must be at least 1".to_owned(),
        ));
    }
    if auth.argon2_memory_kib < 8 * auth.argon2_parallelism || auth.argon2_memory_kib > 4 << 20 {
        return Err(invalid(
            "auth.argon2_memory_kib",
            "must be at least 8 × argon2_parallelism and at most 4194304 (4 GiB)".to_owned(),
        ));
    }
    if auth.hash_queue == 0 {
        return Err(invalid("auth.hash_queue", "must be at least 1".to_owned()));
    }
    let delivery = &settings.delivery;
    if delivery.email == crate::EmailTransport::Smtp {
        match &delivery.smtp_url {
            None => {
                return Err(invalid(
                    "delivery.smtp_url",
                    "email = \"smtp\" needs smtp_url (smtp://user:pass@host:587 or smtps://...)"
                        .to_owned(),
                ));
            }
            Some(url) => {
                let lower = url.expose().to_ascii_lowercase();
                if !(lower.starts_with("smtp://") || lower.starts_with("smtps://")) {
                    return Err(invalid(
                        "delivery.smtp_url",
                        "must start with smtp:// or smtps://".to_owned(),
                    ));
                }
            }
        }
        if delivery.smtp_from.is_none() {
            return Err(invalid(
                "delivery.smtp_from",
                "email = \"smtp\" needs a sender address (smtp_from)".to_owned(),
            ));
        }
    }
    if delivery.sms == crate::SmsTransport::Webhook {
        match &delivery.sms_webhook_url {
            Some(u) if u.starts_with("https://") || u.starts_with("http://") => {}
            _ => {
                return Err(invalid(
                    "delivery.sms_webhook_url",
                    "sms = \"webhook\" needs an http(s) sms_webhook_url".to_owned(),
                ));
            }
        }
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
/// An IP address or a CIDR network.
fn check_network(value: &str) -> Result<(), String> {
    let (addr, prefix) = match value.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (value, None),
    };
    let addr: std::net::IpAddr = addr
        .trim()
        .parse()
        .map_err(|_| format!("`{value}` is not an IP address or CIDR network"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    if let Some(p) = prefix {
        match p.parse::<u8>() {
            Ok(p) if p <= max => {}
            _ => return Err(format!("`{value}`: the prefix length must be 0 to {max}")),
        }
    }
    Ok(())
}

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
