//! Builds the application from the configuration: store (SQLite by default, PostgreSQL when a
//! `postgres://` URL is configured), migrations, master key, ports.

use crate::system::SystemClock;
use anyhow::{Context, anyhow};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tessera_application::{App, Ports};
use tessera_cache::{
    MemoryAttempts, MemoryCache, MemoryEpochs, RedisAttempts, RedisAttemptsSettings, RedisCache,
    RedisCacheSettings, RedisEpochs,
};
use tessera_config::{EmailTransport, Settings, SmsTransport};
use tessera_crypto::{
    Argon2Hasher, HmacKeyedHasher, JwtSigner, KeySource, MasterKey, MasterKeySealer, OsRandom,
    PasswordHashSettings,
};
use tessera_domain::ports::{
    AttemptCounter, Cache, Clock, EpochCache, Notifier, Store, StoreError,
};
use tessera_notify::{
    ChannelRouter, FileOutbox, SmsWebhookSender, SmsWebhookSettings, SmtpSender, SmtpSettings,
};
use tessera_store_postgres::{PostgresSettings, PostgresStore};
use tessera_store_sqlite::SqliteStore;

/// Which database the configuration points at.
#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite(PathBuf),
    Postgres(PostgresSettings),
}

impl Backend {
    pub fn from_settings(settings: &Settings) -> Self {
        let db = &settings.database;
        match db.url.as_ref().map(|u| u.expose().trim().to_owned()) {
            Some(url)
                if url.to_ascii_lowercase().starts_with("postgres://")
                    || url.to_ascii_lowercase().starts_with("postgresql://") =>
            {
                Backend::Postgres(PostgresSettings {
                    url,
                    admin_url: db.admin_url.as_ref().map(|u| u.expose().to_owned()),
                    app_role: db.app_role.clone(),
                    max_connections: db.max_connections,
                    connect_timeout: Duration::from_secs(db.connect_timeout_secs),
                })
            }
            Some(url) => {
                // `sqlite:PATH` or `sqlite://PATH`, scheme in any case.
                let url = url.trim();
                let path = ["sqlite://", "sqlite:"]
                    .iter()
                    .find(|p| url.len() >= p.len() && url[..p.len()].eq_ignore_ascii_case(p))
                    .map_or(url, |p| &url[p.len()..]);
                Backend::Sqlite(PathBuf::from(path))
            }
            None => Backend::Sqlite(settings.sqlite_path()),
        }
    }

    /// A description for people (never contains a password).
    pub fn describe(&self) -> String {
        match self {
            Backend::Sqlite(path) => format!("SQLite at {}", path.display()),
            Backend::Postgres(pg) => {
                let safe = url_without_password(&pg.url);
                format!("PostgreSQL at {safe}")
            }
        }
    }
}

impl Backend {
    /// Where migrations run (the admin URL when one is configured).
    pub fn describe_migrations(&self) -> String {
        match self {
            Backend::Postgres(pg) => match &pg.admin_url {
                Some(admin) => format!("PostgreSQL at {}", url_without_password(admin)),
                None => self.describe(),
            },
            Backend::Sqlite(_) => self.describe(),
        }
    }
}

fn url_without_password(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let creds = &url[scheme_end + 3..at];
            let user = creds.split(':').next().unwrap_or_default();
            format!("{}://{user}@{}", &url[..scheme_end], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

fn explain(e: StoreError, backend: &Backend) -> anyhow::Error {
    match e {
        StoreError::Unavailable(msg) => {
            anyhow!("cannot reach the database ({}): {msg}", backend.describe())
        }
        other => anyhow!("database error ({}): {other}", backend.describe()),
    }
}

/// Applies the migrations of the configured backend.
pub async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let backend = Backend::from_settings(settings);
    match &backend {
        Backend::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| {
                    format!("cannot create the data directory {}", dir.display())
                })?;
            }
            let store = SqliteStore::open(path).map_err(|e| explain(e, &backend))?;
            store.migrate().await.map_err(|e| explain(e, &backend))
        }
        Backend::Postgres(pg) => PostgresStore::migrate(pg)
            .await
            .map_err(|e| explain(e, &backend)),
    }
}

