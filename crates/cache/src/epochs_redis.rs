use crate::epochs_memory::MemoryEpochs;
use crate::redis_link::RedisLink;
use async_trait::async_trait;
use futures::StreamExt;
use redis::AsyncCommands;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;
use tessera_domain::TenantId;
use tessera_domain::ports::EpochCache;
use tokio::task::JoinHandle;

/// Longest wait for one Redis command (an announcement, a heartbeat, a subscription).
const TIMEOUT: Duration = Duration::from_millis(500);
/// Longest wait for the subscriber's connection (no caller waits on it).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the subscription is checked with a PING: a connection that went silent without
/// closing (a lost network) is noticed within this plus [`TIMEOUT`].
const HEARTBEAT: Duration = Duration::from_secs(2);
/// How often announcements that could not be published are tried again.
const REANNOUNCE: Duration = Duration::from_millis(100);

/// The tenants' authorization epochs, shared by every node through a Redis channel
/// (`<namespace>:authz-epochs`, messages `<tenant uuid> <epoch>`). Each node keeps what it
/// hears and what it reads in a local map, and vouches for it only while it is subscribed (it
/// would not hear a change otherwise) and for at most `max_age` after it was last recorded.
/// After a lost subscription the map is cleared, since announcements may have been missed.
/// An announcement that cannot be published is kept and published again, on a connection of
/// its own, as soon as Redis takes it: after an outage the shared connection fails its first
/// command and then rests for a while, and the other nodes, subscribed again, must not keep
/// the older epoch until `max_age`. Callers never see an error; an unreachable Redis means
/// "read the database".
#[derive(Clone)]
pub struct RedisEpochs {
    inner: Arc<Inner>,
}

struct Inner {
    local: MemoryEpochs,
    link: Arc<RedisLink>,
    channel: String,
    /// True only while the subscription is established.
    live: AtomicBool,
    subscriber: Mutex<Option<JoinHandle<()>>>,
    /// The largest epoch per tenant whose announcement failed, until it is published.
    pending: Mutex<HashMap<TenantId, i64>>,
    reannouncer: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        for slot in [&self.subscriber, &self.reannouncer] {
            if let Ok(mut slot) = slot.lock()
                && let Some(task) = slot.take()
            {
                task.abort();
            }
        }
    }
}

impl RedisEpochs {
    /// Only an unparsable URL is an error: when Redis is down the cache starts anyway (and
    /// answers `None`), subscribing in the background. Must be called within a Tokio runtime.
    pub fn start(url: &str, namespace: &str, max_age: Duration) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let inner = Arc::new(Inner {
            local: MemoryEpochs::new(max_age),
            link: RedisLink::start(client.clone(), TIMEOUT, "authorization epochs"),
            channel: channel(namespace),
            live: AtomicBool::new(false),
            subscriber: Mutex::new(None),
            pending: Mutex::new(HashMap::new()),
            reannouncer: Mutex::new(None),
        });
        let reannouncer = tokio::spawn(reannounce_loop(client.clone(), Arc::downgrade(&inner)));
        if let Ok(mut slot) = inner.reannouncer.lock() {
            *slot = Some(reannouncer);
        }
        let task = tokio::spawn(subscribe_loop(client, Arc::downgrade(&inner)));
        if let Ok(mut slot) = inner.subscriber.lock() {
            *slot = Some(task);
        }
        Ok(Self { inner })
    }

    /// Whether this node hears the other nodes' announcements (for tests and readiness
    /// reports).
    pub fn live(&self) -> bool {
        self.inner.live.load(Ordering::SeqCst)
    }
}

fn channel(namespace: &str) -> String {
    format!("{namespace}:authz-epochs")
}

fn message(tenant: TenantId, epoch: i64) -> String {
    format!("{tenant} {epoch}")
}

fn parse(message: &str) -> Option<(TenantId, i64)> {
    let (tenant, epoch) = message.split_once(' ')?;
    Some((tenant.parse().ok()?, epoch.parse().ok()?))
}

#[async_trait]
impl EpochCache for RedisEpochs {
    async fn current(&self, tenant: TenantId) -> Option<i64> {
        if !self.live() {
            return None;
        }
        self.inner.local.fresh(tenant)
    }

    async fn seen(&self, tenant: TenantId, epoch: i64, announce: bool) {
        // While not subscribed nothing is vouched for, and the map is cleared on subscribing:
        // an epoch recorded now would only survive that clear by a race.
        if self.live() {
            self.inner.local.record(tenant, epoch);
        }
        if !announce {
            return;
        }
        let published = match self.inner.link.conn().await {
            Some(mut conn) => {
                let publish = conn.publish::<_, _, ()>(&self.inner.channel, message(tenant, epoch));
                self.inner.link.run("publish", publish).await.is_some()
            }
            None => false,
        };
        if !published {
            {
                let mut pending = self
                    .inner
                    .pending
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                let known = pending.entry(tenant).or_insert(epoch);
                *known = (*known).max(epoch);
            }
            tracing::warn!(
                %tenant,
                epoch,
                "could not announce an authorization epoch: announcing it again as soon as \
                 Redis takes it (until then, other nodes learn it from the database once their \
                 own knowledge is too old or their subscription is lost)"
            );
        }
    }
}

