//! The check API over HTTP: the real server (`tessera_server::http::start` on the benchmark's
//! application) driven by N client tasks (reqwest, one connection each, closed loop), next
//! to the floor, a bare axum handler answering a constant JSON document (`GET /floor`, and
//! `POST /floor` parsing the same JSON body), driven by the same loop in the same run.
//!
//! A closed loop at N connections keeps N requests in flight, so its latency is N divided by
//! the throughput (Little's law) once the server is saturated. Two more phases therefore send
//! one evaluation per request at a steady rate (open loop: each connection sends every
//! N / rate seconds whatever the answers do), half the closed-loop evaluation throughput by
//! default, to the floor and to Tessera: the latency of a server that keeps up.
//!
//! The machine may be shared: each phase is cut into slices and the targets take turns, so
//! that a change of load in the middle of the run hits the floor and Tessera alike.

use super::decide::{evaluation_body, properties};
use super::world::World;
use crate::load::{self, LoadResult};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

pub struct Phase {
    pub target: &'static str,
    pub operation: String,
    /// Decisions per request.
    pub decisions: u64,
    pub result: LoadResult,
}

pub struct Figures {
    pub phases: Vec<Phase>,
}

impl Figures {
    pub fn get(&self, operation: &str) -> Option<&Phase> {
        self.phases
            .iter()
            .find(|p| p.operation.starts_with(operation))
    }
}

/// The batch body: 100 evaluations of the subject and action given once, on 100 orders.
fn batch_body(w: &World, n: usize) -> Value {
    let first = evaluation_body(w);
    let evaluations: Vec<Value> = (0..n)
        .map(|i| json!({"resource": {"type": "orders", "id": format!("o-{i}"), "properties": properties(w)}}))
        .collect();
    json!({
        "subject": first["subject"],
        "action": first["action"],
        "context": first["context"],
        "evaluations": evaluations,
    })
}

/// Accumulating the slices of a phase.
trait Slices {
    fn empty() -> Self;
    fn merge(&mut self, other: Self);
}

impl Slices for LoadResult {
    fn empty() -> Self {
        Self {
            ok: 0,
            errors: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
        }
    }

    fn merge(&mut self, other: Self) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.elapsed += other.elapsed;
        self.latencies.extend(other.latencies);
    }
}

