use async_trait::async_trait;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tessera_domain::TenantId;
use tessera_domain::ports::EpochCache;

/// Beyond this many tenants, the entries older than `max_age` are dropped before another is
/// added; if every entry is still fresh, the new tenant is not remembered (a miss: the caller
/// reads the database).
const MAX_ENTRIES: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Seen {
    epoch: i64,
    /// When the epoch was last recorded or confirmed (monotonic, so no clock port is needed).
    at: Instant,
}

/// The tenants' authorization epochs known to this process only: an epoch is vouched for
/// `max_age` after it was last recorded, then the caller reads the database again. Right for
/// a single node, and the local map of [`RedisEpochs`](crate::RedisEpochs).
#[derive(Clone)]
pub struct MemoryEpochs {
    inner: Arc<Inner>,
}

struct Inner {
    map: RwLock<HashMap<TenantId, Seen>>,
    max_age: Duration,
}

impl MemoryEpochs {
    pub fn new(max_age: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                map: RwLock::new(HashMap::new()),
                max_age,
            }),
        }
    }

    /// The epoch if it was recorded less than `max_age` ago.
    pub(crate) fn fresh(&self, tenant: TenantId) -> Option<i64> {
        let map = self
            .inner
            .map
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        map.get(&tenant)
            .filter(|s| s.at.elapsed() < self.inner.max_age)
            .map(|s| s.epoch)
    }

    /// Keeps the larger of the known and the given epoch, and marks it as just confirmed (also
    /// when the given epoch is not larger: the known one is at least as recent).
    pub(crate) fn record(&self, tenant: TenantId, epoch: i64) {
        let now = Instant::now();
        let mut map = self
            .inner
            .map
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(known) = map.get_mut(&tenant) {
            known.epoch = known.epoch.max(epoch);
            known.at = now;
            return;
        }
        if map.len() >= MAX_ENTRIES {
            let max_age = self.inner.max_age;
            map.retain(|_, s| now.saturating_duration_since(s.at) < max_age);
            if map.len() >= MAX_ENTRIES {
                return;
            }
        }
        map.insert(tenant, Seen { epoch, at: now });
    }

    /// Forgets every epoch (after a node may have missed announcements).
    pub(crate) fn clear(&self) {
        self.inner
            .map
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

#[async_trait]
impl EpochCache for MemoryEpochs {
    async fn current(&self, tenant: TenantId) -> Option<i64> {
        self.fresh(tenant)
    }

    /// A node-local cache has no other node to tell: `announce` changes nothing.
    async fn seen(&self, tenant: TenantId, epoch: i64, _announce: bool) {
        self.record(tenant, epoch);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `n`th tenant of [`fill`].
    fn tenant(n: usize) -> TenantId {
        format!("00000000-0000-4000-8000-{n:012x}").parse().unwrap()
    }

    fn outsider() -> TenantId {
        "ffffffff-0000-4000-8000-000000000000".parse().unwrap()
    }

    fn fill(epochs: &MemoryEpochs) {
        let ids: Vec<TenantId> = (0..MAX_ENTRIES).map(tenant).collect();
        let mut map = epochs.inner.map.write().unwrap();
        let now = Instant::now();
        for id in ids {
            map.insert(id, Seen { epoch: 1, at: now });
        }
    }

    #[test]
    fn a_full_map_drops_stale_entries_first_and_never_grows_past_its_bound() {
        let epochs = MemoryEpochs::new(Duration::from_millis(500));
        fill(&epochs);
        // All fresh: the new tenant is not remembered, the known ones still are.
        epochs.record(outsider(), 7);
        assert_eq!(epochs.inner.map.read().unwrap().len(), MAX_ENTRIES);
        assert_eq!(epochs.fresh(outsider()), None);
        epochs.record(tenant(1), 3);
        assert_eq!(epochs.fresh(tenant(1)), Some(3));
        // Once they are stale they make room.
        std::thread::sleep(Duration::from_millis(600));
        epochs.record(outsider(), 7);
        assert_eq!(epochs.fresh(outsider()), Some(7));
        assert!(epochs.inner.map.read().unwrap().len() < 10);
    }
}
