use async_trait::async_trait;
use std::time::{Duration as StdDuration, Instant};
use tessera_domain::ports::{AttemptCounter, Attempts};
use time::{Duration, OffsetDateTime};

#[derive(Clone, Copy, Debug)]
struct Counted {
    count: u32,
    last_at: OffsetDateTime,
    /// Kept `window` after its last attempt.
    window: StdDuration,
}

/// Each entry lives `window` after its last attempt.
struct WindowExpiry;

impl moka::Expiry<String, Counted> for WindowExpiry {
    fn expire_after_create(&self, _: &String, value: &Counted, _: Instant) -> Option<StdDuration> {
        Some(value.window)
    }

    fn expire_after_update(
        &self,
        _: &String,
        value: &Counted,
        _: Instant,
        _: Option<StdDuration>,
    ) -> Option<StdDuration> {
        Some(value.window)
    }
}

/// Attempt counters in this process only (moka, bounded): right for a single node, and the
/// fallback of [`RedisAttempts`](crate::RedisAttempts).
#[derive(Clone)]
pub struct MemoryAttempts {
    inner: moka::future::Cache<String, Counted>,
}

impl MemoryAttempts {
    /// At most `max_keys` counters; beyond that the least used are dropped.
    pub fn new(max_keys: u64) -> Self {
        Self {
            inner: moka::future::Cache::builder()
                .max_capacity(max_keys)
                .expire_after(WindowExpiry)
                .build(),
        }
    }
}

/// A negative window counts as none: the counter expires at once.
fn std_window(window: Duration) -> StdDuration {
    StdDuration::try_from(window).unwrap_or(StdDuration::ZERO)
}

#[async_trait]
impl AttemptCounter for MemoryAttempts {
    async fn get(&self, key: &str) -> Attempts {
        match self.inner.get(key).await {
            Some(c) => Attempts {
                count: c.count,
                last_at: Some(c.last_at),
            },
            None => Attempts::default(),
        }
    }

    async fn record(&self, key: &str, at: OffsetDateTime, window: Duration) -> Attempts {
        let window = std_window(window);
        let entry = self
            .inner
            .entry_by_ref(key)
            .and_upsert_with(|previous| {
                let next = match previous.map(|e| e.into_value()) {
                    // Still within the previous attempt's window (by the caller's clock).
                    Some(p) if at < p.last_at + p.window => Counted {
                        count: p.count.saturating_add(1),
                        last_at: p.last_at.max(at),
                        window,
                    },
                    _ => Counted {
                        count: 1,
                        last_at: at,
                        window,
                    },
                };
                std::future::ready(next)
            })
            .await;
        let c = entry.into_value();
        Attempts {
            count: c.count,
            last_at: Some(c.last_at),
        }
    }

    async fn reset(&self, key: &str) {
        self.inner.invalidate(key).await;
    }
}
