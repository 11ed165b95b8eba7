//! `tessera-bench rls`: what row-level security costs a primary-key lookup on PostgreSQL.
//!
//! A fresh database gets `--rows` users in two tenants (through the bulk path), and a copy of
//! the `users` table without row-level security (`users_norls`, same indexes). Then, as the
//! application role, the same lookup by `(tenant_id, id)` runs in the transaction shape the
//! store uses (`BEGIN; SELECT set_config('tessera.tenant_id', ..., true)` as one simple
//! query, the SELECT, `COMMIT`): (a) on `users` (RLS), (b) on `users_norls` (the floor), and
//! (c) through `PostgresStore::user()` itself. The variants are interleaved in rounds, in a
//! rotating order, so that drift (caches, autovacuum, CPU frequency) hits them alike.

use crate::report::{Latency, Report, ms, progress, round};
use crate::setup::{PgFixture, create_tenant, load_users, unique_slug};
use anyhow::{Context, anyhow};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection, Row};
use std::time::Instant;
use tessera_domain::ports::UserStore;
use tessera_domain::{TenantId, UserId};
use tessera_store_postgres::DEFAULT_APP_ROLE;
use uuid::Uuid;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Base URL of the PostgreSQL server (its user must be able to create databases).
    #[arg(long)]
    postgres: String,
    /// Users to create, split over two tenants.
    #[arg(long, default_value_t = 100_000)]
    rows: u64,
    /// Timed lookups per variant.
    #[arg(long, default_value_t = 20_000)]
    lookups: usize,
    /// Rounds the lookups are split into: each round runs the same keys through every
    /// variant, in an order that rotates from round to round.
    #[arg(long, default_value_t = 200)]
    rounds: usize,
    /// Keep the database afterwards.
    #[arg(long)]
    keep: bool,
}

const SELECT_RLS: &str = "SELECT * FROM users WHERE tenant_id = $1 AND id = $2";
const SELECT_NORLS: &str = "SELECT * FROM users_norls WHERE tenant_id = $1 AND id = $2";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variant {
    Rls,
    NoRls,
    Store,
}

impl Variant {
    fn label(self) -> &'static str {
        match self {
            Self::Rls => "(a) users, RLS",
            Self::NoRls => "(b) users_norls, no RLS",
            Self::Store => "(c) PostgresStore::user()",
        }
    }
}

#[derive(Default)]
struct Samples {
    /// Whole transaction (BEGIN+set_config, SELECT, COMMIT), ns.
    tx: Vec<u64>,
    /// The SELECT alone, ns.
    select: Vec<u64>,
}

fn nanos(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

pub async fn run(args: Args, report: &mut Report) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.rows >= 2 && args.rounds >= 1,
        "--rows >= 2 and --rounds >= 1"
    );
    let fixture = PgFixture::create(&args.postgres).await?;
    progress(&format!("database {}", fixture.db.name()));
    let half = args.rows / 2;
    for (i, count) in [(0, half), (1, args.rows - half)] {
        let slug = unique_slug(&format!("rls{i}"));
        create_tenant(&fixture.app, &slug).await?;
        let started = Instant::now();
        load_users(&fixture.app, &slug, "user", 0, count, 1000, |_| {}).await?;
        progress(&format!(
            "tenant {slug}: {count} users in {:.1}s",
            started.elapsed().as_secs_f64()
        ));
    }

    let mut admin = fixture.admin().await?;
    sqlx::raw_sql(&format!(
        "CREATE TABLE users_norls (LIKE users INCLUDING ALL); \
         INSERT INTO users_norls SELECT * FROM users; \
         GRANT SELECT ON users_norls TO {DEFAULT_APP_ROLE}"
    ))
    .execute(&mut admin)
    .await
    .context("copy users into users_norls")?;
    // Settled tables: hint bits set, visibility map and statistics up to date (VACUUM runs
    // outside a transaction block, hence one statement per call).
    for table in ["users", "users_norls"] {
        sqlx::raw_sql(&format!("VACUUM (ANALYZE) {table}"))
            .execute(&mut admin)
            .await?;
    }
    let keys: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT tenant_id, id FROM users ORDER BY random() LIMIT $1")
            .bind(i64::try_from(args.lookups.min(50_000)).unwrap_or(50_000))
            .fetch_all(&mut admin)
            .await?;
    let _ = admin.close().await;

    // As the application role, exactly as the store's connections are.
    let mut conn = PgConnection::connect(&fixture.db.url).await?;
    sqlx::raw_sql(&format!("SET ROLE {DEFAULT_APP_ROLE}"))
        .execute(&mut conn)
        .await?;
    let visible: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&mut conn)
        .await?;
    anyhow::ensure!(
        visible == 0,
        "row-level security is not in force ({visible} rows visible without a tenant)"
    );
    let store = fixture.store().await?;

    // Warm-up over every sampled key: plans cached, pages in shared buffers for all variants.
    let mut scratch = Samples::default();
    for variant in [Variant::Rls, Variant::NoRls, Variant::Store] {
        lookups(&mut conn, &store, variant, &keys, &mut scratch).await?;
    }

    let per_round = (args.lookups / args.rounds).max(1);
    let mut samples = [Samples::default(), Samples::default(), Samples::default()];
    let order = [Variant::Rls, Variant::NoRls, Variant::Store];
    for r in 0..args.rounds {
        let start = (r * per_round) % keys.len();
        let slice: Vec<(Uuid, Uuid)> = (0..per_round)
            .map(|j| keys[(start + j) % keys.len()])
            .collect();
        for k in 0..3 {
            let index = (r + k) % 3;
            lookups(&mut conn, &store, order[index], &slice, &mut samples[index]).await?;
        }
    }
    let _ = conn.close().await;

    let plan = explain(&fixture, keys[0]).await?;
    print(&args, &mut samples, plan, report);
    if args.keep {
        fixture.keep();
    }
    Ok(())
}

