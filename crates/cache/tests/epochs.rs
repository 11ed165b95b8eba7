//! The `EpochCache` port's behaviour on both adapters. The Redis tests run when
//! `TESSERA_TEST_REDIS_URL` is set (CI sets it); otherwise they print that they were skipped.
//! Two `RedisEpochs` on one namespace are two nodes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use std::time::{Duration, Instant};
use tessera_cache::{MemoryEpochs, RedisEpochs};
use tessera_domain::TenantId;
use tessera_domain::ports::EpochCache;

fn tenant(n: u32) -> TenantId {
    format!("00000000-0000-4000-8000-{n:012x}").parse().unwrap()
}

/// What every implementation does once it can vouch for what it records.
async fn contract(epochs: &dyn EpochCache) {
    let (t1, t2) = (tenant(1), tenant(2));
    assert_eq!(epochs.current(t1).await, None, "nothing known yet");
    epochs.seen(t1, 3, false).await;
    assert_eq!(epochs.current(t1).await, Some(3));
    epochs.seen(t1, 5, true).await;
    assert_eq!(epochs.current(t1).await, Some(5));
    epochs.seen(t1, 4, false).await;
    assert_eq!(epochs.current(t1).await, Some(5), "epochs never go down");
    epochs.seen(t1, 5, false).await;
    assert_eq!(epochs.current(t1).await, Some(5));
    assert_eq!(epochs.current(t2).await, None, "per tenant");
    epochs.seen(t2, 1, false).await;
    assert_eq!(epochs.current(t2).await, Some(1));
    assert_eq!(epochs.current(t1).await, Some(5));
}

#[tokio::test]
async fn memory_epochs_keep_the_largest_per_tenant() {
    contract(&MemoryEpochs::new(Duration::from_secs(60))).await;
}

#[tokio::test]
async fn memory_epochs_expire_after_max_age_unless_confirmed() {
    let epochs = MemoryEpochs::new(Duration::from_millis(300));
    let (t1, t2) = (tenant(1), tenant(2));
    epochs.seen(t1, 7, false).await;
    epochs.seen(t2, 2, false).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A smaller (or equal) epoch confirms the known one: its age starts again.
    epochs.seen(t2, 1, false).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(epochs.current(t1).await, None, "older than max_age");
    assert_eq!(epochs.current(t2).await, Some(2), "confirmed 200 ms ago");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(epochs.current(t2).await, None);
    // An expired entry still only goes up.
    epochs.seen(t1, 6, false).await;
    assert_eq!(epochs.current(t1).await, Some(7));
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
        "test-epochs-{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn within(limit: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check().await
}

async fn until(check: impl AsyncFnMut() -> bool) -> bool {
    within(Duration::from_secs(5), check).await
}

async fn two_nodes(url: &str, max_age: Duration) -> (RedisEpochs, RedisEpochs) {
    let ns = unique_namespace();
    let a = RedisEpochs::start(url, &ns, max_age).unwrap();
    let b = RedisEpochs::start(url, &ns, max_age).unwrap();
    assert!(
        until(async || a.live() && b.live()).await,
        "both nodes subscribe"
    );
    (a, b)
}

#[tokio::test]
async fn redis_epochs_keep_the_largest_per_tenant_once_subscribed() {
    let Some(url) = redis_url("redis_epochs_keep_the_largest_per_tenant_once_subscribed") else {
        return;
    };
    let (a, _b) = two_nodes(&url, Duration::from_secs(30)).await;
    contract(&a).await;
}

