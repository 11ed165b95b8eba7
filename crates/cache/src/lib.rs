//! Tessera cache adapter (driven side) implementing the domain's `Cache`, `AttemptCounter` and
//! `EpochCache` ports.
//!
//! - [`MemoryCache`]: in-process only (moka), with a time to live; right for a single node.
//! - [`RedisCache`]: a short-lived in-process tier in front of a Redis tier shared by every
//!   node; invalidations are published on a Redis channel and applied by every node's
//!   subscriber. When Redis is unreachable the cache degrades to its in-process tier and keeps
//!   retrying in the background; callers never see an error.
//! - [`MemoryAttempts`]: attempt counters in this process (moka, each expiring a window after
//!   its last attempt); [`RedisAttempts`]: the same counters shared by every node through
//!   Redis, falling back to the node's own when Redis is unreachable.
//! - [`MemoryEpochs`]: the tenants' authorization epochs known to this process, each vouched
//!   for a bounded time after it was last recorded; right for a single node.
//! - [`RedisEpochs`]: the same epochs announced to every node on a Redis channel; a node
//!   vouches for an epoch only while it is subscribed (after a lost subscription it forgets
//!   everything it knew) and for a bounded time.
//!
//! May depend on: the domain only (plus moka, redis, tokio).
//! Entry points: [`MemoryCache::new`], [`RedisCache::start`], [`MemoryAttempts::new`],
//! [`RedisAttempts::start`], [`MemoryEpochs::new`], [`RedisEpochs::start`].

mod attempts_memory;
mod attempts_redis;
mod epochs_memory;
mod epochs_redis;
mod memory;
mod redis_link;
mod redis_tier;

pub use attempts_memory::MemoryAttempts;
pub use attempts_redis::{RedisAttempts, RedisAttemptsSettings};
pub use epochs_memory::MemoryEpochs;
pub use epochs_redis::RedisEpochs;
pub use memory::MemoryCache;
pub use redis_tier::{RedisCache, RedisCacheSettings};
