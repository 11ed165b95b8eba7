//! The settings tree as written in the file and the environment: like [`Settings`], plus an
//! `x_file` sibling for every secret `x`. Resolved into [`Settings`] by [`RawSettings::resolve`].

use std::path::PathBuf;

use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::error::{ConfigError, origin_of};
use crate::secret::empty_as_none;
use crate::{
    AuthSettings, CacheSettings, DatabaseSettings, DeliverySettings, EmailTransport, LogSettings,
    Secret, SecuritySettings, ServerSettings, Settings, SmsTransport,
};

// NOTE: the defaults layer is this struct serialized; a `Secret` serializes masked, so no secret
// may ever have a `Some` default here.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSettings {
    server: ServerSettings,
    database: RawDatabase,
    security: RawSecurity,
    cache: RawCache,
    log: LogSettings,
    auth: AuthSettings,
    delivery: RawDelivery,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelivery {
    email: EmailTransport,
    #[serde(default, deserialize_with = "empty_as_none")]
    smtp_url: Option<Secret>,
    #[serde(default, deserialize_with = "empty_as_none")]
    smtp_url_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "empty_as_none")]
    smtp_from: Option<String>,
    sms: SmsTransport,
    #[serde(default, deserialize_with = "empty_as_none")]
    sms_webhook_url: Option<String>,
    #[serde(default, deserialize_with = "empty_as_none")]
    sms_webhook_token: Option<Secret>,
    #[serde(default, deserialize_with = "empty_as_none")]
    sms_webhook_token_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "empty_as_none")]
    outbox_dir: Option<PathBuf>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCache {
    #[serde(default, deserialize_with = "empty_as_none")]
    redis_url: Option<Secret>,
    #[serde(default, deserialize_with = "empty_as_none")]
    redis_url_file: Option<PathBuf>,
    ttl_secs: u64,
    local_ttl_secs: u64,
    max_entries: u64,
    namespace: String,
}

impl Default for RawCache {
    fn default() -> Self {
        let d = CacheSettings::default();
        Self {
            redis_url: d.redis_url,
            redis_url_file: None,
            ttl_secs: d.ttl_secs,
            local_ttl_secs: d.local_ttl_secs,
            max_entries: d.max_entries,
            namespace: d.namespace,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDatabase {
    #[serde(default, deserialize_with = "empty_as_none")]
    url: Option<Secret>,
    #[serde(default, deserialize_with = "empty_as_none")]
    url_file: Option<PathBuf>,
    #[serde(default, deserialize_with = "empty_as_none")]
    admin_url: Option<Secret>,
    #[serde(default, deserialize_with = "empty_as_none")]
    admin_url_file: Option<PathBuf>,
    app_role: String,
    max_connections: u32,
    connect_timeout_secs: u64,
}

impl Default for RawDatabase {
    fn default() -> Self {
        let d = DatabaseSettings::default();
        Self {
            url: d.url,
            url_file: None,
            admin_url: d.admin_url,
            admin_url_file: None,
            app_role: d.app_role,
            max_connections: d.max_connections,
            connect_timeout_secs: d.connect_timeout_secs,
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecurity {
    #[serde(default, deserialize_with = "empty_as_none")]
    master_key: Option<Secret>,
    #[serde(default, deserialize_with = "empty_as_none")]
    master_key_file: Option<PathBuf>,
}

impl RawSettings {
    /// Reads every `x_file` into its `x`. `figment` is only used to say where a key came from.
    pub(crate) fn resolve(self, figment: &Figment) -> Result<Settings, ConfigError> {
        let db = self.database;
        let security = self.security;
        let cache = self.cache;
        Ok(Settings {
            server: self.server,
            database: DatabaseSettings {
                url: resolve_secret(figment, "database.url", db.url, db.url_file)?,
                admin_url: resolve_secret(
                    figment,
                    "database.admin_url",
                    db.admin_url,
                    db.admin_url_file,
                )?,
                app_role: db.app_role,
                max_connections: db.max_connections,
                connect_timeout_secs: db.connect_timeout_secs,
            },
            security: SecuritySettings {
                master_key: resolve_secret(
                    figment,
                    "security.master_key",
                    security.master_key,
                    security.master_key_file,
                )?,
            },
            cache: CacheSettings {
                redis_url: resolve_secret(
                    figment,
                    "cache.redis_url",
                    cache.redis_url,
                    cache.redis_url_file,
                )?,
                ttl_secs: cache.ttl_secs,
                local_ttl_secs: cache.local_ttl_secs,
                max_entries: cache.max_entries,
                namespace: cache.namespace,
            },
            log: self.log,
            auth: self.auth,
            delivery: DeliverySettings {
                email: self.delivery.email,
                smtp_url: resolve_secret(
                    figment,
                    "delivery.smtp_url",
                    self.delivery.smtp_url,
                    self.delivery.smtp_url_file,
                )?,
                smtp_from: self.delivery.smtp_from,
                sms: self.delivery.sms,
                sms_webhook_url: self.delivery.sms_webhook_url,
                sms_webhook_token: resolve_secret(
                    figment,
                    "delivery.sms_webhook_token",
                    self.delivery.sms_webhook_token,
                    self.delivery.sms_webhook_token_file,
                )?,
                outbox_dir: self.delivery.outbox_dir,
            },
        })
    }
}

fn resolve_secret(
    figment: &Figment,
    key: &str,
    value: Option<Secret>,
    file: Option<PathBuf>,
) -> Result<Option<Secret>, ConfigError> {
    let file_key = format!("{key}_file");
    match (value, file) {
        (value, None) => Ok(value),
        (Some(_), Some(_)) => Err(ConfigError::SecretConflict {
            key: key.to_owned(),
            key_origin: origin_of(figment, key),
            file_key: file_key.clone(),
            file_origin: origin_of(figment, &file_key),
        }),
        (None, Some(path)) => {
            let read_error = |reason: String| ConfigError::SecretFile {
                origin: origin_of(figment, &file_key),
                key: file_key.clone(),
                path: path.clone(),
                reason,
            };
            let content = std::fs::read_to_string(&path).map_err(|e| read_error(e.to_string()))?;
            let value = content.trim_end_matches(['\n', '\r']);
            if value.is_empty() {
                return Err(read_error("the file is empty".to_owned()));
            }
            Ok(Some(Secret::new(value)))
        }
    }
}
