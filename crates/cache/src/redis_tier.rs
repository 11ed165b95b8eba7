use crate::memory::MemoryCache;
use async_trait::async_trait;
use futures::StreamExt;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::ports::Cache;
use tokio::sync::RwLock;
use tokio::task::JoinHandle;

#[derive(Clone, Debug)]
pub struct RedisCacheSettings {
    pub url: String,
    /// Prefix of keys and of the invalidation channel.
    pub namespace: String,
    /// Time to live in Redis.
    pub ttl: Duration,
    /// Time to live in each node's in-process tier.
    pub local_ttl: Duration,
    pub max_entries: u64,
    /// Longest wait for one Redis command before treating it as a miss.
    pub timeout: Duration,
}

/// After a failed Redis command the shared tier is skipped for this long, so that a lost Redis
/// costs one timeout now and then instead of one on every cache miss.
const BREAKER_COOLDOWN: Duration = Duration::from_secs(2);

struct Inner {
    local: MemoryCache,
    /// When the shared tier may be tried again after a failure.
    skip_until: std::sync::Mutex<Option<tokio::time::Instant>>,
    conn: RwLock<Option<ConnectionManager>>,
    settings: RedisCacheSettings,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(tasks) = self.tasks.lock() {
            for t in tasks.iter() {
                t.abort();
            }
        }
    }
}

/// Two tiers: in-process, then Redis. See the crate documentation.
#[derive(Clone)]
pub struct RedisCache {
    inner: Arc<Inner>,
}

impl RedisCache {
    /// Starts the cache. Only an unparsable URL is an error: when Redis is down the cache
    /// starts anyway, serves from its in-process tier and connects in the background.
    pub fn start(settings: RedisCacheSettings) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(settings.url.as_str())?;
        let inner = Arc::new(Inner {
            local: MemoryCache::new(settings.max_entries, settings.local_ttl),
            conn: RwLock::new(None),
            skip_until: std::sync::Mutex::new(None),
            settings,
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        let weak = Arc::downgrade(&inner);
        let connector = tokio::spawn(connect_loop(client.clone(), weak.clone()));
        let subscriber = tokio::spawn(subscribe_loop(client, weak));
        if let Ok(mut tasks) = inner.tasks.lock() {
            tasks.push(connector);
            tasks.push(subscriber);
        }
        Ok(Self { inner })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:cache:{key}", self.inner.settings.namespace)
    }

    /// The Redis connection, unless there is none yet or the breaker is open.
    async fn conn(&self) -> Option<ConnectionManager> {
        let open = self
            .inner
            .skip_until
            .lock()
            .ok()
            .and_then(|g| *g)
            .is_some_and(|until| tokio::time::Instant::now() < until);
        if open {
            return None;
        }
        self.inner.conn.read().await.clone()
    }

    /// Runs one Redis command within the configured timeout; a failure opens the breaker.
    async fn run<T>(
        &self,
        what: &str,
        cmd: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        let failure = match tokio::time::timeout(self.inner.settings.timeout, cmd).await {
            Ok(Ok(v)) => return Some(v),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "timed out".to_owned(),
        };
        tracing::debug!(error = %failure, what, "Redis cache command failed; using the in-process tier for a moment");
        if let Ok(mut g) = self.inner.skip_until.lock() {
            *g = Some(tokio::time::Instant::now() + BREAKER_COOLDOWN);
        }
        None
    }

    /// Whether the Redis tier is connected (for tests and readiness reports).
    pub async fn connected(&self) -> bool {
        self.conn().await.is_some()
    }
}

fn channel(namespace: &str) -> String {
    format!("{namespace}:invalidate")
}

/// Establishes the connection manager (which then reconnects by itself), retrying while Redis
/// is unreachable.
async fn connect_loop(client: redis::Client, inner: std::sync::Weak<Inner>) {
    let mut delay = Duration::from_millis(200);
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let timeout = strong.settings.timeout;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        match ConnectionManager::new_with_config(client.clone(), config).await {
            Ok(conn) => {
                *strong.conn.write().await = Some(conn);
                tracing::info!("connected to the Redis cache");
                return;
            }
            Err(e) => {
                tracing::warn!(error = %e, "Redis cache unreachable; serving from the in-process tier and retrying")
            }
        }
        drop(strong);
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// Applies invalidations published by any node. After a lost subscription the whole local tier
/// is cleared, since invalidations may have been missed meanwhile.
async fn subscribe_loop(client: redis::Client, inner: std::sync::Weak<Inner>) {
    let mut delay = Duration::from_millis(200);
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let chan = channel(&strong.settings.namespace);
        drop(strong);
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if pubsub.subscribe(&chan).await.is_ok() {
                    delay = Duration::from_millis(200);
                    if let Some(strong) = inner.upgrade() {
                        strong.local.clear();
                    }
                    let mut messages = pubsub.into_on_message();
                    while let Some(msg) = messages.next().await {
                        let Some(strong) = inner.upgrade() else {
                            return;
                        };
                        if let Ok(key) = msg.get_payload::<String>() {
                            strong.local.invalidate(&key).await;
                        }
                    }
                }
                tracing::warn!("lost the Redis invalidation channel; reconnecting");
            }
            Err(e) => {
                tracing::debug!(error = %e, "Redis invalidation channel unreachable; retrying")
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

#[async_trait]
impl Cache for RedisCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        if let Some(v) = self.inner.local.get(key).await {
            return Some(v);
        }
        let mut conn = self.conn().await?;
        let found = self
            .run("get", conn.get::<_, Option<Vec<u8>>>(self.key(key)))
            .await??;
        self.inner.local.put(key, &found).await;
        Some(found)
    }

    async fn put(&self, key: &str, value: &[u8]) {
        self.inner.local.put(key, value).await;
        if let Some(mut conn) = self.conn().await {
            let ttl = self.inner.settings.ttl.as_secs().max(1);
            self.run("set", conn.set_ex::<_, _, ()>(self.key(key), value, ttl))
                .await;
        }
    }

    async fn invalidate(&self, key: &str) {
        self.inner.local.invalidate(key).await;
        let published = match self.conn().await {
            None => None,
            Some(mut conn) => match self.run("del", conn.del::<_, ()>(self.key(key))).await {
                None => None,
                Some(()) => {
                    let chan = channel(&self.inner.settings.namespace);
                    self.run("publish", conn.publish::<_, _, ()>(chan, key))
                        .await
                }
            },
        };
        if published.is_none() {
            tracing::warn!(
                key,
                "could not invalidate a shared cache entry: other nodes keep it until it expires"
            );
        }
    }
}
