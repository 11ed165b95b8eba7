//! `tessera-bench authz`: the figures of the authorization issue, each next to a floor
//! measured in the same run.
//!
//! 1. `decide`: in-process decision latency (`App::evaluate`, and `tessera_authz::decide`
//!    alone) against raw cedar-policy on the same policies and entities ([`decide`]).
//! 2. `http`: `POST /t/{t}/access/v1/evaluation(s)` at 64 connections against a bare axum
//!    handler ([`http`]).
//! 3. `graph`: permission-graph retrieval warm in process, from Redis, cold from the database
//!    ([`graph`]).
//! 4. `rules`: decision latency as rules grow from 1k to 110k, against casbin-rs ([`rules`]).
//!
//! 1-3 share one tenant set up through the application ([`world`]); 4 is pure.

mod decide;
mod graph;
mod http;
mod rules;
mod world;

use crate::report::{Latency, Report, ms, progress, round};
use serde_json::{Value, json};
use std::time::Duration;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// PostgreSQL base URL whose user may create databases (a throw-away database is created
    /// and dropped); without it, SQLite in a temporary directory.
    #[arg(long)]
    pg: Option<String>,
    /// Users created in the tenant (through the bulk use case) before measuring.
    #[arg(long, default_value_t = 10_000)]
    users: u64,
    /// Redis URL for the shared cache tier; default: 127.0.0.1:6379 if it answers.
    #[arg(long, env = "TESSERA_BENCH_REDIS_URL")]
    redis: Option<String>,
    /// Measure without Redis even if one answers.
    #[arg(long)]
    no_redis: bool,
    /// Users whose graph is read in each retrieval phase (each holds a role).
    #[arg(long, default_value_t = 1000)]
    samples: usize,
    /// Timed decisions of each in-process variant.
    #[arg(long, default_value_t = 20_000)]
    iterations: usize,
    /// Rounds the in-process variants alternate in.
    #[arg(long, default_value_t = 10)]
    rounds: usize,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Slices each HTTP phase and each rule count is cut into, the targets taking turns.
    #[arg(long, default_value_t = 5)]
    slices: usize,
    /// Seconds each HTTP phase lasts (in total over its slices).
    #[arg(long, default_value_t = 5)]
    duration: u64,
    /// Seconds of unmeasured warm-up before each HTTP phase.
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Requests per second of the open-loop phases (default: half the closed-loop
    /// evaluation throughput).
    #[arg(long)]
    paced_rate: Option<f64>,
    /// Evaluations per batch request.
    #[arg(long, default_value_t = 100)]
    batch: usize,
    /// Rule counts (role → permission) of the growth comparison.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,110000")]
    rules: Vec<usize>,
    /// Permissions in each role's template.
    #[arg(long, default_value_t = 10)]
    per_role: usize,
    /// Seconds of decisions per engine and rule count, in total over the slices (casbin: at
    /// least 20 decisions).
    #[arg(long, default_value_t = 2)]
    rules_seconds: u64,
    /// The tenant's decision-log sampling rate (the product's default is 0.01; each sampled
    /// decision is a database write).
    #[arg(long, default_value_t = 0.0)]
    decision_log_rate: f64,
    /// Parts to run: decide, http, graph, rules.
    #[arg(long, value_delimiter = ',', default_value = "decide,http,graph,rules")]
    parts: Vec<String>,
}

