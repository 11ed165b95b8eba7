//! The `Cache` port's behaviour on both adapters. The Redis tests run when
//! `TESSERA_TEST_REDIS_URL` is set (CI sets it); otherwise they print that they were skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::time::{Duration, Instant};
use tessera_cache::{MemoryCache, RedisCache, RedisCacheSettings};
use tessera_domain::ports::Cache;

async fn basic_contract(cache: &dyn Cache, key: &str) {
    assert_eq!(cache.get(key).await, None);
    cache.put(key, b"one").await;
    assert_eq!(cache.get(key).await.as_deref(), Some(&b"one"[..]));
    cache.put(key, b"two").await;
    assert_eq!(cache.get(key).await.as_deref(), Some(&b"two"[..]));
    cache.invalidate(key).await;
    assert_eq!(cache.get(key).await, None);
}

#[tokio::test]
async fn memory_cache_keeps_replaces_invalidates_and_expires() {
    let cache = MemoryCache::new(100, Duration::from_millis(300));
    basic_contract(&cache, "k").await;
    cache.put("short", b"v").await;
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(
        cache.get("short").await,
        None,
        "entries expire after their TTL"
    );
}

fn settings(url: &str, namespace: &str) -> RedisCacheSettings {
    RedisCacheSettings {
        url: url.to_owned(),
        namespace: namespace.to_owned(),
        ttl: Duration::from_secs(30),
        local_ttl: Duration::from_secs(30),
        max_entries: 100,
        timeout: Duration::from_millis(500),
    }
}

fn redis_url(test: &str) -> Option<String> {
    match std::env::var("TESSERA_TEST_REDIS_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            println!("skipped {test}: TESSERA_TEST_REDIS_URL is not set");
            None
        }
    }
}

async fn until(mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn redis_cache_is_shared_and_invalidations_reach_every_node() {
    let Some(url) = redis_url("redis_cache_is_shared_and_invalidations_reach_every_node") else {
        return;
    };
    let ns = format!("test-{}", uuid_like());
    let a = RedisCache::start(settings(&url, &ns)).unwrap();
    let b = RedisCache::start(settings(&url, &ns)).unwrap();
    assert!(
        until(async || a.connected().await && b.connected().await).await,
        "both nodes connect"
    );
    basic_contract(&a, "contract").await;

    // A value written by node A is read by node B from the shared tier, then kept locally.
    a.put("tenant:x", b"v1").await;
    assert_eq!(b.get("tenant:x").await.as_deref(), Some(&b"v1"[..]));
    // Node A invalidates: B's in-process copy disappears too (pub/sub), not after its TTL.
    // Give B's subscriber a moment to be subscribed before publishing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    a.invalidate("tenant:x").await;
    assert!(
        until(async || b.get("tenant:x").await.is_none()).await,
        "node B still serves the invalidated entry"
    );

    // Another namespace (another installation) sees nothing of this one.
    let other = RedisCache::start(settings(&url, &format!("{ns}-other"))).unwrap();
    assert!(until(async || other.connected().await).await);
    a.put("shared?", b"no").await;
    assert_eq!(other.get("shared?").await, None);
}

#[tokio::test]
async fn an_unreachable_redis_degrades_to_the_local_tier_without_errors() {
    let cache = RedisCache::start(settings("redis://127.0.0.1:1/0", "down")).unwrap();
    let started = Instant::now();
    basic_contract(&cache, "k").await;
    assert!(!cache.connected().await);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a dead Redis must not stall callers"
    );
    assert!(RedisCache::start(settings("not a url", "x")).is_err());
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

#[tokio::test]
async fn a_redis_lost_after_connecting_degrades_to_the_local_tier_then_recovers() {
    let Some(url) =
        redis_url("a_redis_lost_after_connecting_degrades_to_the_local_tier_then_recovers")
    else {
        return;
    };
    let target = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let proxy = tessera_testkit::proxy::Proxy::start(target).await;
    let ns = format!("test-{}", uuid_like());
    // Node A reaches Redis through the proxy; node B directly.
    let a = RedisCache::start(settings(
        &format!("redis://127.0.0.1:{}/0", proxy.port),
        &ns,
    ))
    .unwrap();
    let b = RedisCache::start(settings(&url, &ns)).unwrap();
    assert!(until(async || a.connected().await && b.connected().await).await);
    b.put("shared", b"v").await;
    assert_eq!(a.get("shared").await.as_deref(), Some(&b"v"[..]));

    proxy.cut();
    // Node A keeps answering: misses stay misses, its local tier still works. The timeout only
    // detects a stall (a cache that waits on a dead Redis for every miss); it is no benchmark.
    let degraded = tokio::time::timeout(Duration::from_secs(10), async {
        for i in 0..50 {
            assert_eq!(a.get(&format!("missing-{i}")).await, None);
        }
        a.put("local", b"x").await;
        a.get("local").await
    })
    .await
    .expect("a lost Redis stalled the cache");
    assert_eq!(degraded.as_deref(), Some(&b"x"[..]));

    proxy.restore();
    b.put("after", b"w").await;
    assert!(
        until(async || a.get("after").await.is_some()).await,
        "node A never reconnected to Redis"
    );
}
