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
