use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::Secret;
use crate::secret::empty_as_none;

/// The whole configuration, as the rest of the program sees it: loaded, secrets resolved
/// (`*_file` keys already read), validated. Fields are public so that the server can apply
/// command-line overrides (`--listen`, `--data-dir`) by assignment.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Settings {
    /// `[server]`: HTTP listener and public address.
    pub server: ServerSettings,
    /// `[database]`: embedded SQLite (default) or PostgreSQL.
    pub database: DatabaseSettings,
    /// `[security]`: the master key that protects secrets at rest.
    pub security: SecuritySettings,
    /// `[cache]`: in-process cache, and the shared Redis tier for several nodes.
    pub cache: CacheSettings,
    /// `[log]`: log format and filter.
    pub log: LogSettings,
    /// `[auth]`: password hashing cost and pool, key rotation schedule.
    pub auth: AuthSettings,
    /// `[delivery]`: how emails and SMS reach people.
    pub delivery: DeliverySettings,
}

/// `[server]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port the HTTP server listens on (`IP:PORT`; use port 0 for any free port).
    /// Default: `127.0.0.1:8080`. Env: `TESSERA_SERVER__LISTEN`. CLI: `--listen`.
    pub listen: String,
    /// The externally visible base URL (`http://` or `https://`, optionally with a path
    /// prefix; a trailing `/` is removed). Issuers are `{public_url}/t/{tenant}`.
    /// Default: unset, meaning `http://{listen}`. Env: `TESSERA_SERVER__PUBLIC_URL`.
    #[serde(default, deserialize_with = "empty_as_none")]
    pub public_url: Option<String>,
    /// Directory of the embedded data: the SQLite database (`tessera.db`) and a generated
    /// master key (`master.key`). Created if missing.
    /// Default: `./tessera-data`. Env: `TESSERA_SERVER__DATA_DIR`. CLI: `--data-dir`.
    pub data_dir: PathBuf,
    /// Largest accepted request body, in bytes (at least 1).
    /// Default: `1048576` (1 MiB). Env: `TESSERA_SERVER__MAX_BODY_BYTES`.
    pub max_body_bytes: usize,
    /// Set when Tessera is reached over HTTPS (directly or through a TLS-terminating proxy):
    /// responses then carry `Strict-Transport-Security`.
    /// Default: `false`. Env: `TESSERA_SERVER__BEHIND_TLS`.
    pub behind_tls: bool,
    /// On shutdown, how many seconds in-flight requests get to finish.
    /// Default: `10`. Env: `TESSERA_SERVER__SHUTDOWN_GRACE_SECS`.
    pub shutdown_grace_secs: u64,
    /// Proxies (addresses or CIDR networks) whose `X-Forwarded-For` header is believed for the
    /// client address (throttling, audit, sessions). From anyone else it is ignored.
    /// Default: none. Env: `TESSERA_SERVER__TRUSTED_PROXIES` (comma-separated).
    #[serde(deserialize_with = "string_or_list")]
    pub trusted_proxies: Vec<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            public_url: None,
            data_dir: PathBuf::from("./tessera-data"),
            max_body_bytes: 1024 * 1024,
            behind_tls: false,
            shutdown_grace_secs: 10,
            trusted_proxies: Vec::new(),
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatabaseSettings {
    /// PostgreSQL connection URL (`postgres://` or `postgresql://`), or `sqlite:PATH` for a
    /// SQLite file outside the data directory. Secret; may be read from a file with `url_file`.
    /// Default: unset, meaning the embedded SQLite database `{data_dir}/tessera.db`.
    /// Env: `TESSERA_DATABASE__URL` or `TESSERA_DATABASE__URL_FILE`.
    pub url: Option<Secret>,
    /// Connection URL used to run migrations (a role that may create tables and policies).
    /// Same format as `url`. Secret; may be read from a file with `admin_url_file`.
    /// Default: unset, meaning `url`.
    /// Env: `TESSERA_DATABASE__ADMIN_URL` or `TESSERA_DATABASE__ADMIN_URL_FILE`.
    pub admin_url: Option<Secret>,
    /// PostgreSQL role the application runs as (neither superuser nor `BYPASSRLS`, so that
    /// row-level security applies). Default: `tessera_app`. Env: `TESSERA_DATABASE__APP_ROLE`.
    pub app_role: String,
    /// Most connections in the pool (at least 1).
    /// Default: `16`. Env: `TESSERA_DATABASE__MAX_CONNECTIONS`.
    pub max_connections: u32,
    /// Seconds to wait for a connection before failing.
    /// Default: `5`. Env: `TESSERA_DATABASE__CONNECT_TIMEOUT_SECS`.
    pub connect_timeout_secs: u64,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            admin_url: None,
            app_role: "tessera_app".to_owned(),
            max_connections: 16,
            connect_timeout_secs: 5,
        }
    }
}

