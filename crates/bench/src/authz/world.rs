//! The tenant every part of `tessera-bench authz` measures, set up through the application's
//! public use cases (`RequestContext::cli()`), as an operator would:
//!
//! - three organization units in a chain (region → area → store); resources live in the store;
//! - the resource type `orders` (actions `read`, `refund`; attributes `amount`, `status`,
//!   `tags`) and the Cedar policies of `crates/authz/benches/decide.rs` (four `forbid`s, two
//!   conditional `permit`s);
//! - custom roles `clerk` (priority 55, parent the system role Employee) and `refunder` (60,
//!   parent `clerk`), templates `orders-read` (→ clerk) and `refunds` (→ refunder);
//! - `--users` users created through `App::create_users_bulk`; the sampled ones (spread evenly
//!   over the population, all active) hold `refunder` in the region, i.e. three roles through
//!   inheritance, in the scope covering the store;
//! - an API key with `access:evaluate` and `users:read`, authenticated once into the
//!   `RequestContext` the HTTP layer would build for it.

use crate::report::progress;
use crate::setup::new_user;
use anyhow::{Context, anyhow};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tessera_application::{
    App, NewApiKey, NewOrgUnit, NewRole, NewTenant, RequestContext, TemplateInput,
};
use tessera_config::{Secret, Settings};
use tessera_domain::api_key::Scope;
use tessera_domain::audit::Origin;
use tessera_domain::authz::{
    AccessScope, AttributeType, GrantTarget, Permission, ResourceType, RoleKey, RoleRef,
};
use tessera_domain::org_unit::UnitKind;
use tessera_domain::role::SystemRole;
use tessera_domain::tenant::{TenantSettings, TenantSlug};
use tessera_domain::{OrgUnitId, TenantId, UserId};
use tessera_store_postgres::testing::TestDatabase;

/// The tenant's policies: those of the authz crate's own benchmark.
pub const POLICIES: &str = r#"
@id("big-refunds-need-mfa")
forbid(principal, action == Action::"orders:refund", resource is orders)
when { resource has amount && resource.amount > 1000 }
unless { context has mfa && context.mfa };
@id("night")
forbid(principal, action == Action::"orders:refund", resource)
when { context has hour && (context.hour < 6 || context.hour > 22) };
@id("locked")
forbid(principal, action, resource is orders)
when { resource has tags && resource.tags.contains("locked") };
@id("low-priority")
forbid(principal, action == Action::"orders:refund", resource)
when { principal.priority < 20 };
@id("public-read")
permit(principal, action == Action::"orders:read", resource is orders)
when { resource has status && resource.status == "public" };
@id("managers")
permit(principal in Role::"manager", action, resource is orders);
"#;

const PREFIX: &str = "u";

/// What the setup needs to know.
pub struct Options {
    pub pg: Option<String>,
    pub redis: Option<String>,
    pub users: u64,
    pub samples: usize,
    pub warmup_users: usize,
    pub decision_log_rate: f64,
}

pub struct World {
    /// The settings `tessera serve` would have (Redis when available).
    pub settings: Settings,
    /// The same without Redis (in-process cache, epochs re-read from the database each second).
    pub settings_local: Settings,
    /// The application built from `settings` by `tessera_server::compose::build`.
    pub app: App,
    pub redis: Option<String>,
    pub backend: &'static str,
    pub slug: String,
    pub tenant: TenantId,
    /// Region, area, store.
    pub units: [OrgUnitId; 3],
    /// The subject of the decisions (the first sampled user).
    pub alice: UserId,
    /// Users holding `refunder`, spread over the population, for graph retrieval.
    pub sampled: Vec<UserId>,
    /// More such users, read before measuring (warm-up).
    pub warmup: Vec<UserId>,
    /// Users without roles (floor of a cold read: one user read by id).
    pub plain: Vec<UserId>,
    pub orders: ResourceType,
    pub key_secret: String,
    /// The API key's context, as the HTTP layer builds it.
    pub ctx: RequestContext,
    pub users: u64,
    pub load_secs: f64,
    _dir: TempDir,
    _db: Option<TestDatabase>,
}

pub fn err(what: &'static str) -> impl FnOnce(tessera_application::Error) -> anyhow::Error {
    move |e| anyhow!("{what}: {e:?}")
}

pub fn orders_type() -> ResourceType {
    ResourceType {
        name: "orders".into(),
        description: "Orders of the shop".into(),
        actions: BTreeMap::from([
            ("read".to_owned(), "read an order".to_owned()),
            ("refund".to_owned(), "refund an order".to_owned()),
        ]),
        attributes: BTreeMap::from([
            ("amount".to_owned(), AttributeType::Long),
            ("status".to_owned(), AttributeType::String),
            ("tags".to_owned(), AttributeType::StringSet),
        ]),
    }
}

