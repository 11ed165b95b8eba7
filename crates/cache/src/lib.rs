//! Tessera cache adapter (driven side) implementing the domain's `Cache` and `AttemptCounter`
//! ports.
//!
//! - [`MemoryCache`]: in-process only (moka), with a time to live; right for a single node.
//! - [`RedisCache`]: a short-lived in-process tier in front of a Redis tier shared by every
//!   node; invalidations are published on a Redis channel and applied by every node's
//!   subscriber. When Redis is unreachable the cache degrades to its in-process tier and keeps
//!   retrying in the background; callers never see an error.
//! - [`MemoryAttempts`]: attempt counters in this process (moka, each expiring a window after
//!   its last attempt); [`RedisAttempts`]: the same counters shared by every node through
//!   Redis, falling back to the node's own when Redis is unreachable.
//!
//! May depend on: the domain only (plus moka, redis, tokio).
//! Entry points: [`MemoryCache::new`], [`RedisCache::start`], [`MemoryAttempts::new`],
//! [`RedisAttempts::start`].

mod attempts_memory;
mod attempts_redis;
mod memory;
mod redis_link;
mod redis_tier;

pub use attempts_memory::MemoryAttempts;
pub use attempts_redis::{RedisAttempts, RedisAttemptsSettings};
pub use memory::MemoryCache;
pub use redis_tier::{RedisCache, RedisCacheSettings};
