use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

/// Counted attempts under one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Attempts {
    pub count: u32,
    pub last_at: Option<OffsetDateTime>,
}

/// Counters of failed attempts (sign-in failures per account and per address, codes sent
/// per identifier), shared by every node when a shared backend is configured. Like the
/// cache, it never fails its caller: an unreachable backend falls back to the node's own
/// counters.
#[async_trait]
pub trait AttemptCounter: Send + Sync {
    async fn get(&self, key: &str) -> Attempts;
    /// Counts one attempt at `at`; the counter disappears `window` after its last attempt.
    async fn record(&self, key: &str, at: OffsetDateTime, window: Duration) -> Attempts;
    async fn reset(&self, key: &str);
}
