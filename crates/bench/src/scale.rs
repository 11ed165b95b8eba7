//! `tessera-bench scale`: one tenant with many users on PostgreSQL. Loads `--users` users
//! through the application's bulk use case (`App::create_users_bulk`: validation, one
//! `user.created` audit event per user, `UserStore::insert_users`), runs `ANALYZE`, then times
//! random lookups through the store as the application role: by id, by email, and list pages
//! from the middle of the tenant (state filter sorted by creation time, and by username).

use crate::report::{Latency, Report, ms, progress};
use crate::setup::{PgFixture, create_tenant, email_key, new_user, unique_slug};
use anyhow::anyhow;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sqlx::Connection;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use tessera_application::RequestContext;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::paging::{Cursor, SortOrder};
use tessera_domain::ports::{UserQuery, UserSort, UserStore};
use tessera_domain::{TenantId, UserId};
use tessera_store_postgres::{DEFAULT_APP_ROLE, PostgresStore};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Base URL of the PostgreSQL server (its user must be able to create databases).
    #[arg(long)]
    postgres: String,
    /// Users to create in the tenant.
    #[arg(long, default_value_t = 1_000_000)]
    users: u64,
    /// Users per bulk call (at most 1000).
    #[arg(long, default_value_t = 1000)]
    batch: u64,
    /// Bulk calls in flight at once.
    #[arg(long, default_value_t = 2)]
    jobs: u64,
    /// Timed lookups per operation.
    #[arg(long, default_value_t = 2000)]
    samples: usize,
    /// Print the plans (EXPLAIN ANALYZE, as the application role) of the list queries.
    #[arg(long)]
    explain: bool,
    /// Keep the database afterwards.
    #[arg(long)]
    keep: bool,
}

const TARGET_P99_MS: f64 = 10.0;
const PREFIX: &str = "user";

pub async fn run(args: Args, report: &mut Report) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=1000).contains(&args.batch) && args.jobs >= 1 && args.users >= 1,
        "--batch 1..=1000, --jobs >= 1, --users >= 1"
    );
    let fixture = PgFixture::create(&args.postgres).await?;
    progress(&format!("database {}", fixture.db.name()));
    let slug = unique_slug("scale");
    let tenant = create_tenant(&fixture.app, &slug).await?;

    let started = Instant::now();
    load(&fixture, &slug, &args).await?;
    let load_secs = started.elapsed().as_secs_f64();
    let rate = args.users as f64 / load_secs;
    progress(&format!(
        "loaded {} users in {load_secs:.1}s ({rate:.0} users/s); ANALYZE",
        args.users
    ));

    let mut admin = fixture.admin().await?;
    let analyze = Instant::now();
    sqlx::raw_sql("ANALYZE").execute(&mut admin).await?;
    let analyze_secs = analyze.elapsed().as_secs_f64();
    let size: String =
        sqlx::query_scalar("SELECT pg_size_pretty(pg_database_size(current_database()))")
            .fetch_one(&mut admin)
            .await?;
    let sample: Vec<(Uuid, OffsetDateTime, String)> = sqlx::query_as(
        "SELECT id, created_at, username_key FROM users WHERE tenant_id = $1 \
         ORDER BY random() LIMIT $2",
    )
    .bind(tenant.id.into_uuid())
    .bind(i64::try_from(args.samples).unwrap_or(i64::MAX))
    .fetch_all(&mut admin)
    .await?;
    let _ = admin.close().await;
    anyhow::ensure!(!sample.is_empty(), "no user loaded");

    let store = fixture.store().await?;
    let results = measure(&store, tenant.id, &sample, &args).await?;
    let mut plans = Vec::new();
    if args.explain {
        plans = explain(&fixture, tenant.id, &sample[sample.len() / 2]).await?;
    }
    print(
        &args,
        (load_secs, rate, analyze_secs, size),
        results,
        report,
    );
    for (name, plan) in plans {
        report.note(
            &format!("plan_{name}"),
            format!("\nPlan of {name}:\n{plan}"),
        );
    }
    if args.keep {
        fixture.keep();
    }
    Ok(())
}