/// Opens the store (after migrating it).
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    migrate(settings).await?;
    let backend = Backend::from_settings(settings);
    let store: Arc<dyn Store> = match &backend {
        Backend::Sqlite(path) => {
            Arc::new(SqliteStore::open(path).map_err(|e| explain(e, &backend))?)
        }
        Backend::Postgres(pg) => Arc::new(
            PostgresStore::connect(pg)
                .await
                .map_err(|e| explain(e, &backend))?,
        ),
    };
    Ok(store)
}

/// Loads the master key, generating one under the data directory on first start.
fn master_key(settings: &Settings) -> anyhow::Result<MasterKey> {
    let configured = settings.security.master_key.as_ref().map(|k| k.expose());
    let (key, source) = MasterKey::load_or_generate(configured, &settings.server.data_dir)?;
    if let KeySource::Generated { path } = &source {
        tracing::warn!(
            path = %path.display(),
            "generated a new master key; back it up (secrets at rest cannot be read without it) and, on several nodes, configure the same security.master_key on each"
        );
        if matches!(Backend::from_settings(settings), Backend::Postgres(_)) {
            tracing::warn!(
                "a PostgreSQL deployment with a generated per-node master key: set TESSERA_SECURITY__MASTER_KEY(_FILE) on every node"
            );
        }
    }
    Ok(key)
}

/// The cache: in-process only, or in front of the shared Redis tier when `cache.redis_url` is
/// set (a Redis that is down at start is not fatal: the cache connects when it can).
fn cache(settings: &Settings) -> anyhow::Result<Arc<dyn Cache>> {
    let c = &settings.cache;
    Ok(match &c.redis_url {
        None => Arc::new(MemoryCache::new(
            c.max_entries,
            Duration::from_secs(c.ttl_secs),
        )),
        Some(url) => Arc::new(
            RedisCache::start(RedisCacheSettings {
                url: url.expose().to_owned(),
                namespace: c.namespace.clone(),
                ttl: Duration::from_secs(c.ttl_secs),
                local_ttl: Duration::from_secs(c.local_ttl_secs),
                max_entries: c.max_entries,
                timeout: Duration::from_millis(500),
            })
            .context("cache.redis_url is not a valid Redis URL")?,
        ),
    })
}

/// Authorization epochs: announced to every node through Redis when it is configured (and
/// read from the database while Redis cannot be heard); known for one second at a time
/// either way, so that nodes agree within a second even when an announcement is lost.
fn epochs(settings: &Settings) -> anyhow::Result<Arc<dyn EpochCache>> {
    let c = &settings.cache;
    Ok(match &c.redis_url {
        None => Arc::new(MemoryEpochs::new(Duration::from_secs(1))),
        Some(url) => Arc::new(
            // Vouched for one second at most even while subscribed: should this node's
            // announcements be lost (it alone lost Redis), the others still converge within a
            // second, at the cost of one epoch read per tenant per second per node.
            RedisEpochs::start(url.expose(), &c.namespace, Duration::from_secs(1))
                .context("cache.redis_url is not a valid Redis URL")?,
        ),
    })
}

/// Failed-attempt counters: shared through Redis when it is configured, in process otherwise.
fn attempts(settings: &Settings) -> anyhow::Result<Arc<dyn AttemptCounter>> {
    let c = &settings.cache;
    Ok(match &c.redis_url {
        None => Arc::new(MemoryAttempts::new(c.max_entries.max(10_000))),
        Some(url) => Arc::new(
            RedisAttempts::start(RedisAttemptsSettings {
                url: url.expose().to_owned(),
                namespace: c.namespace.clone(),
                timeout: Duration::from_millis(500),
                max_keys: c.max_entries.max(10_000),
            })
            .context("cache.redis_url is not a valid Redis URL")?,
        ),
    })
}