/// Runs one lookup per key with `variant`, appending the timings.
async fn lookups(
    conn: &mut PgConnection,
    store: &tessera_store_postgres::PostgresStore,
    variant: Variant,
    keys: &[(Uuid, Uuid)],
    out: &mut Samples,
) -> anyhow::Result<()> {
    for &(tenant, id) in keys {
        if variant == Variant::Store {
            let started = Instant::now();
            let user = store
                .user(TenantId::from_uuid(tenant), UserId::from_uuid(id))
                .await
                .map_err(|e| anyhow!("store lookup: {e}"))?;
            out.tx.push(nanos(started.elapsed()));
            anyhow::ensure!(user.is_some(), "store lookup found nothing");
            continue;
        }
        let sql = if variant == Variant::Rls {
            SELECT_RLS
        } else {
            SELECT_NORLS
        };
        let begin = format!("BEGIN; SELECT set_config('tessera.tenant_id', '{tenant}', true)");
        let started = Instant::now();
        sqlx::raw_sql(&begin).execute(&mut *conn).await?;
        let selecting = Instant::now();
        let row = sqlx::query(sql)
            .bind(tenant)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
        let selected = selecting.elapsed();
        sqlx::raw_sql("COMMIT").execute(&mut *conn).await?;
        out.tx.push(nanos(started.elapsed()));
        out.select.push(nanos(selected));
        let found: Option<Uuid> = row.map(|r| r.get("id"));
        anyhow::ensure!(found == Some(id), "{variant:?} lookup found nothing");
    }
    Ok(())
}

/// The plan of the RLS lookup as the application role sees it.
async fn explain(fixture: &PgFixture, (tenant, id): (Uuid, Uuid)) -> anyhow::Result<String> {
    let mut conn = PgConnection::connect(&fixture.db.url).await?;
    // The plan PostgreSQL settles on for the prepared statement (generic after five runs).
    let execute = format!("EXECUTE lookup('{tenant}', '{id}')");
    sqlx::raw_sql(&format!(
        "SET ROLE {DEFAULT_APP_ROLE}; BEGIN; \
         SELECT set_config('tessera.tenant_id', '{tenant}', true); \
         PREPARE lookup(uuid, uuid) AS {}; {}",
        SELECT_RLS,
        [execute.as_str(); 6].join("; ")
    ))
    .execute(&mut conn)
    .await?;
    let rows = sqlx::query(&format!(
        "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) {execute}"
    ))
    .fetch_all(&mut conn)
    .await?;
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await?;
    let _ = conn.close().await;
    Ok(rows
        .iter()
        .map(|r| r.get::<String, _>(0))
        .collect::<Vec<_>>()
        .join("\n"))
}

fn overhead(with: f64, without: f64) -> f64 {
    if without > 0.0 {
        (with - without) / without * 100.0
    } else {
        0.0
    }
}

fn print(args: &Args, samples: &mut [Samples; 3], plan: String, report: &mut Report) {
    let order = [Variant::Rls, Variant::NoRls, Variant::Store];
    let mut rows = Vec::new();
    let mut data = Vec::new();
    let mut tx = Vec::new();
    let mut select = Vec::new();
    for (variant, s) in order.iter().zip(samples.iter_mut()) {
        let t = Latency::of(&mut s.tx);
        let q = Latency::of(&mut s.select);
        let dash = || "-".to_owned();
        let has_select = q.count > 0;
        rows.push(vec![
            variant.label().to_owned(),
            ms(t.mean),
            ms(t.p50),
            ms(t.p99),
            if has_select { ms(q.mean) } else { dash() },
            if has_select { ms(q.p50) } else { dash() },
            if has_select { ms(q.p99) } else { dash() },
        ]);
        data.push(json!({"variant": variant.label(), "transaction": t.json(), "select": if has_select { q.json() } else { Value::Null }}));
        tx.push(t);
        select.push(q);
    }
    report.table(
        "lookups",
        &format!(
            "Primary-key lookup by (tenant_id, id): {} rows in 2 tenants, {} lookups per variant in {} rounds",
            args.rows,
            tx[0].count,
            args.rounds
        ),
        &["variant", "tx mean", "tx p50", "tx p99", "select mean", "select p50", "select p99"],
        &rows,
        Value::Array(data),
    );
    let tx_mean = overhead(tx[0].mean, tx[1].mean);
    let tx_p50 = overhead(tx[0].p50, tx[1].p50);
    let sel_mean = overhead(select[0].mean, select[1].mean);
    let sel_p50 = overhead(select[0].p50, select[1].p50);
    report.record(
        "rls_overhead_percent",
        json!({
            "transaction_mean": round(tx_mean),
            "transaction_p50": round(tx_p50),
            "select_mean": round(sel_mean),
            "select_p50": round(sel_p50),
            "target": 10.0,
            "met": tx_mean < 10.0,
        }),
    );
    report.note(
        "verdict",
        format!(
            "\nRLS overhead of (a) over (b): {tx_mean:+.1} % (mean), {tx_p50:+.1} % (p50) per transaction; \
             {sel_mean:+.1} % (mean), {sel_p50:+.1} % (p50) for the SELECT alone. Target < 10 %: {}.",
            if tx_mean < 10.0 { "met" } else { "NOT met" }
        ),
    );
    report.note(
        "plan",
        format!("\nPlan of (a) as the application role (prepared statement):\n{plan}"),
    );
}
