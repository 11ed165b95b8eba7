//! The `AttemptCounter` port's behaviour on both adapters. The Redis tests run when
//! `TESSERA_TEST_REDIS_URL` is set (CI sets it); otherwise they print that they were skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::time::{Duration as StdDuration, Instant};
use tessera_cache::{MemoryAttempts, RedisAttempts, RedisAttemptsSettings};
use tessera_domain::ports::{AttemptCounter, Attempts};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-11-22 10:00:00.250 UTC);

/// What every adapter must do, with the caller's clock.
async fn contract(counter: &dyn AttemptCounter) {
    let window = Duration::minutes(15);
    assert_eq!(counter.get("user:a").await, Attempts::default());

    let first = counter.record("user:a", T0, window).await;
    assert_eq!(
        first,
        Attempts {
            count: 1,
            last_at: Some(T0)
        }
    );
    counter
        .record("user:a", T0 + Duration::seconds(1), window)
        .await;
    let third = counter
        .record("user:a", T0 + Duration::seconds(2), window)
        .await;
    assert_eq!(third.count, 3);
    assert_eq!(third.last_at, Some(T0 + Duration::seconds(2)));
    assert_eq!(counter.get("user:a").await, third);

    // An attempt stamped earlier (another node's clock) does not move `last_at` back.
    let late = counter.record("user:a", T0, window).await;
    assert_eq!(late.count, 4);
    assert_eq!(late.last_at, Some(T0 + Duration::seconds(2)));

    // Keys are independent.
    assert_eq!(counter.get("user:b").await, Attempts::default());
    assert_eq!(counter.record("user:b", T0, window).await.count, 1);

    // An attempt after the window has passed (by the caller's clock) starts a new count.
    let later = T0 + Duration::seconds(2) + window;
    assert_eq!(
        counter.record("user:a", later, window).await,
        Attempts {
            count: 1,
            last_at: Some(later)
        }
    );

    counter.reset("user:a").await;
    assert_eq!(counter.get("user:a").await, Attempts::default());
    assert_eq!(
        counter.get("user:b").await.count,
        1,
        "reset touches one key"
    );
    counter.reset("never-counted").await;
}

/// Counters disappear `window` after their last attempt, in real time.
async fn expiry(counter: &dyn AttemptCounter) {
    let window = Duration::milliseconds(800);
    counter.record("short", T0, window).await;
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    // A second attempt pushes the expiry back.
    assert_eq!(counter.record("short", T0, window).await.count, 2);
    tokio::time::sleep(StdDuration::from_millis(500)).await;
    assert_eq!(
        counter.get("short").await.count,
        2,
        "the window runs from the last attempt, not the first"
    );
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert_eq!(counter.get("short").await, Attempts::default());
}

#[tokio::test]
async fn memory_attempts_count_reset_and_expire() {
    contract(&MemoryAttempts::new(1000)).await;
    expiry(&MemoryAttempts::new(1000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_attempts_lose_no_concurrent_attempt() {
    let counter = std::sync::Arc::new(MemoryAttempts::new(1000));
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let c = std::sync::Arc::clone(&counter);
            tokio::spawn(async move { c.record("k", T0, Duration::minutes(1)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(counter.get("k").await.count, 50);
}

fn settings(url: &str, namespace: &str) -> RedisAttemptsSettings {
    RedisAttemptsSettings {
        url: url.to_owned(),
        namespace: namespace.to_owned(),
        timeout: StdDuration::from_millis(500),
        max_keys: 1000,
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

fn unique_namespace() -> String {
    format!(
        "test-attempts-{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn until(mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + StdDuration::from_secs(5);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn redis_attempts_are_shared_by_every_node() {
    let Some(url) = redis_url("redis_attempts_are_shared_by_every_node") else {
        return;
    };
    let ns = unique_namespace();
    let a = RedisAttempts::start(settings(&url, &ns)).unwrap();
    let b = RedisAttempts::start(settings(&url, &ns)).unwrap();
    assert!(
        until(async || a.connected().await && b.connected().await).await,
        "both nodes connect"
    );
    contract(&a).await;
    expiry(&a).await;

    // Two nodes count the same key together, and a reset on one is seen by the other.
    let window = Duration::minutes(5);
    a.record("ip:203.0.113.9", T0, window).await;
    b.record("ip:203.0.113.9", T0 + Duration::seconds(1), window)
        .await;
    let third = a
        .record("ip:203.0.113.9", T0 + Duration::seconds(2), window)
        .await;
    assert_eq!(third.count, 3);
    assert_eq!(b.get("ip:203.0.113.9").await, third);
    b.reset("ip:203.0.113.9").await;
    assert_eq!(a.get("ip:203.0.113.9").await, Attempts::default());

    // Another namespace (another installation) counts apart.
    let other = RedisAttempts::start(settings(&url, &format!("{ns}-other"))).unwrap();
    assert!(until(async || other.connected().await).await);
    a.record("shared?", T0, window).await;
    assert_eq!(other.get("shared?").await, Attempts::default());
}

#[tokio::test]
async fn an_unreachable_redis_falls_back_to_the_nodes_own_counters() {
    // Nothing listens on port 1.
    let counter = RedisAttempts::start(settings("redis://127.0.0.1:1/0", "down")).unwrap();
    let started = Instant::now();
    contract(&counter).await;
    assert!(!counter.connected().await);
    assert!(
        started.elapsed() < StdDuration::from_secs(3),
        "a dead Redis must not stall callers"
    );
    assert!(RedisAttempts::start(settings("not a url", "x")).is_err());
}

#[tokio::test]
async fn a_redis_lost_after_connecting_falls_back_then_shares_again() {
    let Some(url) = redis_url("a_redis_lost_after_connecting_falls_back_then_shares_again") else {
        return;
    };
    let target = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let proxy = tessera_testkit::proxy::Proxy::start(target).await;
    let ns = unique_namespace();
    let a = RedisAttempts::start(settings(
        &format!("redis://127.0.0.1:{}/0", proxy.port),
        &ns,
    ))
    .unwrap();
    let b = RedisAttempts::start(settings(&url, &ns)).unwrap();
    assert!(until(async || a.connected().await && b.connected().await).await);
    let window = Duration::minutes(5);
    a.record("k", T0, window).await;
    assert_eq!(b.record("k", T0, window).await.count, 2);

    proxy.cut();
    // Node A keeps counting on its own (it saw one attempt, now two); no error, no stall.
    let own = tokio::time::timeout(StdDuration::from_secs(10), a.record("k", T0, window))
        .await
        .expect("a lost Redis stalled the counter");
    assert_eq!(own.count, 2);

    proxy.restore();
    assert_eq!(b.record("k", T0, window).await.count, 3);
    assert!(
        until(async || a.get("k").await.count == 3).await,
        "node A never reconnected to Redis"
    );
}
