use async_trait::async_trait;
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::ports::Cache;

/// An in-process cache with a time to live and a size bound.
#[derive(Clone)]
pub struct MemoryCache {
    inner: moka::future::Cache<String, Arc<[u8]>>,
}

impl MemoryCache {
    pub fn new(max_entries: u64, ttl: Duration) -> Self {
        Self {
            inner: moka::future::Cache::builder()
                .max_capacity(max_entries)
                .time_to_live(ttl)
                .build(),
        }
    }

    /// Drops every entry (after a node may have missed invalidations).
    pub fn clear(&self) {
        self.inner.invalidate_all();
    }
}

#[async_trait]
impl Cache for MemoryCache {
    async fn get(&self, key: &str) -> Option<Vec<u8>> {
        self.inner.get(key).await.map(|v| v.to_vec())
    }

    async fn put(&self, key: &str, value: &[u8]) {
        self.inner.insert(key.to_owned(), Arc::from(value)).await;
    }

    async fn invalidate(&self, key: &str) {
        self.inner.invalidate(key).await;
    }
}
