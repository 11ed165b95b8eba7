//! `tessera-bench http`: the real server in-process (SQLite in a temporary directory, and
//! PostgreSQL when `--postgres` is given), driven over HTTP by N concurrent clients: user
//! creation, then reads by id. The floor is a bare axum handler on another port driven by the
//! same client loop in the same run.

use crate::load::{self, LoadResult};
use crate::report::{Latency, Report, ms, progress};
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tessera_store_postgres::testing::TestDatabase;
use tessera_testkit::TestApp;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Also measure on PostgreSQL: a base URL whose user may create databases (a throw-away
    /// database is created and dropped).
    #[arg(long)]
    postgres: Option<String>,
    /// Concurrent client connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Seconds each measured phase lasts.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Seconds of unmeasured warm-up before each phase.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
}

struct Phase {
    target: String,
    operation: &'static str,
    result: LoadResult,
}

pub async fn run(args: Args, report: &mut Report) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .build()?;
    let duration = Duration::from_secs(args.duration);
    let warmup = Duration::from_secs(args.warmup);
    let mut phases = Vec::new();

    let floor = load::start_floor().await?;
    progress(&format!("floor: bare axum handler on {floor}"));
    let url = format!("http://{floor}/floor");
    let (c, u) = (client.clone(), url.clone());
    let result = load::run(args.connections, warmup, duration, move |task, i| {
        let req = c
            .post(&u)
            .json(&json!({"username": format!("c{task}-{i}"), "emails": [{"address": format!("c{task}-{i}@example.com")}]}));
        async move { req.send().await.is_ok_and(|r| r.status().as_u16() == 201) }
    })
    .await;
    phases.push(Phase {
        target: "floor (bare axum)".to_owned(),
        operation: "POST json",
        result,
    });
    let c = client.clone();
    let result = load::run(args.connections, warmup, duration, move |_, _| {
        let req = c.get(&url);
        async move { ok_json(req.send().await, 200).await }
    })
    .await;
    phases.push(Phase {
        target: "floor (bare axum)".to_owned(),
        operation: "GET json",
        result,
    });

    let mut backends: Vec<(&str, Option<TestDatabase>)> = vec![("sqlite", None)];
    if let Some(base) = &args.postgres {
        backends.push(("postgres", Some(TestDatabase::create(base).await)));
    }
    for (name, db) in backends {
        progress(&format!("{name}: starting the server"));
        let dir = tempfile::tempdir()?;
        let settings = tessera_testkit::test_settings(&dir, db.as_ref().map(|d| d.url.as_str()));
        let mut app = TestApp::start_with(settings, dir, db).await;
        let out = tessera_server::cli::bootstrap::bootstrap(
            &app.settings,
            "admin",
            Some("admin@example.com"),
        )
        .await?;
        app.operator_key = out.api_key;
        let tenant = app.tenant().await;
        let users_url = app.url(&format!("/api/v1/tenants/{tenant}/users"));
        let key = Arc::new(app.operator_key.clone());

        progress(&format!("{name}: creating users for {}s", args.duration));
        let (c, u, k) = (client.clone(), users_url.clone(), key.clone());
        let result = load::run(args.connections, warmup, duration, move |task, i| {
            let req = c.post(&u).bearer_auth(k.as_str()).json(&json!({
                "username": format!("c{task}-{i}"),
                "emails": [{"address": format!("c{task}-{i}@example.com"), "verified": true}],
                "given_name": "Bench",
            }));
            async move { req.send().await.is_ok_and(|r| r.status().as_u16() == 201) }
        })
        .await;
        phases.push(Phase {
            target: format!("tessera {name}"),
            operation: "POST /users",
            result,
        });

        let ids = Arc::new(user_ids(&app, &tenant).await?);
        progress(&format!(
            "{name}: reading users by id for {}s ({} ids)",
            args.duration,
            ids.len()
        ));
        let (c, k) = (client.clone(), key.clone());
        let result = load::run(args.connections, warmup, duration, move |task, i| {
            let mut rng = rand::rngs::StdRng::seed_from_u64((task as u64) << 40 | i);
            let id = &ids[rng.gen_range(0..ids.len())];
            let req = c.get(format!("{users_url}/{id}")).bearer_auth(k.as_str());
            async move { ok_json(req.send().await, 200).await }
        })
        .await;
        phases.push(Phase {
            target: format!("tessera {name}"),
            operation: "GET /users/{id}",
            result,
        });
        app.stop().await;
    }

    print(&args, phases, report);
    Ok(())
}

async fn ok_json(sent: reqwest::Result<reqwest::Response>, status: u16) -> bool {
    match sent {
        Ok(r) if r.status().as_u16() == status => r.bytes().await.is_ok(),
        _ => false,
    }
}

/// Up to 2000 ids of the tenant's users, for random reads.
async fn user_ids(app: &TestApp, tenant: &str) -> anyhow::Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    while ids.len() < 2000 {
        let path = match &cursor {
            Some(c) => format!("/api/v1/tenants/{tenant}/users?limit=500&cursor={c}"),
            None => format!("/api/v1/tenants/{tenant}/users?limit=500"),
        };
        let page = app.get(&path).await;
        let items = page.json["items"].as_array().cloned().unwrap_or_default();
        ids.extend(
            items
                .iter()
                .filter_map(|u| u["id"].as_str().map(str::to_owned)),
        );
        match page.json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    anyhow::ensure!(!ids.is_empty(), "no user was created");
    Ok(ids)
}

fn print(args: &Args, phases: Vec<Phase>, report: &mut Report) {
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for mut phase in phases {
        let latency = Latency::of(&mut phase.result.latencies);
        let rate = phase.result.rate();
        rows.push(vec![
            phase.target.clone(),
            phase.operation.to_owned(),
            format!("{rate:.0}"),
            ms(latency.p50),
            ms(latency.p99),
            phase.result.errors.to_string(),
        ]);
        let mut entry = json!({
            "target": phase.target,
            "operation": phase.operation,
            "requests": phase.result.ok,
            "errors": phase.result.errors,
            "seconds": phase.result.elapsed.as_secs_f64(),
            "requests_per_second": rate.round(),
        });
        if let (Value::Object(e), Value::Object(l)) = (&mut entry, latency.json()) {
            e.extend(l);
        }
        data.push(entry);
    }
    report.table(
        "results",
        &format!(
            "HTTP: {} connections, {} s per phase (after {} s warm-up), client and server in one process",
            args.connections, args.duration, args.warmup
        ),
        &["target", "operation", "req/s", "p50 ms", "p99 ms", "errors"],
        &rows,
        Value::Array(data),
    );
}
