//! Permission-graph retrieval through `App::subject_permissions` (the use case behind
//! `GET /t/{t}/access/v1/subjects/{id}/permissions`: tenant, epoch, then the graph through
//! its three tiers), one client, each sampled user read once per phase:
//!
//! - cold, from the database: a new node without Redis (every in-process cache empty);
//!   each read compiles the graph from the store (the user, their role assignments and
//!   templates; the tenant's model is read once and cached). Floor: one user read by id
//!   through `App::get_user` on the same node (a user without roles);
//! - warm, in process: the same node again (typed graph cache hit; without Redis the epoch is
//!   re-read from the database once a second);
//! - with Redis: a node compiles each graph and writes it to Redis (read-aside), then a
//!   second, new node (empty in-process tiers: typed graphs and the cache's local tier) reads
//!   it: one Redis `GET` and deserialization. Floor: a raw `GET` of the same key with the
//!   redis crate. Then that node again, warm (epoch vouched by Redis pub/sub).

use super::world::{World, err};
use crate::report::{Latency, progress};
use std::time::{Duration, Instant};
use tessera_application::App;
use tessera_domain::UserId;

pub struct Figures {
    pub cold: Latency,
    pub cold_floor: Latency,
    pub warm_local: Latency,
    pub redis: Option<RedisFigures>,
}

pub struct RedisFigures {
    pub fill: Latency,
    pub from_redis: Latency,
    pub floor: Latency,
    pub warm: Latency,
    pub graph_bytes: usize,
    /// Reads whose raw `GET` found nothing (expired or a changed key format).
    pub missing: usize,
}

fn nanos(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

async fn read(w: &World, app: &App, user: UserId) -> anyhow::Result<u64> {
    let t = Instant::now();
    let graph = app
        .subject_permissions(&w.ctx, &w.slug, user)
        .await
        .map_err(err("subject_permissions"))?;
    let took = nanos(t);
    anyhow::ensure!(!graph.grants.is_empty(), "a sampled user holds no grant");
    Ok(took)
}

async fn warm_up(w: &World, app: &App) -> anyhow::Result<()> {
    for &user in &w.warmup {
        read(w, app, user).await?;
        app.get_user(&w.ctx, &w.slug, user)
            .await
            .map_err(err("get_user"))?;
    }
    Ok(())
}

async fn phase(w: &World, app: &App, users: &[UserId]) -> anyhow::Result<Latency> {
    let mut samples = Vec::with_capacity(users.len());
    for &user in users {
        samples.push(read(w, app, user).await?);
    }
    Ok(Latency::of(&mut samples))
}

pub async fn run(w: &World) -> anyhow::Result<Figures> {
    progress(&format!(
        "graph retrieval: {} users, cold from {} (new node, no Redis)",
        w.sampled.len(),
        w.backend
    ));
    let local = w.fresh_app(false).await?;
    warm_up(w, &local).await?;
    let (mut cold, mut floor) = (Vec::new(), Vec::new());
    for (i, &user) in w.sampled.iter().enumerate() {
        cold.push(read(w, &local, user).await?);
        let plain = w.plain[i % w.plain.len()];
        let t = Instant::now();
        local
            .get_user(&w.ctx, &w.slug, plain)
            .await
            .map_err(err("get_user"))?;
        floor.push(nanos(t));
    }
    let warm_local = phase(w, &local, &w.sampled).await?;
    drop(local);

    let redis = match &w.redis {
        Some(url) => Some(with_redis(w, url).await?),
        None => None,
    };
    Ok(Figures {
        cold: Latency::of(&mut cold),
        cold_floor: Latency::of(&mut floor),
        warm_local,
        redis,
    })
}

async fn with_redis(w: &World, url: &str) -> anyhow::Result<RedisFigures> {
    progress("graph retrieval through Redis: one node writes, a new node reads");
    let writer = w.fresh_app(true).await?;
    let reader = w.fresh_app(true).await?;
    // Both subscribe to the epoch announcements before they vouch for an epoch.
    tokio::time::sleep(Duration::from_secs(1)).await;
    warm_up(w, &writer).await?;
    warm_up(w, &reader).await?;
    let client = redis::Client::open(url)?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    let namespace = &w.settings.cache.namespace;
    let (mut fill, mut from_redis, mut floor) = (Vec::new(), Vec::new(), Vec::new());
    let (mut graph_bytes, mut missing) = (0, 0);
    // In chunks, so that each graph is read long before its time to live in Redis ends.
    for chunk in w.sampled.chunks(100) {
        for &user in chunk {
            fill.push(read(w, &writer, user).await?);
        }
        for &user in chunk {
            let t = Instant::now();
            let graph = reader
                .subject_permissions(&w.ctx, &w.slug, user)
                .await
                .map_err(err("subject_permissions"))?;
            from_redis.push(nanos(t));
            // The key the application uses (`graph_key` in application/src/authz/graph.rs),
            // under the cache's namespace.
            let key = format!(
                "{namespace}:cache:v1:authz:graph:{}:{}:{user}",
                w.tenant, graph.epoch
            );
            let t = Instant::now();
            let bytes = redis::cmd("GET")
                .arg(&key)
                .query_async::<Option<Vec<u8>>>(&mut conn)
                .await?;
            floor.push(nanos(t));
            match bytes {
                Some(b) => graph_bytes = b.len(),
                None => missing += 1,
            }
        }
    }
    let warm = phase(w, &reader, &w.sampled).await?;
    Ok(RedisFigures {
        fill: Latency::of(&mut fill),
        from_redis: Latency::of(&mut from_redis),
        floor: Latency::of(&mut floor),
        warm,
        graph_bytes,
        missing,
    })
}