/// Microseconds (from milliseconds) for a table cell.
fn us(x: f64) -> String {
    let v = x * 1000.0;
    if v >= 1000.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn yes(met: bool) -> String {
    if met { "yes".into() } else { "NO".into() }
}

pub async fn run(args: Args, report: &mut Report) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=tessera_application::MAX_BATCH).contains(&args.batch),
        "--batch 1..={}",
        tessera_application::MAX_BATCH
    );
    let part = |p: &str| args.parts.iter().any(|x| x == p);
    let mut summary: Vec<Vec<String>> = Vec::new();
    let mut world_note = None;

    if part("decide") || part("http") || part("graph") {
        let redis = if args.no_redis {
            None
        } else {
            world::find_redis(args.redis.clone()).await
        };
        if redis.is_none() {
            progress("no Redis: the Redis figures are skipped");
        }
        let w = world::World::create(&world::Options {
            pg: args.pg.clone(),
            redis,
            users: args.users,
            samples: args.samples,
            warmup_users: 20,
            decision_log_rate: args.decision_log_rate,
        })
        .await?;
        let note = format!(
            "Tenant: {} users on {} (loaded in {:.1}s), {}; {} users hold `refunder` (3 roles through inheritance); 6 Cedar policies; decision log rate {}.",
            w.users,
            w.backend,
            w.load_secs,
            if w.redis.is_some() {
                "Redis cache tier"
            } else {
                "no Redis"
            },
            w.sampled.len() + w.warmup.len(),
            args.decision_log_rate
        );
        report.note("world", format!("\n{note}"));
        world_note = Some(note);
        if part("decide") {
            progress(&format!(
                "in-process decisions: {} per variant in {} rounds",
                args.iterations, args.rounds
            ));
            let f = decide::run(&w, args.iterations, args.rounds).await?;
            print_decide(&f, report, &mut summary);
        }
        if part("http") {
            let f = http::run(
                &w,
                args.connections,
                Duration::from_secs(args.warmup),
                Duration::from_secs(args.duration),
                args.batch,
                args.paced_rate,
                args.slices,
            )
            .await?;
            print_http(&args, &f, report, &mut summary);
        }
        if part("graph") {
            let f = graph::run(&w).await?;
            print_graph(&w, &f, report, &mut summary);
        }
    }
    if part("rules") {
        let sizes = rules::run(
            &args.rules,
            args.per_role,
            Duration::from_secs(args.rules_seconds),
            args.slices,
        )
        .await?;
        print_rules(&sizes, report, &mut summary);
    }
    report.table(
        "summary",
        "Summary: the issue's goals",
        &["goal", "measured", "met"],
        &summary,
        json!({ "world": world_note, "rows": summary }),
    );
    Ok(())
}

fn print_decide(f: &decide::Figures, report: &mut Report, summary: &mut Vec<Vec<String>>) {
    let floor = f.raw_built;
    let row = |name: &str, l: &Latency| {
        vec![
            name.to_owned(),
            us(l.p50),
            us(l.p99),
            us(l.mean),
            format!("{:.2}", l.p50 / floor.p50),
            format!("{:.2}", l.p99 / floor.p99),
        ]
    };
    report.table(
        "decide",
        &format!(
            "In-process decision latency, one thread, {} decisions each (µs); floor: raw Cedar with request and entities built per request",
            floor.count
        ),
        &["variant", "p50", "p99", "mean", "p50 / floor", "p99 / floor"],
        &[
            row("raw Cedar, entities prebuilt", &f.raw_prebuilt),
            row("raw Cedar, built per request (floor)", &f.raw_built),
            row("tessera_authz::decide (cached graph + engine)", &f.decide),
            row("App::evaluate (public use case)", &f.app),
            row(
                "App::authenticate_api_key (per HTTP request; not a decision)",
                &f.auth,
            ),
        ],
        json!({
            "raw_prebuilt": f.raw_prebuilt.json(),
            "raw_built_floor": f.raw_built.json(),
            "decide": f.decide.json(),
            "app_evaluate": f.app.json(),
            "authenticate_api_key": f.auth.json(),
        }),
    );
    let (r50, r99) = (f.app.p50 / floor.p50, f.app.p99 / floor.p99);
    let (d50, d99) = (f.decide.p50 / floor.p50, f.decide.p99 / floor.p99);
    summary.push(vec![
        "in-process decision ≤ 1.2 × raw Cedar (App::evaluate)".into(),
        format!(
            "p50 {} µs = {r50:.2}×, p99 {} µs = {r99:.2}× (floor p50 {} / p99 {} µs)",
            us(f.app.p50),
            us(f.app.p99),
            us(floor.p50),
            us(floor.p99)
        ),
        yes(r50 <= 1.2 && r99 <= 1.2),
    ]);
    summary.push(vec![
        "in-process decision ≤ 1.2 × raw Cedar (decide alone)".into(),
        format!(
            "p50 {} µs = {d50:.2}×, p99 {} µs = {d99:.2}×",
            us(f.decide.p50),
            us(f.decide.p99)
        ),
        yes(d50 <= 1.2 && d99 <= 1.2),
    ]);
}