/// The Redis to use: the given URL, else 127.0.0.1:6379 if it answers a PING.
pub async fn find_redis(given: Option<String>) -> Option<String> {
    let url = given.unwrap_or_else(|| "redis://127.0.0.1:6379".to_owned());
    let probe = async {
        let client = redis::Client::open(url.as_str()).ok()?;
        let mut conn = client.get_multiplexed_async_connection().await.ok()?;
        redis::cmd("PING")
            .query_async::<String>(&mut conn)
            .await
            .ok()
    };
    match tokio::time::timeout(Duration::from_secs(2), probe).await {
        Ok(Some(_)) => Some(url),
        _ => None,
    }
}

fn perms(list: &[&str]) -> anyhow::Result<BTreeSet<Permission>> {
    list.iter()
        .map(|p| Permission::parse(p).map_err(|e| anyhow!("{p}: {e}")))
        .collect()
}

impl World {
    pub async fn create(o: &Options) -> anyhow::Result<Self> {
        let db = match &o.pg {
            Some(base) => Some(TestDatabase::create(base).await),
            None => None,
        };
        let dir = tempfile::tempdir().context("temporary directory")?;
        let mut settings =
            tessera_testkit::test_settings(&dir, db.as_ref().map(|d| d.url.as_str()));
        settings.cache.namespace = crate::setup::unique_slug("bench");
        let mut settings_local = settings.clone();
        settings_local.cache.redis_url = None;
        settings.cache.redis_url = o.redis.clone().map(Secret::new);
        let app = tessera_server::compose::build(&settings).await?;
        let backend = if db.is_some() { "PostgreSQL" } else { "SQLite" };
        progress(&format!(
            "{backend} database, {}; setting up the tenant",
            if o.redis.is_some() {
                "Redis cache"
            } else {
                "no Redis"
            }
        ));
        let cli = RequestContext::cli();
        let slug = crate::setup::unique_slug("authz");
        let mut tenant_settings = TenantSettings::default();
        tenant_settings.authz.decision_log_rate = o.decision_log_rate;
        let tenant = app
            .create_tenant(
                &cli,
                NewTenant {
                    slug: TenantSlug::parse(&slug).map_err(|e| anyhow!("slug: {e}"))?,
                    display_name: "Authorization benchmark".into(),
                    organization_id: None,
                    organization_name: Some("Benchmarks".into()),
                    settings: tenant_settings,
                },
            )
            .await
            .map_err(err("create the tenant"))?;

        let mut units = Vec::new();
        for (name, kind) in [("Region", "region"), ("Area", "area"), ("Store", "store")] {
            let unit = app
                .create_org_unit(
                    &cli,
                    &slug,
                    NewOrgUnit {
                        name: name.into(),
                        kind: UnitKind::parse(kind).map_err(|e| anyhow!("{e}"))?,
                        parent_id: units.last().copied(),
                    },
                )
                .await
                .map_err(err("create a unit"))?;
            units.push(unit.id);
        }
        let units: [OrgUnitId; 3] = [units[0], units[1], units[2]];

        let orders = orders_type();
        app.put_resource_type(&cli, &slug, orders.clone())
            .await
            .map_err(err("register orders"))?;
        let key = |k: &str| RoleKey::parse(k).map_err(|e| anyhow!("{e}"));
        let (clerk, refunder) = (key("clerk")?, key("refunder")?);
        for (k, priority, parent) in [
            (&clerk, 55, RoleRef::System(SystemRole::Employee)),
            (&refunder, 60, RoleRef::Custom(clerk.clone())),
        ] {
            app.create_role(
                &cli,
                &slug,
                NewRole {
                    key: k.clone(),
                    name: k.as_str().into(),
                    description: String::new(),
                    priority,
                    parent: Some(parent),
                },
            )
            .await
            .map_err(err("create a role"))?;
        }
        for (template, permissions, role) in [
            ("orders-read", perms(&["orders:read"])?, &clerk),
            (
                "refunds",
                perms(&["orders:read", "orders:refund"])?,
                &refunder,
            ),
        ] {
            app.put_template(
                &cli,
                &slug,
                TemplateInput {
                    key: template.into(),
                    name: template.into(),
                    description: String::new(),
                    permissions,
                    menu: Vec::new(),
                },
                None,
            )
            .await
            .map_err(err("save a template"))?;
            app.set_template_grant(
                &cli,
                &slug,
                template,
                GrantTarget::Role(RoleRef::Custom(role.clone())),
                true,
            )
            .await
            .map_err(err("grant a template"))?;
        }
        app.save_policies(&cli, &slug, POLICIES.into(), "benchmark".into(), None)
            .await
            .map_err(err("save the policies"))?;

        let started = Instant::now();
        let picked = load_users(&app, &slug, o).await?;
        let load_secs = started.elapsed().as_secs_f64();
        if let Some(db) = &db {
            let mut admin =
                <sqlx::PgConnection as sqlx::Connection>::connect(&db.admin_url).await?;
            sqlx::raw_sql("ANALYZE").execute(&mut admin).await?;
        }
        let (holders, plain) = picked;
        anyhow::ensure!(
            holders.len() > o.warmup_users,
            "too few users for the samples: raise --users"
        );
        assign(&app, &slug, &holders, RoleRef::Custom(refunder), units[0]).await?;
        let mut sampled = holders;
        let warmup = sampled.split_off(sampled.len() - o.warmup_users);

        let created = app
            .create_api_key(
                &cli,
                &slug,
                NewApiKey {
                    name: "authz benchmark".into(),
                    scopes: vec![Scope::AccessEvaluate, Scope::UsersRead],
                    expires_at: None,
                },
            )
            .await
            .map_err(err("create the API key"))?;
        let principal = app
            .authenticate_api_key(&created.secret)
            .await
            .map_err(err("authenticate the API key"))?;
        Ok(Self {
            settings,
            settings_local,
            app,
            redis: o.redis.clone(),
            backend,
            slug,
            tenant: tenant.id,
            units,
            alice: sampled[0],
            sampled,
            warmup,
            plain,
            orders,
            key_secret: created.secret,
            ctx: RequestContext {
                principal,
                origin: Origin::default(),
            },
            users: o.users,
            load_secs,
            _dir: dir,
            _db: db,
        })
    }