/// `[security]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SecuritySettings {
    /// The master key that encrypts secrets at rest: base64 of exactly 32 random bytes
    /// (`openssl rand -base64 32`). Secret; may be read from a file with `master_key_file`.
    /// Default: unset, meaning the key in `{data_dir}/master.key`, generated on first start.
    /// Every node of a cluster needs the same key.
    /// Env: `TESSERA_SECURITY__MASTER_KEY` or `TESSERA_SECURITY__MASTER_KEY_FILE`.
    pub master_key: Option<Secret>,
}

/// `[cache]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CacheSettings {
    /// Redis URL (`redis://host:6379/0` or `rediss://`) of the cache shared by every node, which
    /// also carries invalidations between nodes (pub/sub). Secret; may be read from a file with
    /// `redis_url_file`. Default: unset, meaning an in-process cache only (right for one node;
    /// with several nodes, set it so that a change on one node is seen at once on the others).
    /// Env: `TESSERA_CACHE__REDIS_URL` or `TESSERA_CACHE__REDIS_URL_FILE`.
    pub redis_url: Option<Secret>,
    /// Seconds an entry lives in the shared cache (and in the in-process cache when there is no
    /// Redis). Bounds how stale a value may be if an invalidation is lost.
    /// Default: `30`. Env: `TESSERA_CACHE__TTL_SECS`.
    pub ttl_secs: u64,
    /// Seconds an entry lives in each node's in-process tier when Redis is configured (short,
    /// so that a node that missed an invalidation while Redis was down catches up quickly).
    /// Default: `5`. Env: `TESSERA_CACHE__LOCAL_TTL_SECS`.
    pub local_ttl_secs: u64,
    /// Most entries in each node's in-process tier. Default: `10000`.
    /// Env: `TESSERA_CACHE__MAX_ENTRIES`.
    pub max_entries: u64,
    /// Prefix of every Redis key and channel: give each installation sharing one Redis its own.
    /// Default: `tessera`. Env: `TESSERA_CACHE__NAMESPACE`.
    pub namespace: String,
}

impl Default for CacheSettings {
    fn default() -> Self {
        Self {
            redis_url: None,
            ttl_secs: 30,
            local_ttl_secs: 5,
            max_entries: 10_000,
            namespace: "tessera".to_owned(),
        }
    }
}

/// A list given as a TOML array or as one comma-separated string (environment variables).
fn string_or_list<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Either::deserialize(d)? {
        Either::One(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        Either::Many(v) => v,
    })
}