fn print_http(args: &Args, f: &http::Figures, report: &mut Report, summary: &mut Vec<Vec<String>>) {
    let floor_rate = f.get("GET constant JSON").map_or(0.0, |p| p.result.rate());
    let mut rows = Vec::new();
    let mut data = Vec::new();
    let mut lat = Vec::new();
    for p in &f.phases {
        let mut samples = p.result.latencies.clone();
        let l = Latency::of(&mut samples);
        let rate = p.result.rate();
        let decisions = if p.decisions > 0 {
            format!("{:.0}", rate * p.decisions as f64)
        } else {
            "-".into()
        };
        rows.push(vec![
            p.target.to_owned(),
            p.operation.clone(),
            format!("{rate:.0}"),
            decisions,
            ms(l.p50),
            ms(l.p99),
            p.result.errors.to_string(),
            format!("{:.2}", rate / floor_rate),
        ]);
        let mut entry = json!({
            "target": p.target, "operation": p.operation, "requests": p.result.ok,
            "errors": p.result.errors, "requests_per_second": rate.round(),
            "decisions_per_second": (rate * p.decisions as f64).round(),
        });
        if let (Value::Object(e), Value::Object(l)) = (&mut entry, l.json()) {
            e.extend(l);
        }
        data.push(entry);
        lat.push((p.target, p.operation.as_str(), rate, l));
    }
    report.table(
        "http",
        &format!(
            "HTTP: {} connections, {} s per phase in {} alternating slices (closed loop after {} s warm-up), client and server in one process",
            args.connections, args.duration, args.slices, args.warmup
        ),
        &[
            "target", "operation", "req/s", "decisions/s", "p50 ms", "p99 ms", "errors",
            "req/s / floor",
        ],
        &rows,
        Value::Array(data),
    );
    let find = |target: &str, op: &str| {
        lat.iter()
            .find(|(t, o, _, _)| *t == target && o.starts_with(op))
            .map(|(_, o, r, l)| (*o, *r, *l))
    };
    let floor_p99 = find("floor (bare axum)", "GET").map_or(0.0, |(_, _, l)| l.p99);
    if let Some((_, rate, l)) = find("tessera", "POST /evaluation") {
        let ratio = rate / floor_rate;
        summary.push(vec![
            format!(
                "HTTP evaluation ≥ 0.6 × bare axum at {} connections",
                args.connections
            ),
            format!("{rate:.0} vs {floor_rate:.0} req/s = {ratio:.2}×"),
            yes(ratio >= 0.6),
        ]);
        summary.push(vec![
            format!(
                "HTTP evaluation p99 < 2 ms at {} connections (closed loop)",
                args.connections
            ),
            format!(
                "p99 {} ms (floor p99 {} ms; {} in flight / {rate:.0} req/s = {} ms by Little's law)",
                ms(l.p99),
                ms(floor_p99),
                args.connections,
                ms(args.connections as f64 / rate * 1000.0)
            ),
            yes(l.p99 < 2.0),
        ]);
    }
    if let (Some((op, _, l)), Some((_, _, fl))) = (
        find("tessera", "POST, open loop"),
        find("floor (bare axum)", "POST, open loop"),
    ) {
        summary.push(vec![
            format!(
                "HTTP evaluation p99 < 2 ms, {} connections, {}",
                args.connections,
                op.trim_start_matches("POST, ")
            ),
            format!("p99 {} ms (floor p99 {} ms)", ms(l.p99), ms(fl.p99)),
            yes(l.p99 < 2.0),
        ]);
    }
    if let Some((_, rate, l)) = find("tessera", "POST /evaluations") {
        summary.push(vec![
            format!("batch of {} evaluations (no goal)", args.batch),
            format!(
                "{:.0} evaluations/s, p99 {} ms per request",
                rate * args.batch as f64,
                ms(l.p99)
            ),
            "-".into(),
        ]);
    }
}

