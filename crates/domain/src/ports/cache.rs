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

/// Each node's knowledge of the tenants' authorization epochs (see
/// [`super::AuthzStore::authz_epoch`]). Compiled permission graphs are cached under the
/// epoch, so a node that knows the current epoch never serves a stale graph. Epochs only grow.
#[async_trait]
pub trait EpochCache: Send + Sync {
    /// The tenant's epoch if this node can vouch that it is current; `None` means "read it
    /// from the database". A shared implementation MUST answer `None` while it cannot hear
    /// other nodes' announcements (Redis down), and a node-local one once what it knows is
    /// older than its bound (one second by default).
    async fn current(&self, tenant: crate::TenantId) -> Option<i64>;
    /// Records an epoch: read from the database (`announce = false`) or just committed by this
    /// node (`announce = true`, which also tells every other node). MUST keep the larger of
    /// the known and the given epoch.
    async fn seen(&self, tenant: crate::TenantId, epoch: i64, announce: bool);
}