/// `[auth]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Argon2id memory cost in KiB (OWASP: 19456 = 19 MiB). Env: `TESSERA_AUTH__ARGON2_MEMORY_KIB`.
    pub argon2_memory_kib: u32,
    /// Argon2id iterations (OWASP: 2). Env: `TESSERA_AUTH__ARGON2_ITERATIONS`.
    pub argon2_iterations: u32,
    /// Argon2id lanes (OWASP: 1). Env: `TESSERA_AUTH__ARGON2_PARALLELISM`.
    pub argon2_parallelism: u32,
    /// Password hashes computed at once (each takes one core); `0` means one per core.
    /// Default: `0`. Env: `TESSERA_AUTH__HASH_WORKERS`.
    pub hash_workers: usize,
    /// Sign-ins that may wait for a hashing worker; beyond it, callers get 503 + Retry-After
    /// at once instead of piling up. Default: `64`. Env: `TESSERA_AUTH__HASH_QUEUE`.
    pub hash_queue: usize,
    /// How often (seconds) each node checks whether a tenant's signing key is due for its
    /// scheduled rotation (`key_rotation_days` in the tenant's settings); `0` disables it.
    /// Default: `3600`. Env: `TESSERA_AUTH__KEY_ROTATION_CHECK_SECS`.
    pub key_rotation_check_secs: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            hash_workers: 0,
            hash_queue: 64,
            key_rotation_check_secs: 3600,
        }
    }
}

/// How emails or SMS are delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    /// Written to `{outbox_dir}/outbox.jsonl` (development and tests).
    #[default]
    Outbox,
    /// Sent over SMTP (`smtp_url`).
    Smtp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmsTransport {
    #[default]
    Outbox,
    /// POSTed as JSON to `sms_webhook_url`.
    Webhook,
}

/// `[delivery]`
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DeliverySettings {
    /// `outbox` (default: a file, for development) or `smtp`. Env: `TESSERA_DELIVERY__EMAIL`.
    pub email: EmailTransport,
    /// `smtp://user:pass@host:587` (STARTTLS) or `smtps://...:465`. Secret; `smtp_url_file`.
    /// Env: `TESSERA_DELIVERY__SMTP_URL`.
    pub smtp_url: Option<Secret>,
    /// Sender address, for example `Acme <no-reply@acme.example>`. Env: `TESSERA_DELIVERY__SMTP_FROM`.
    pub smtp_from: Option<String>,
    /// `outbox` (default) or `webhook`. Env: `TESSERA_DELIVERY__SMS`.
    pub sms: SmsTransport,
    /// The SMS gateway webhook (receives `{"to","text","tenant"}`). Env: `TESSERA_DELIVERY__SMS_WEBHOOK_URL`.
    pub sms_webhook_url: Option<String>,
    /// Bearer token sent to the SMS webhook. Secret; `sms_webhook_token_file`.
    pub sms_webhook_token: Option<Secret>,
    /// Directory of the outbox file. Default: `{data_dir}/outbox`. Env: `TESSERA_DELIVERY__OUTBOX_DIR`.
    pub outbox_dir: Option<PathBuf>,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    /// Log line format: `json` (one JSON object per line) or `pretty` (for people).
    /// Default: `json`. Env: `TESSERA_LOG__FORMAT`.
    pub format: LogFormat,
    /// Which events to log, as a `tracing` `EnvFilter` directive (`info`,
    /// `tessera=debug,sqlx=warn`, ...). Default: `info`. Env: `TESSERA_LOG__LEVEL`.
    pub level: String,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            level: "info".to_owned(),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// Human-readable, multi-line.
    Pretty,
}

impl Settings {
    /// The externally visible base URL, without a trailing `/`: `server.public_url` if set,
    /// else `http://{server.listen}`.
    pub fn public_url(&self) -> String {
        match &self.server.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.server.listen),
        }
    }

    /// Where the outbox file lives: `delivery.outbox_dir` or `{data_dir}/outbox`.
    pub fn outbox_dir(&self) -> PathBuf {
        self.delivery
            .outbox_dir
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("outbox"))
    }

    /// The embedded SQLite database file: `{server.data_dir}/tessera.db`.
    pub fn sqlite_path(&self) -> PathBuf {
        self.server.data_dir.join("tessera.db")
    }

    /// The effective configuration as TOML, every secret shown as `"********"` (for
    /// `tessera check-config`). `public_url` is shown with its effective value; unset optional
    /// keys are left out.
    pub fn effective_toml(&self) -> String {
        let mut shown = self.clone();
        shown.server.public_url = Some(self.public_url());
        match toml::to_string(&shown) {
            Ok(text) => text,
            Err(e) => format!("# the configuration cannot be shown as TOML: {e}\n"),
        }
    }
}
