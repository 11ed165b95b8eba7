//! A closed-loop HTTP load generator (N client tasks, each sending its next request when the
//! previous one answered) and the floor it is compared with: a bare axum handler returning a
//! small JSON document, served from the same process and driven by the same loop.

use axum::Json;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::{Value, json};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What one phase measured.
pub struct LoadResult {
    pub ok: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Latency of each successful request, in nanoseconds.
    pub latencies: Vec<u64>,
}

impl LoadResult {
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Runs `request(task, iteration)` from `concurrency` tasks: first for `warmup` (discarded),
/// then for `duration`. `request` answers whether the request succeeded.
pub async fn run<F, Fut>(
    concurrency: usize,
    warmup: Duration,
    duration: Duration,
    request: F,
) -> LoadResult
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let request = Arc::new(request);
    if !warmup.is_zero() {
        phase(concurrency, warmup, request.clone(), 0).await;
    }
    // Iterations of the measured phase never repeat those of the warm-up (unique names).
    phase(concurrency, duration, request, 1_000_000_000).await
}

async fn phase<F, Fut>(
    concurrency: usize,
    duration: Duration,
    request: Arc<F>,
    first_iteration: u64,
) -> LoadResult
where
    F: Fn(usize, u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..concurrency)
        .map(|task| {
            let request = request.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(4096);
                let mut errors = 0u64;
                let mut i = first_iteration;
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    let ok = request(task, i).await;
                    let took = sent.elapsed();
                    if ok {
                        latencies.push(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX));
                    } else {
                        errors += 1;
                    }
                    i += 1;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut result = LoadResult {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    for task in tasks {
        if let Ok((latencies, errors)) = task.await {
            result.ok += latencies.len() as u64;
            result.errors += errors;
            result.latencies.extend(latencies);
        }
    }
    result.elapsed = start.elapsed();
    result
}

/// An open-loop probe: one request every `every` for `duration` (a steady trickle, as real
/// traffic arrives, rather than a client that fires again the moment it has an answer).
pub async fn paced<F, Fut>(every: Duration, duration: Duration, request: F) -> LoadResult
where
    F: Fn(u64) -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    let deadline = start + duration;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut result = LoadResult {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies: Vec::new(),
    };
    let mut i = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        let sent = Instant::now();
        if request(i).await {
            result.ok += 1;
            result
                .latencies
                .push(u64::try_from(sent.elapsed().as_nanos()).unwrap_or(u64::MAX));
        } else {
            result.errors += 1;
        }
        i += 1;
    }
    result.elapsed = start.elapsed();
    result
}

/// The floor: `GET /floor` answers a small JSON document, `POST /floor` parses a JSON body
/// and answers 201 with a small document, like the handlers measured, minus the application.
pub async fn start_floor() -> anyhow::Result<SocketAddr> {
    async fn read() -> Json<Value> {
        Json(
            json!({"id": "0190f7a4-3c52-7c1e-9a8e-1f2d3c4b5a69", "username": "jane", "state": "active"}),
        )
    }
    async fn create(Json(body): Json<Value>) -> (StatusCode, Json<Value>) {
        let username = body.get("username").cloned().unwrap_or(Value::Null);
        (
            StatusCode::CREATED,
            Json(json!({"id": "0190f7a4-3c52-7c1e-9a8e-1f2d3c4b5a69", "username": username})),
        )
    }
    let router = Router::new().route("/floor", get(read).post(create));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    Ok(addr)
}