#[tokio::test]
async fn an_epoch_announced_by_one_node_reaches_the_other_and_never_goes_down() {
    let Some(url) =
        redis_url("an_epoch_announced_by_one_node_reaches_the_other_and_never_goes_down")
    else {
        return;
    };
    let (a, b) = two_nodes(&url, Duration::from_secs(30)).await;
    let (t, marker) = (tenant(1), tenant(2));
    assert_eq!(b.current(t).await, None);

    a.seen(t, 5, true).await;
    assert!(
        within(Duration::from_secs(1), async || b.current(t).await
            == Some(5))
        .await,
        "node B did not hear node A's announcement within a second"
    );
    assert_eq!(a.current(t).await, Some(5));

    // A smaller announcement never lowers anyone's epoch. Announcements arrive in order, so
    // once B hears the marker announced after it, B has applied it.
    a.seen(t, 3, true).await;
    a.seen(marker, 1, true).await;
    assert!(until(async || b.current(marker).await == Some(1)).await);
    assert_eq!(b.current(t).await, Some(5));
    assert_eq!(a.current(t).await, Some(5));

    // What a node reads from the database stays its own.
    b.seen(t, 9, false).await;
    assert_eq!(b.current(t).await, Some(9));
    a.seen(marker, 2, true).await;
    assert!(until(async || b.current(marker).await == Some(2)).await);
    assert_eq!(a.current(t).await, Some(5));

    // Another namespace (another installation) hears nothing of this one.
    let other = RedisEpochs::start(&url, &unique_namespace(), Duration::from_secs(30)).unwrap();
    assert!(until(async || other.live()).await);
    a.seen(t, 11, true).await;
    assert!(until(async || b.current(t).await == Some(11)).await);
    assert_eq!(other.current(t).await, None);
}

#[tokio::test]
async fn redis_epochs_are_vouched_for_at_most_max_age() {
    let Some(url) = redis_url("redis_epochs_are_vouched_for_at_most_max_age") else {
        return;
    };
    let (a, b) = two_nodes(&url, Duration::from_millis(300)).await;
    let t = tenant(1);
    a.seen(t, 4, true).await;
    assert!(until(async || b.current(t).await == Some(4)).await);
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(b.current(t).await, None, "older than max_age");
    b.seen(t, 4, false).await;
    assert_eq!(b.current(t).await, Some(4), "confirmed by the database");
}

#[tokio::test]
async fn a_node_that_cannot_reach_redis_vouches_for_nothing() {
    let started = Instant::now();
    let down =
        RedisEpochs::start("redis://127.0.0.1:1/0", "down", Duration::from_secs(30)).unwrap();
    let t = tenant(1);
    down.seen(t, 3, false).await;
    down.seen(t, 4, true).await;
    assert_eq!(down.current(t).await, None);
    assert!(!down.live());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a dead Redis must not stall callers"
    );
    assert!(RedisEpochs::start("not a url", "x", Duration::from_secs(30)).is_err());
}

#[tokio::test]
async fn a_lost_subscription_vouches_for_nothing_and_forgets_what_it_knew() {
    let Some(url) = redis_url("a_lost_subscription_vouches_for_nothing_and_forgets_what_it_knew")
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
    let ns = unique_namespace();
    // Node A reaches Redis through the proxy; node B directly.
    let a = RedisEpochs::start(
        &format!("redis://127.0.0.1:{}/0", proxy.port),
        &ns,
        Duration::from_secs(30),
    )
    .unwrap();
    let b = RedisEpochs::start(&url, &ns, Duration::from_secs(30)).unwrap();
    assert!(until(async || a.live() && b.live()).await);
    let t = tenant(1);
    b.seen(t, 5, true).await;
    assert!(until(async || a.current(t).await == Some(5)).await);

    proxy.cut();
    assert!(
        until(async || a.current(t).await.is_none()).await,
        "node A still vouches for an epoch it can no longer hear about"
    );
    assert!(!a.live());
    // Meanwhile the epoch moves on, and node A misses it.
    b.seen(t, 6, true).await;
    a.seen(t, 5, false).await;
    assert_eq!(a.current(t).await, None);

    proxy.restore();
    assert!(
        until(async || a.live()).await,
        "node A never subscribed again"
    );
    assert_eq!(
        a.current(t).await,
        None,
        "what was known before the loss is forgotten"
    );
    b.seen(t, 7, true).await;
    assert!(until(async || a.current(t).await == Some(7)).await);
}

