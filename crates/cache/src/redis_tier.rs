use crate::memory::MemoryCache;
use crate::redis_link::RedisLink;
use async_trait::async_trait;
use futures::StreamExt;
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::ports::Cache;
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

struct Inner {
    local: MemoryCache,
    link: Arc<RedisLink>,
    settings: RedisCacheSettings,
    subscriber: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Ok(mut subscriber) = self.subscriber.lock()
            && let Some(task) = subscriber.take()
        {
            task.abort();
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
            link: RedisLink::start(client.clone(), settings.timeout, "cache"),
            settings,
            subscriber: std::sync::Mutex::new(None),
        });
        let subscriber = tokio::spawn(subscribe_loop(client, Arc::downgrade(&inner)));
        if let Ok(mut slot) = inner.subscriber.lock() {
            *slot = Some(subscriber);
        }
        Ok(Self { inner })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:cache:{key}", self.inner.settings.namespace)
    }

    async fn conn(&self) -> Option<ConnectionManager> {
        self.inner.link.conn().await
    }

    async fn run<T>(
        &self,
        what: &str,
        cmd: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Option<T> {
        self.inner.link.run(what, cmd).await
    }

    /// Whether the Redis tier is connected (for tests and readiness reports).
    pub async fn connected(&self) -> bool {
        self.inner.link.connected().await
    }
}

fn channel(namespace: &str) -> String {
    format!("{namespace}:invalidate")
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