    /// Another application on the same database and settings, with empty in-process caches
    /// (a second node, or this one after a restart).
    pub async fn fresh_app(&self, redis: bool) -> anyhow::Result<App> {
        let settings = if redis {
            &self.settings
        } else {
            &self.settings_local
        };
        tessera_server::compose::build(settings).await
    }
}

/// Creates the users, 1000 per bulk call, two calls in flight; returns the ids of the users
/// picked for sampling (active ones, spread evenly) and as many users left without roles.
async fn load_users(
    app: &App,
    slug: &str,
    o: &Options,
) -> anyhow::Result<(Vec<UserId>, Vec<UserId>)> {
    let wanted = (o.samples + o.warmup_users) as u64;
    // Users n with n % 3 == 0 start unverified (see `setup::new_user`): with a stride that is a
    // multiple of 3, user k * stride + 1 (picked) and k * stride + 2 (plain) are active.
    let stride = (o.users / wanted.max(1) / 3 * 3).max(3);
    let batches = o.users.div_ceil(1000);
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for job in 0..2u64 {
        let (app, slug, done, total) = (app.clone(), slug.to_owned(), done.clone(), o.users);
        tasks.push(tokio::spawn(async move {
            let cli = RequestContext::cli();
            let (mut holders, mut plain) = (Vec::new(), Vec::new());
            let mut b = job;
            while b < batches {
                let (from, to) = (b * 1000, ((b + 1) * 1000).min(total));
                let users = (from..to)
                    .map(|n| new_user(PREFIX, n))
                    .collect::<anyhow::Result<Vec<_>>>()?;
                let created = app
                    .create_users_bulk(&cli, &slug, users)
                    .await
                    .map_err(|e| anyhow!("bulk create {from}..{to}: {e:?}"))?;
                for (user, n) in created.iter().zip(from..to) {
                    if user.state != tessera_domain::lifecycle::LifecycleState::Active {
                        continue;
                    }
                    match n % stride {
                        1 => holders.push((n, user.id)),
                        2 => plain.push((n, user.id)),
                        _ => {}
                    }
                }
                let now = done.fetch_add(to - from, Ordering::Relaxed) + (to - from);
                if now / 100_000 > (now - (to - from)) / 100_000 || now == total {
                    let secs = started.elapsed().as_secs_f64();
                    progress(&format!(
                        "{now} users, {secs:.0}s, {:.0} users/s",
                        now as f64 / secs
                    ));
                }
                b += 2;
            }
            anyhow::Ok((holders, plain))
        }));
    }
    let (mut holders, mut plain) = (Vec::new(), Vec::new());
    for task in tasks {
        let (h, p) = task.await??;
        holders.extend(h);
        plain.extend(p);
    }
    holders.sort_unstable();
    plain.sort_unstable();
    let pick = |v: Vec<(u64, UserId)>| -> Vec<UserId> {
        v.into_iter()
            .map(|(_, id)| id)
            .take(wanted as usize)
            .collect()
    };
    Ok((pick(holders), pick(plain)))
}

/// Grants `role` in `unit` to each user (two calls in flight).
async fn assign(
    app: &App,
    slug: &str,
    users: &[UserId],
    role: RoleRef,
    unit: OrgUnitId,
) -> anyhow::Result<()> {
    progress(&format!(
        "granting `{role}` to {} users (one change each)",
        users.len()
    ));
    let mut tasks = Vec::new();
    for half in users.chunks(users.len().div_ceil(2).max(1)) {
        let (app, slug, role, half) = (app.clone(), slug.to_owned(), role.clone(), half.to_vec());
        tasks.push(tokio::spawn(async move {
            let cli = RequestContext::cli();
            for user in half {
                app.set_user_role(
                    &cli,
                    &slug,
                    user,
                    role.clone(),
                    AccessScope::Unit(unit),
                    true,
                )
                .await
                .map_err(err("grant a role"))?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}