#[tokio::test]
async fn dropping_the_last_handle_ends_the_subscription() {
    let Some(url) = redis_url("dropping_the_last_handle_ends_the_subscription") else {
        return;
    };
    let ns = unique_namespace();
    let channel = format!("{ns}:authz-epochs");
    let mut conn = redis::Client::open(url.as_str())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let mut subscribers = async || -> i64 {
        let (_, n): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channel)
            .query_async::<Vec<(String, i64)>>(&mut conn)
            .await
            .unwrap()
            .remove(0);
        n
    };
    let a = RedisEpochs::start(&url, &ns, Duration::from_secs(30)).unwrap();
    let clone = a.clone();
    assert!(until(async || a.live()).await);
    assert_eq!(subscribers().await, 1);
    drop(a);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(subscribers().await, 1, "a clone keeps it alive");
    drop(clone);
    assert!(
        until(async || subscribers().await == 0).await,
        "the subscription outlived its last handle"
    );
}

/// A TCP proxy that can go silent without closing anything, like a lost network: while frozen
/// it swallows the bytes in both directions.
struct SilentProxy {
    port: u16,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl SilentProxy {
    async fn start(target: String) -> Self {
        use std::sync::atomic::AtomicBool;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = std::sync::Arc::new(AtomicBool::new(false));
        let flag = frozen.clone();
        tokio::spawn(async move {
            while let Ok((inbound, _)) = listener.accept().await {
                let Ok(outbound) = tokio::net::TcpStream::connect(&target).await else {
                    continue;
                };
                let (in_read, in_write) = inbound.into_split();
                let (out_read, out_write) = outbound.into_split();
                tokio::spawn(pump(in_read, out_write, flag.clone()));
                tokio::spawn(pump(out_read, in_write, flag.clone()));
            }
        });
        Self { port, frozen }
    }

    fn freeze(&self, frozen: bool) {
        self.frozen
            .store(frozen, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn pump(
    from: tokio::net::tcp::OwnedReadHalf,
    to: tokio::net::tcp::OwnedWriteHalf,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
) {
    use std::io::ErrorKind::WouldBlock;
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if from.readable().await.is_err() {
            return;
        }
        let n = match from.try_read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == WouldBlock => continue,
            Err(_) => return,
        };
        if frozen.load(std::sync::atomic::Ordering::SeqCst) {
            continue;
        }
        let mut sent = 0;
        while sent < n {
            if to.writable().await.is_err() {
                return;
            }
            match to.try_write(&buf[sent..n]) {
                Ok(k) => sent += k,
                Err(e) if e.kind() == WouldBlock => {}
                Err(_) => return,
            }
        }
    }
}

#[tokio::test]
async fn a_subscription_that_goes_silent_is_noticed_by_its_heartbeat() {
    let Some(url) = redis_url("a_subscription_that_goes_silent_is_noticed_by_its_heartbeat") else {
        return;
    };
    let target = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let proxy = SilentProxy::start(target).await;
    let ns = unique_namespace();
    let a = RedisEpochs::start(
        &format!("redis://127.0.0.1:{}/0", proxy.port),
        &ns,
        Duration::from_secs(30),
    )
    .unwrap();
    let b = RedisEpochs::start(&url, &ns, Duration::from_secs(30)).unwrap();
    assert!(until(async || a.live() && b.live()).await);
    let t = tenant(1);
    b.seen(t, 5, true).await;
    assert!(until(async || a.current(t).await == Some(5)).await);
    // Answered heartbeats keep the subscription (a new one would have cleared the map).
    tokio::time::sleep(Duration::from_millis(4500)).await;
    assert!(a.live());
    assert_eq!(a.current(t).await, Some(5));

    proxy.freeze(true);
    assert!(
        until(async || a.current(t).await.is_none()).await,
        "node A still vouches for an epoch over a silent connection"
    );
    assert!(!a.live());

    proxy.freeze(false);
    assert!(
        within(Duration::from_secs(20), async || a.live()).await,
        "node A never subscribed again"
    );
    b.seen(t, 6, true).await;
    assert!(until(async || a.current(t).await == Some(6)).await);
}