/// Publishes the announcements that failed, on a connection of its own (the shared one may
/// be resting after a failure), until Redis takes them. A later announcement of the same
/// tenant supersedes an older one; epochs never go down on the receiving side anyway.
async fn reannounce_loop(client: redis::Client, inner: Weak<Inner>) {
    loop {
        tokio::time::sleep(REANNOUNCE).await;
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let batch: Vec<(TenantId, i64)> = strong
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|(t, e)| (*t, *e))
            .collect();
        let chan = strong.channel.clone();
        drop(strong);
        if batch.is_empty() {
            continue;
        }
        let Ok(Ok(mut conn)) =
            tokio::time::timeout(TIMEOUT, client.get_multiplexed_async_connection()).await
        else {
            continue;
        };
        for (tenant, epoch) in batch {
            let publish = conn.publish::<_, _, ()>(&chan, message(tenant, epoch));
            if !matches!(tokio::time::timeout(TIMEOUT, publish).await, Ok(Ok(()))) {
                break;
            }
            let Some(strong) = inner.upgrade() else {
                return;
            };
            let mut pending = strong
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if pending.get(&tenant) == Some(&epoch) {
                pending.remove(&tenant);
            }
            drop(pending);
            tracing::info!(%tenant, epoch, "announced an authorization epoch after all");
        }
    }
}

/// Keeps a subscription to the channel, reconnecting with back-off. The map is cleared before
/// the node becomes live, and the node stops being live as soon as the subscription is lost
/// (the stream ends or a heartbeat goes unanswered).
async fn subscribe_loop(client: redis::Client, inner: Weak<Inner>) {
    let mut delay = Duration::from_millis(200);
    loop {
        let Some(strong) = inner.upgrade() else {
            return;
        };
        let chan = strong.channel.clone();
        drop(strong);
        match subscribe(&client, &chan).await {
            Ok((mut sink, mut messages)) => {
                delay = Duration::from_millis(200);
                let Some(strong) = inner.upgrade() else {
                    return;
                };
                strong.local.clear();
                strong.live.store(true, Ordering::SeqCst);
                drop(strong);
                tracing::info!("subscribed to the authorization epochs channel");
                let mut heartbeat = tokio::time::interval(HEARTBEAT);
                heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                heartbeat.reset();
                loop {
                    tokio::select! {
                        msg = messages.next() => {
                            let Some(msg) = msg else { break };
                            let Some(strong) = inner.upgrade() else {
                                return;
                            };
                            match msg.get_payload::<String>().ok().as_deref().and_then(parse) {
                                Some((tenant, epoch)) => strong.local.record(tenant, epoch),
                                None => tracing::debug!("ignored a malformed epoch announcement"),
                            }
                        }
                        _ = heartbeat.tick() => {
                            let ping = sink.ping::<redis::Value>();
                            if !matches!(tokio::time::timeout(TIMEOUT, ping).await, Ok(Ok(_))) {
                                break;
                            }
                        }
                    }
                }
                if let Some(strong) = inner.upgrade() {
                    strong.live.store(false, Ordering::SeqCst);
                }
                tracing::warn!(
                    "lost the authorization epochs channel; reading epochs from the database \
                     and reconnecting"
                );
            }
            Err(e) => {
                tracing::debug!(
                    error = %e,
                    "authorization epochs channel unreachable; retrying"
                )
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
}

/// Connects and subscribes, each step within the timeout.
async fn subscribe(
    client: &redis::Client,
    chan: &str,
) -> Result<(redis::aio::PubSubSink, redis::aio::PubSubStream), String> {
    let pubsub = tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub())
        .await
        .map_err(|_| "timed out connecting".to_owned())?
        .map_err(|e| e.to_string())?;
    let (mut sink, stream) = pubsub.split();
    tokio::time::timeout(TIMEOUT, sink.subscribe(chan))
        .await
        .map_err(|_| "timed out subscribing".to_owned())?
        .map_err(|e| e.to_string())?;
    Ok((sink, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcements_round_trip_and_malformed_ones_are_refused() {
        let tenant: TenantId = "0190c3a4-1111-7000-8000-000000000001".parse().unwrap();
        assert_eq!(parse(&message(tenant, 42)), Some((tenant, 42)));
        assert_eq!(parse(&message(tenant, -1)), Some((tenant, -1)));
        for bad in [
            "",
            "42",
            "not-a-uuid 4",
            "0190c3a4-1111-7000-8000-000000000001 x",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(channel("tessera"), "tessera:authz-epochs");
    }
}
