//! What every benchmark needs before measuring: generated users, a throw-away PostgreSQL
//! database, the application built exactly as `tessera serve` builds it, a tenant.

use anyhow::{Context, anyhow};
use sqlx::{Connection, PgConnection};
use tempfile::TempDir;
use tessera_application::{App, NewTenant, NewUser, RequestContext};
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::profile::Profile;
use tessera_domain::tenant::{TenantSettings, TenantSlug};
use tessera_domain::user::{EmailEntry, PhoneEntry};
use tessera_store_postgres::testing::TestDatabase;

/// User number `n` of a generated population: username `user<n>`, email
/// `user<n>@example.com` (verified for two users in three, so that about two thirds start
/// active and one third unverified), a phone number for every other user, a name.
pub fn new_user(prefix: &str, n: u64) -> anyhow::Result<NewUser> {
    let parse_err = |e: tessera_domain::ValidationError| anyhow!("generated user {n}: {e}");
    let phones = if n.is_multiple_of(2) {
        vec![PhoneEntry {
            number: PhoneNumber::parse(&format!("+1555{:08}", n % 100_000_000))
                .map_err(parse_err)?,
            verified: false,
            primary: true,
        }]
    } else {
        vec![]
    };
    Ok(NewUser {
        username: Some(Username::parse(&format!("{prefix}{n}")).map_err(parse_err)?),
        emails: vec![EmailEntry {
            address: Email::parse(&format!("{prefix}{n}@example.com")).map_err(parse_err)?,
            verified: !n.is_multiple_of(3),
            primary: true,
        }],
        phones,
        profile: Profile {
            given_name: Some(format!("Given{}", n % 1000)),
            family_name: Some(format!("Family{}", n % 7919)),
            ..Profile::default()
        },
        ..NewUser::default()
    })
}

/// The email key of user `n` (what `user_by_email` takes).
pub fn email_key(prefix: &str, n: u64) -> String {
    format!("{prefix}{n}@example.com")
}

/// A throw-away database on the server of `base_url`, migrated, with the application built
/// on it by `tessera_server::compose::build` (the data directory holds the master key).
pub struct PgFixture {
    pub db: TestDatabase,
    pub app: App,
    /// The data directory (master key) lives as long as the fixture.
    _dir: TempDir,
}

impl PgFixture {
    pub async fn create(base_url: &str) -> anyhow::Result<Self> {
        let db = TestDatabase::create(base_url).await;
        let dir = tempfile::tempdir().context("temporary directory")?;
        let settings = tessera_testkit::test_settings(&dir, Some(&db.url));
        let app = tessera_server::compose::build(&settings).await?;
        Ok(Self { db, app, _dir: dir })
    }

    /// A connection as the database owner (who bypasses row-level security), for setup.
    pub async fn admin(&self) -> anyhow::Result<PgConnection> {
        PgConnection::connect(&self.db.admin_url)
            .await
            .context("connect as the database owner")
    }

    /// A store connected as `tessera serve` connects (application role, RLS on).
    pub async fn store(&self) -> anyhow::Result<tessera_store_postgres::PostgresStore> {
        tessera_store_postgres::PostgresStore::connect(&self.db.settings())
            .await
            .map_err(|e| anyhow!("connect the store: {e}"))
    }

    /// Keeps the database after the run (prints where it is).
    pub fn keep(self) {
        eprintln!("kept database {} ({})", self.db.name(), self.db.url);
        std::mem::forget(self.db);
    }
}

/// Creates a tenant through the application (as the command line would) and returns it.
pub async fn create_tenant(
    app: &App,
    slug: &str,
) -> anyhow::Result<tessera_domain::tenant::Tenant> {
    let new = NewTenant {
        slug: TenantSlug::parse(slug).map_err(|e| anyhow!("slug: {e}"))?,
        display_name: format!("Benchmark {slug}"),
        organization_id: None,
        organization_name: Some("Benchmarks".to_owned()),
        settings: TenantSettings::default(),
    };
    app.create_tenant(&RequestContext::cli(), new)
        .await
        .map_err(|e| anyhow!("create tenant {slug}: {e:?}"))
}

/// Creates users `from..to` of `prefix` in the tenant through the bulk use case, `batch` at
/// a time; calls `progress(done)` after each batch.
pub async fn load_users(
    app: &App,
    slug: &str,
    prefix: &str,
    from: u64,
    to: u64,
    batch: u64,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<()> {
    let ctx = RequestContext::cli();
    let mut next = from;
    while next < to {
        let end = (next + batch).min(to);
        let users = (next..end)
            .map(|n| new_user(prefix, n))
            .collect::<anyhow::Result<Vec<_>>>()?;
        app.create_users_bulk(&ctx, slug, users)
            .await
            .map_err(|e| anyhow!("bulk create {next}..{end}: {e:?}"))?;
        progress(end - from);
        next = end;
    }
    Ok(())
}

/// A slug no other run uses.
#[allow(clippy::disallowed_methods)]
pub fn unique_slug(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..10]
    )
}
