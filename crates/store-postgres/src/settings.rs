//! Connection settings of the PostgreSQL adapter.

use std::fmt;
use std::time::Duration;

/// The role the application's connections `SET ROLE` to when none is configured.
pub const DEFAULT_APP_ROLE: &str = "tessera_app";

/// Where and how to connect.
#[derive(Clone, PartialEq, Eq)]
pub struct PostgresSettings {
    /// The application's connection URL (`postgres://user:password@host:port/database`). Its
    /// user must be allowed to `SET ROLE` to `app_role` (`migrate` grants that).
    pub url: String,
    /// A URL with the right to create tables and roles, used by `migrate` only; `url` when
    /// `None`.
    pub admin_url: Option<String>,
    /// The role queries run as: created by `migrate` (NOLOGIN, NOSUPERUSER, NOBYPASSRLS).
    /// `[a-z_][a-z0-9_]{0,62}`.
    pub app_role: String,
    /// Size of the application pool.
    pub max_connections: u32,
    /// How long to wait for the database before reporting it unavailable.
    pub connect_timeout: Duration,
}

impl PostgresSettings {
    /// Settings for `url` with the defaults: role `tessera_app`, 10 connections, 5 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            admin_url: None,
            app_role: DEFAULT_APP_ROLE.to_owned(),
            max_connections: 10,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Hides passwords: settings end up in logs.
impl fmt::Debug for PostgresSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresSettings")
            .field("url", &redact(&self.url))
            .field("admin_url", &self.admin_url.as_deref().map(redact))
            .field("app_role", &self.app_role)
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    match rest.rsplit_once('@') {
        Some((credentials, host)) => match credentials.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_passwords() {
        let mut s = PostgresSettings::new("postgres://app:s3cret@db.internal:5432/tessera");
        s.admin_url = Some("postgres://admin:hunter2@db.internal/tessera".to_owned());
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(
            shown.contains("app:***@db.internal:5432/tessera"),
            "{shown}"
        );
    }
}