fn print_graph(
    w: &world::World,
    f: &graph::Figures,
    report: &mut Report,
    summary: &mut Vec<Vec<String>>,
) {
    let row = |tier: &str, l: &Latency, floor: &str, fl: Option<&Latency>| {
        vec![
            tier.to_owned(),
            l.count.to_string(),
            ms(l.p50),
            ms(l.p99),
            ms(l.max),
            floor.to_owned(),
            fl.map_or("-".into(), |f| ms(f.p50)),
            fl.map_or("-".into(), |f| ms(f.p99)),
        ]
    };
    let db = w.backend;
    let mut rows = vec![
        row(
            &format!("cold: compiled from {db} (no Redis)"),
            &f.cold,
            "App::get_user (one user read)",
            Some(&f.cold_floor),
        ),
        row("warm in process (no Redis)", &f.warm_local, "-", None),
    ];
    let mut data = json!({
        "backend": db, "users": w.users,
        "cold": f.cold.json(), "cold_floor_get_user": f.cold_floor.json(),
        "warm_no_redis": f.warm_local.json(),
    });
    if let Some(r) = &f.redis {
        rows.push(row(
            &format!("cold: compiled from {db} + written to Redis"),
            &r.fill,
            "-",
            None,
        ));
        rows.push(row(
            "from Redis (new node: in-process tiers empty)",
            &r.from_redis,
            "raw Redis GET, same key",
            Some(&r.floor),
        ));
        rows.push(row(
            "warm in process (Redis configured)",
            &r.warm,
            "-",
            None,
        ));
        if let Value::Object(d) = &mut data {
            d.insert("cold_with_redis".into(), r.fill.json());
            d.insert("from_redis".into(), r.from_redis.json());
            d.insert("redis_floor_get".into(), r.floor.json());
            d.insert("warm_redis".into(), r.warm.json());
            d.insert("graph_bytes".into(), json!(r.graph_bytes));
            d.insert("raw_get_missing".into(), json!(r.missing));
        }
    }
    report.table(
        "graph",
        &format!(
            "Permission-graph retrieval through App::subject_permissions, one client (ms); {} users on {db}",
            w.users
        ),
        &[
            "tier",
            "n",
            "p50",
            "p99",
            "max",
            "floor",
            "floor p50",
            "floor p99",
        ],
        &rows,
        data,
    );
    if let Some(r) = &f.redis {
        report.note(
            "graph_note",
            format!(
                "  (a graph is {} bytes of JSON in Redis; raw GETs that found nothing: {})",
                r.graph_bytes, r.missing
            ),
        );
    }
    let warm = f.redis.as_ref().map_or(f.warm_local, |r| r.warm);
    summary.push(vec![
        "graph warm in process p99 < 1 ms".into(),
        format!(
            "p99 {} ms ({}; without Redis {} ms)",
            ms(warm.p99),
            if f.redis.is_some() {
                "Redis configured"
            } else {
                "no Redis"
            },
            ms(f.warm_local.p99)
        ),
        yes(warm.p99 < 1.0 && f.warm_local.p99 < 1.0),
    ]);
    match &f.redis {
        Some(r) => summary.push(vec![
            "graph from Redis p99 < 5 ms".into(),
            format!(
                "p99 {} ms (raw GET p50 {} / p99 {} ms)",
                ms(r.from_redis.p99),
                ms(r.floor.p50),
                ms(r.floor.p99)
            ),
            yes(r.from_redis.p99 < 5.0),
        ]),
        None => summary.push(vec![
            "graph from Redis p99 < 5 ms".into(),
            "skipped: no Redis (--redis or TESSERA_BENCH_REDIS_URL)".into(),
            "-".into(),
        ]),
    }
    summary.push(vec![
        format!(
            "graph cold from the database p99 < 20 ms ({} users, {db})",
            w.users
        ),
        format!(
            "p99 {} ms (one user read p99 {} ms)",
            ms(f.cold.p99),
            ms(f.cold_floor.p99)
        ),
        yes(f.cold.p99 < 20.0),
    ]);
}

fn print_rules(sizes: &[rules::Size], report: &mut Report, summary: &mut Vec<Vec<String>>) {
    let rows: Vec<Vec<String>> = sizes
        .iter()
        .map(|s| {
            vec![
                s.rules.to_string(),
                s.roles.to_string(),
                us(s.tessera.p50),
                us(s.tessera.p99),
                us(s.casbin.p50),
                us(s.casbin.p99),
                format!("{:.0}", s.casbin.p50 / s.tessera.p50),
                us(s.compile.p50),
                format!("{:.2}", s.casbin_load_secs),
            ]
        })
        .collect();
    let data: Vec<Value> = sizes
        .iter()
        .map(|s| {
            json!({
                "rules": s.rules, "roles": s.roles, "tessera": s.tessera.json(),
                "casbin": s.casbin.json(), "compile": s.compile.json(),
                "casbin_load_secs": round(s.casbin_load_secs),
            })
        })
        .collect();
    report.table(
        "rules",
        "Decision latency as rules grow (µs): Tessera (cached graph + decide) against casbin-rs enforce, same RBAC model",
        &[
            "rules", "roles", "tessera p50", "tessera p99", "casbin p50", "casbin p99",
            "casbin / tessera", "compile p50", "casbin load s",
        ],
        &rows,
        Value::Array(data),
    );
    if let (Some(first), Some(last)) = (sizes.first(), sizes.last()) {
        let (g50, g99) = (
            last.tessera.p50 / first.tessera.p50,
            last.tessera.p99 / first.tessera.p99,
        );
        summary.push(vec![
            format!(
                "decision flat from {} to {} rules (≤ 2×)",
                first.rules, last.rules
            ),
            format!(
                "Tessera p50 {g50:.2}×, p99 {g99:.2}×; casbin p50 {:.0}× ({} → {} µs)",
                last.casbin.p50 / first.casbin.p50,
                us(first.casbin.p50),
                us(last.casbin.p50)
            ),
            yes(g50 <= 2.0 && g99 <= 2.0),
        ]);
    }
}