/// Email and SMS delivery as configured (the file outbox by default).
fn notifier(settings: &Settings, clock: Arc<dyn Clock>) -> anyhow::Result<Arc<dyn Notifier>> {
    let d = &settings.delivery;
    let outbox = || -> anyhow::Result<Arc<dyn Notifier>> {
        Ok(Arc::new(
            FileOutbox::new(settings.outbox_dir(), clock.clone())
                .map_err(|e| anyhow!("{}: {}", e.field, e.message))?,
        ))
    };
    let email: Arc<dyn Notifier> = match (d.email, &d.smtp_url, &d.smtp_from) {
        (EmailTransport::Smtp, Some(url), Some(from)) => Arc::new(
            SmtpSender::new(SmtpSettings::new(url.expose(), from.clone()))
                .map_err(|e| anyhow!("delivery.smtp_url: {}", e.message))?,
        ),
        _ => outbox()?,
    };
    let sms: Arc<dyn Notifier> = match (d.sms, &d.sms_webhook_url) {
        (SmsTransport::Webhook, Some(url)) => {
            let mut s = SmsWebhookSettings::new(url.clone());
            s.bearer_token = d.sms_webhook_token.as_ref().map(|t| t.expose().to_owned());
            Arc::new(
                SmsWebhookSender::new(s)
                    .map_err(|e| anyhow!("delivery.sms_webhook_url: {}", e.message))?,
            )
        }
        _ => outbox()?,
    };
    if d.email == EmailTransport::Outbox || d.sms == SmsTransport::Outbox {
        tracing::warn!(
            outbox = %settings.outbox_dir().display(),
            "emails and/or SMS are written to the outbox file, not sent: configure [delivery] for production"
        );
    }
    Ok(Arc::new(ChannelRouter::new(email, sms)))
}

/// The password hasher with the deployment's cost and pool size.
pub fn password_hasher(settings: &Settings) -> anyhow::Result<Argon2Hasher> {
    let a = &settings.auth;
    let defaults = PasswordHashSettings::default();
    Argon2Hasher::new(PasswordHashSettings {
        memory_kib: a.argon2_memory_kib,
        iterations: a.argon2_iterations,
        parallelism: a.argon2_parallelism,
        workers: if a.hash_workers == 0 {
            defaults.workers
        } else {
            a.hash_workers
        },
        queue: a.hash_queue,
    })
    .map_err(|e| anyhow!("[auth] password hashing settings: {e}"))
}

/// The application, built from the configuration exactly as `tessera serve` builds it.
pub async fn build(settings: &Settings) -> anyhow::Result<App> {
    let store = open_store(settings).await?;
    let key = master_key(settings)?;
    let sealer = MasterKeySealer::new(&key)?;
    let keyed = HmacKeyedHasher::new(&key)?;
    // jsonwebtoken panics at first use when its crypto backend is misconfigured: find out now.
    JwtSigner::self_test().map_err(|e| anyhow!("token signing self-test failed: {e}"))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let app = App::new(Ports {
        store,
        clock: clock.clone(),
        random: Arc::new(OsRandom),
        sealer: Arc::new(sealer),
        cache: cache(settings)?,
        hasher: Arc::new(password_hasher(settings)?),
        signer: Arc::new(JwtSigner::new()),
        keyed: Arc::new(keyed),
        notifier: notifier(settings, clock)?,
        attempts: attempts(settings)?,
        totp: Arc::new(tessera_crypto::Rfc6238Totp),
        passkeys: Arc::new(tessera_passkeys::WebauthnVerifier::new()),
        epochs: epochs(settings)?,
    });
    Ok(app.with_public_url(&settings.public_url()))
}

#[cfg(test)]
mod tests {
    use super::url_without_password;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            url_without_password("postgres://app:s3cret@db:5432/t"),
            "postgres://app@db:5432/t"
        );
        assert_eq!(url_without_password("postgres://db/t"), "postgres://db/t");
    }
}
