use async_trait::async_trait;

/// A cache in front of the database. It is never a source of truth, and never fails its
/// caller: an unreachable backend behaves as a miss, and the caller reads the database.
#[async_trait]
pub trait Cache: Send + Sync {
    /// The cached bytes, or `None` on a miss (or when the backend is unreachable).
    async fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores a value for the configured time to live.
    async fn put(&self, key: &str, value: &[u8]);
    /// MUST remove the key from this node at once and, for a shared cache, from every other
    /// node as soon as it can reach them.
    async fn invalidate(&self, key: &str);
}
