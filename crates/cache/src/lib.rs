//! Tessera cache adapter (driven side) implementing the domain's `Cache` port.
//!
//! - [`MemoryCache`]: in-process only (moka), with a time to live; right for a single node.
//! - [`RedisCache`]: a short-lived in-process tier in front of a Redis tier shared by every
//!   node; invalidations are published on a Redis channel and applied by every node's
//!   subscriber. When Redis is unreachable the cache degrades to its in-process tier and keeps
//!   retrying in the background; callers never see an error.
//!
//! May depend on: the domain only (plus moka, redis, tokio).
//! Entry points: [`MemoryCache::new`], [`RedisCache::start`].

mod memory;
mod redis_tier;

pub use memory::MemoryCache;
pub use redis_tier::{RedisCache, RedisCacheSettings};