/// One request answered with `status`, its body read.
async fn ok(sent: reqwest::Result<reqwest::Response>, status: u16) -> bool {
    match sent {
        Ok(r) if r.status().as_u16() == status => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// Where a phase sends its requests.
#[derive(Clone)]
struct Target {
    url: String,
    key: Option<Arc<str>>,
    /// `POST` with this JSON body, else `GET`.
    body: Option<Arc<str>>,
    status: u16,
}

async fn drive(
    client: &reqwest::Client,
    connections: usize,
    (warmup, duration): (Duration, Duration),
    t: Target,
) -> LoadResult {
    let c = client.clone();
    load::run(connections, warmup, duration, move |_, _| {
        let mut req = match &t.body {
            Some(b) => c
                .post(&t.url)
                .header("content-type", "application/json")
                .body(b.to_string()),
            None => c.get(&t.url),
        };
        if let Some(k) = &t.key {
            req = req.bearer_auth(k);
        }
        let (sent, status) = (req.send(), t.status);
        async move { ok(sent.await, status).await }
    })
    .await
}

/// Open loop: `connections` tasks, each sending one request every `connections / rate`
/// seconds (staggered), for `duration`; a late answer delays that task's next request.
async fn paced(
    client: &reqwest::Client,
    connections: usize,
    rate: f64,
    duration: Duration,
    t: Target,
) -> LoadResult {
    let every = Duration::from_secs_f64(connections as f64 / rate.max(1.0));
    let t = Arc::new(t);
    let start = tokio::time::Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            let (c, t) = (client.clone(), t.clone());
            let first = start + every.mul_f64(i as f64 / connections as f64);
            tokio::spawn(async move {
                let mut tick = tokio::time::interval_at(first, every);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let (mut latencies, mut errors) = (Vec::new(), 0u64);
                loop {
                    tick.tick().await;
                    if tokio::time::Instant::now() >= deadline {
                        break;
                    }
                    let mut req = c
                        .post(&t.url)
                        .header("content-type", "application/json")
                        .body(t.body.as_deref().unwrap_or("{}").to_owned());
                    if let Some(k) = &t.key {
                        req = req.bearer_auth(k);
                    }
                    let sent = std::time::Instant::now();
                    if ok(req.send().await, t.status).await {
                        latencies.push(sent.elapsed().as_nanos() as u64);
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut result = LoadResult::empty();
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

pub async fn run(
    w: &World,
    connections: usize,
    warmup: Duration,
    duration: Duration,
    batch: usize,
    paced_rate: Option<f64>,
    slices: usize,
) -> anyhow::Result<Figures> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;
    let floor = load::start_floor().await?;
    let server = tessera_server::http::start(w.app.clone(), &w.settings).await?;
    let base = format!("http://{}/t/{}/access/v1", server.addr, w.slug);
    let key: Arc<str> = Arc::from(w.key_secret.as_str());
    let one: Arc<str> = Arc::from(evaluation_body(w).to_string());
    let many: Arc<str> = Arc::from(batch_body(w, batch).to_string());

    // The answers are what they should be before anything is timed.
    let check = |path: &str, body: &Arc<str>| {
        client
            .post(format!("{base}/{path}"))
            .bearer_auth(&*key)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let a: Value = check("evaluation", &one).await?.json().await?;
    anyhow::ensure!(
        a["decision"] == true && a["context"]["reason"] == "allowed_by_role",
        "evaluation over HTTP: {a}"
    );
    let b: Value = check("evaluations", &many).await?.json().await?;
    let answers = b["evaluations"].as_array().map_or(0, Vec::len);
    anyhow::ensure!(
        answers == batch && b["evaluations"][0]["decision"] == true,
        "batch over HTTP: {answers} answers, first {}",
        b["evaluations"][0]
    );

    let label = |s: &str| crate::report::progress(&format!("HTTP, {connections} connections: {s}"));
    let closed: Vec<(&'static str, &'static str, u64, Target)> = vec![
        (
            "floor (bare axum)",
            "GET constant JSON",
            0,
            Target {
                url: format!("http://{floor}/floor"),
                key: None,
                body: None,
                status: 200,
            },
        ),
        (
            "floor (bare axum)",
            "POST, JSON body parsed",
            0,
            Target {
                url: format!("http://{floor}/floor"),
                key: None,
                body: Some(one.clone()),
                status: 201,
            },
        ),
        (
            "tessera",
            "POST /evaluation",
            1,
            Target {
                url: format!("{base}/evaluation"),
                key: Some(key.clone()),
                body: Some(one.clone()),
                status: 200,
            },
        ),
        (
            "tessera",
            "POST /evaluations (batch)",
            batch as u64,
            Target {
                url: format!("{base}/evaluations"),
                key: Some(key.clone()),
                body: Some(many),
                status: 200,
            },
        ),
    ];
    let slices = slices.max(1);
    let slice = duration / u32::try_from(slices).unwrap_or(1);
    label(&format!(
        "closed loop: {} targets alternating in {slices} slices of {:.1} s (after {} s warm-up each)",
        closed.len(),
        slice.as_secs_f64(),
        warmup.as_secs()
    ));
    for (_, _, _, t) in &closed {
        drive(&client, connections, (Duration::ZERO, warmup), t.clone()).await;
    }
    let mut results: Vec<LoadResult> = closed.iter().map(|_| LoadResult::empty()).collect();
    for _ in 0..slices {
        for ((_, _, _, t), acc) in closed.iter().zip(results.iter_mut()) {
            acc.merge(drive(&client, connections, (Duration::ZERO, slice), t.clone()).await);
        }
    }
    let mut phases: Vec<Phase> = closed
        .into_iter()
        .zip(results)
        .map(|((target, operation, decisions, _), result)| Phase {
            target,
            operation: operation.into(),
            decisions,
            result,
        })
        .collect();

    let saturated = phases
        .iter()
        .find(|p| p.operation == "POST /evaluation")
        .map_or(1000.0, |p| p.result.rate());
    let rate = paced_rate.unwrap_or_else(|| (saturated / 2.0 / 100.0).round().max(1.0) * 100.0);
    label(&format!(
        "open loop at {rate:.0} requests/s, floor and Tessera alternating"
    ));
    let open = [
        (
            "floor (bare axum)",
            Target {
                url: format!("http://{floor}/floor"),
                key: None,
                body: Some(one.clone()),
                status: 201,
            },
        ),
        (
            "tessera",
            Target {
                url: format!("{base}/evaluation"),
                key: Some(key.clone()),
                body: Some(one.clone()),
                status: 200,
            },
        ),
    ];
    let mut results = [LoadResult::empty(), LoadResult::empty()];
    for _ in 0..slices {
        for ((_, t), acc) in open.iter().zip(results.iter_mut()) {
            acc.merge(paced(&client, connections, rate, slice, t.clone()).await);
        }
    }
    for ((target, _), result) in open.into_iter().zip(results) {
        phases.push(Phase {
            target,
            operation: format!("POST, open loop at {rate:.0}/s"),
            decisions: u64::from(target == "tessera"),
            result,
        });
    }
    server.stop(Duration::from_secs(5)).await?;
    Ok(Figures { phases })
}