/// Creates the users, `jobs` bulk calls at a time, printing progress every 50,000.
async fn load(fixture: &PgFixture, slug: &str, args: &Args) -> anyhow::Result<()> {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let batches = args.users.div_ceil(args.batch);
    let mut tasks = Vec::new();
    for job in 0..args.jobs {
        let (app, slug, done) = (fixture.app.clone(), slug.to_owned(), done.clone());
        let (batch, total, jobs) = (args.batch, args.users, args.jobs);
        tasks.push(tokio::spawn(async move {
            let ctx = RequestContext::cli();
            let mut b = job;
            while b < batches {
                let (from, to) = (b * batch, ((b + 1) * batch).min(total));
                let users = (from..to)
                    .map(|n| new_user(PREFIX, n))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                app.create_users_bulk(&ctx, &slug, users)
                    .await
                    .map_err(|e| anyhow!("bulk create {from}..{to}: {e:?}"))?;
                let now = done.fetch_add(to - from, Ordering::Relaxed) + (to - from);
                if now / 50_000 > (now - (to - from)) / 50_000 || now == total {
                    let secs = started.elapsed().as_secs_f64();
                    progress(&format!(
                        "{now} users, {secs:.0}s, {:.0} users/s",
                        now as f64 / secs
                    ));
                }
                b += jobs;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}

/// The cursor key of an instant, as the stores write it.
fn time_key(at: OffsetDateTime) -> anyhow::Result<String> {
    Cursor::time_key(at).ok_or_else(|| anyhow!("{at} has no cursor key"))
}

fn nanos(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// (operation, latencies in ns, items returned in total).
type Measured = Vec<(&'static str, Vec<u64>, usize)>;

async fn measure(
    store: &PostgresStore,
    tenant: TenantId,
    sample: &[(Uuid, OffsetDateTime, String)],
    args: &Args,
) -> anyhow::Result<Measured> {
    let err = |e| anyhow!("store: {e}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    // Warm-up: a few hundred of each, unmeasured.
    for (id, _, _) in sample.iter().take(300) {
        store
            .user(tenant, UserId::from_uuid(*id))
            .await
            .map_err(err)?;
    }
    let mut out: Measured = Vec::new();

    let mut lat = Vec::new();
    for (id, _, _) in sample {
        let t = Instant::now();
        let found = store
            .user(tenant, UserId::from_uuid(*id))
            .await
            .map_err(err)?;
        lat.push(nanos(t));
        anyhow::ensure!(found.is_some(), "user {id} not found");
    }
    out.push(("user (by id)", lat, sample.len()));

    let mut lat = Vec::new();
    for _ in 0..sample.len() {
        let key = email_key(PREFIX, rng.gen_range(0..args.users));
        let t = Instant::now();
        let found = store.user_by_email(tenant, &key).await.map_err(err)?;
        lat.push(nanos(t));
        anyhow::ensure!(found.is_some(), "{key} not found");
    }
    out.push(("user_by_email", lat, sample.len()));

    let pages: [(&'static str, UserSort, Option<LifecycleState>); 2] = [
        (
            "list state=active, by created_at, cursor",
            UserSort::CreatedAt,
            Some(LifecycleState::Active),
        ),
        ("list by username, cursor", UserSort::Username, None),
    ];
    for (name, sort, state) in pages {
        let mut lat = Vec::new();
        let mut items = 0;
        for (id, created_at, username_key) in sample {
            let key = match sort {
                UserSort::Username => username_key.clone(),
                _ => time_key(*created_at)?,
            };
            let query = UserQuery {
                state,
                sort,
                order: SortOrder::Asc,
                after: Some(Cursor {
                    key,
                    id: id.to_string(),
                }),
                limit: 50,
                ..UserQuery::default()
            };
            let t = Instant::now();
            let page = store.list_users(tenant, &query).await.map_err(err)?;
            lat.push(nanos(t));
            items += page.items.len();
        }
        out.push((name, lat, items));
    }
    Ok(out)
}

/// EXPLAIN ANALYZE of the list queries (the store's SQL shape, values inlined), as the
/// application role in a tenant transaction.
async fn explain(
    fixture: &PgFixture,
    tenant: TenantId,
    (id, created_at, username_key): &(Uuid, OffsetDateTime, String),
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut conn = sqlx::PgConnection::connect(&fixture.db.url).await?;
    sqlx::raw_sql(&format!(
        "SET ROLE {DEFAULT_APP_ROLE}; BEGIN; SELECT set_config('tessera.tenant_id', '{tenant}', true)"
    ))
    .execute(&mut conn)
    .await?;
    let select = "SELECT u.*, \
        COALESCE((SELECT json_agg(json_build_array(e.address, e.verified, e.is_primary) ORDER BY e.position) \
                  FROM user_emails e WHERE e.tenant_id = u.tenant_id AND e.user_id = u.id)::text, '[]'), \
        COALESCE((SELECT json_agg(json_build_array(p.phone, p.verified, p.is_primary) ORDER BY p.position) \
                  FROM user_phones p WHERE p.tenant_id = u.tenant_id AND p.user_id = u.id)::text, '[]') \
        FROM users u";
    let at = time_key(*created_at)?;
    let key = username_key.replace('\'', "''");
    let queries = [
        (
            "list state=active by created_at",
            format!(
                "{select} WHERE u.tenant_id = '{tenant}' AND u.state = 'active' \
                 AND (u.created_at, u.id) > ('{at}', '{id}') ORDER BY u.created_at, u.id LIMIT 51"
            ),
        ),
        (
            "list by username",
            format!(
                "{select} WHERE u.tenant_id = '{tenant}' AND u.state <> 'deleted' \
                 AND (u.username_key, u.id) > ('{key}', '{id}') ORDER BY u.username_key, u.id LIMIT 51"
            ),
        ),
    ];
    let mut plans = Vec::new();
    for (name, sql) in queries {
        let rows: Vec<(String,)> = sqlx::query_as(&format!("EXPLAIN (ANALYZE, BUFFERS) {sql}"))
            .fetch_all(&mut conn)
            .await?;
        plans.push((
            name,
            rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("\n"),
        ));
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut conn).await?;
    let _ = conn.close().await;
    Ok(plans)
}

fn print(
    args: &Args,
    (load_secs, rate, analyze_secs, size): (f64, f64, f64, String),
    results: Measured,
    report: &mut Report,
) {
    report.table(
        "load",
        &format!(
            "Load: {} users in one tenant through App::create_users_bulk ({} per call, {} calls in flight)",
            args.users, args.batch, args.jobs
        ),
        &["users", "seconds", "users/s", "ANALYZE s", "database size"],
        &[vec![
            args.users.to_string(),
            format!("{load_secs:.1}"),
            format!("{rate:.0}"),
            format!("{analyze_secs:.1}"),
            size.clone(),
        ]],
        json!({"users": args.users, "seconds": load_secs, "users_per_second": rate.round(),
               "analyze_seconds": analyze_secs, "database_size": size,
               "batch": args.batch, "jobs": args.jobs}),
    );
    let mut rows = Vec::new();
    let mut data = Vec::new();
    for (name, mut lat, items) in results {
        let l = Latency::of(&mut lat);
        let met = l.p99 < TARGET_P99_MS;
        rows.push(vec![
            name.to_owned(),
            l.count.to_string(),
            ms(l.mean),
            ms(l.p50),
            ms(l.p99),
            ms(l.max),
            if met { "yes" } else { "NO" }.to_owned(),
        ]);
        let mut entry = json!({"operation": name, "items_returned": items, "target_p99_ms": TARGET_P99_MS, "met": met});
        if let (Value::Object(e), Value::Object(j)) = (&mut entry, l.json()) {
            e.extend(j);
        }
        data.push(entry);
    }
    report.table(
        "lookups",
        &format!(
            "Lookups through PostgresStore as the application role ({} random samples each, one client)",
            args.samples
        ),
        &["operation", "n", "mean ms", "p50 ms", "p99 ms", "max ms", "p99 < 10 ms"],
        &rows,
        Value::Array(data),
    );
}
