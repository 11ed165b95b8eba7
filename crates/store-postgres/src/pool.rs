//! The store handle: migrations, the application pool, tenant transactions, health.

use crate::error::{is_unavailable_state, store_error, unexpected};
use crate::roles::{AppRole, ensure_app_role, verify_restricted};
use crate::settings::PostgresSettings;
use async_trait::async_trait;
use sqlx::migrate::MigrateError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

/// Key of the advisory lock that serialises the migrations of one database ("tessera" in
/// ASCII).
const MIGRATION_LOCK: i64 = 0x0074_6573_7365_7261;
use tessera_domain::TenantId;
use tessera_domain::ports::{HealthProbe, StoreError};

/// Tessera's store over PostgreSQL. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct PostgresStore {
    pool: PgPool,
    /// `host:port/database`, for messages.
    target: String,
}

impl PostgresStore {
    /// Applies the embedded migrations through `admin_url` (or `url`), then makes sure the
    /// application role exists (NOLOGIN, NOSUPERUSER, NOBYPASSRLS) with its grants, and that
    /// the user of `url` may `SET ROLE` to it. Safe to run concurrently and repeatedly.
    pub async fn migrate(settings: &PostgresSettings) -> Result<(), StoreError> {
        let role = AppRole::parse(&settings.app_role)?;
        let admin_url = settings.admin_url.as_deref().unwrap_or(&settings.url);
        let options = connect_options(admin_url)?;
        let target = describe(&options);
        let mut conn = open(&options, settings.connect_timeout, &target).await?;
        // Nodes starting together migrate one at a time: the grants below rewrite catalog
        // rows, and concurrent rewrites fail with "tuple concurrently updated". The lock is
        // released when this session ends, whatever happens.
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut conn)
            .await
            .map_err(store_error)?;
        sqlx::migrate!("./migrations")
            .run(&mut conn)
            .await
            .map_err(|e| match e {
                MigrateError::Execute(e) => store_error(e),
                other => unexpected(format!("PostgreSQL migration failed on {target}: {other}")),
            })?;
        let login = connect_options(&settings.url)?.get_username().to_owned();
        // Roles are cluster-wide, so migrations of other databases may still race on them:
        // retry the role step a few times.
        let mut attempt = 0;
        loop {
            attempt += 1;
            match ensure_app_role(&mut conn, &role, Some(&login)).await {
                Err(StoreError::Unexpected(e))
                    if attempt < 4 && e.to_string().contains("concurrently updated") =>
                {
                    tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                }
                other => break other?,
            }
        }
        tracing::info!(database = %target, app_role = %role, "PostgreSQL migrations applied");
        // Closing politely is a courtesy; the migration is committed either way.
        let _ = conn.close().await;
        Ok(())
    }

    /// The application pool. Every connection runs `SET ROLE <app_role>`; one connection is
    /// made first to check that the role exists and is neither superuser nor `BYPASSRLS`
    /// (`Unexpected` otherwise). A database that does not answer within `connect_timeout`
    /// gives `Unavailable`. Dead connections are dropped when next acquired, so the pool
    /// recovers by itself when the database comes back.
    pub async fn connect(settings: &PostgresSettings) -> Result<Self, StoreError> {
        let role = AppRole::parse(&settings.app_role)?;
        let options = connect_options(&settings.url)?;
        let target = describe(&options);
        let set_role = format!("SET ROLE {role}");

        let mut probe = open(&options, settings.connect_timeout, &target).await?;
        if let Err(e) = probe.execute(set_role.as_str()).await {
            return Err(unexpected(format!(
                "cannot SET ROLE {role} on PostgreSQL at {target} ({e}): run `tessera migrate`, \
                 which creates the role and lets the user of the database URL use it"
            )));
        }
        verify_restricted(&mut probe, &role).await?;
        let _ = probe.close().await;

        let pool = PgPoolOptions::new()
            .max_connections(settings.max_connections.max(1))
            .min_connections(0)
            .acquire_timeout(settings.connect_timeout)
            .test_before_acquire(true)
            .after_connect(move |conn, _meta| {
                let set_role = set_role.clone();
                Box::pin(async move {
                    conn.execute(set_role.as_str()).await?;
                    Ok(())
                })
            })
            .connect_lazy_with(options);
        Ok(Self { pool, target })
    }

    /// Starts a transaction of `tenant`: row-level security shows this tenant's rows only.
    /// `BEGIN` and `set_config` travel as one simple query (one round trip); the id is a
    /// typed UUID, so it cannot inject.
    pub(crate) async fn tenant_tx(
        &self,
        tenant: TenantId,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin_with(format!(
                "BEGIN; SELECT set_config('tessera.tenant_id', '{}', true)",
                tenant.as_uuid()
            ))
            .await
            .map_err(store_error)
    }

    /// A read-only transaction of `tenant` whose statements all see one snapshot
    /// (`REPEATABLE READ`), for reads that must agree with each other.
    pub(crate) async fn tenant_snapshot_tx(
        &self,
        tenant: TenantId,
    ) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool
            .begin_with(format!(
                "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; \
                 SELECT set_config('tessera.tenant_id', '{}', true)",
                tenant.as_uuid()
            ))
            .await
            .map_err(store_error)
    }

    /// A transaction on the platform registry (organizations, tenants) with no tenant set.
    pub(crate) async fn registry_tx(&self) -> Result<Transaction<'static, Postgres>, StoreError> {
        self.pool.begin().await.map_err(store_error)
    }

    /// The pool, for registry reads (autocommit).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// Switches the tenant of the current transaction (for journals that touch several chains).
pub(crate) async fn switch_tenant(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<(), StoreError> {
    sqlx::query("SELECT set_config('tessera.tenant_id', $1, true)")
        .bind(tenant.to_string())
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Commits a transaction.
pub(crate) async fn commit(tx: Transaction<'static, Postgres>) -> Result<(), StoreError> {
    tx.commit().await.map_err(store_error)
}

fn connect_options(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url)
        .map(|o| o.application_name("tessera"))
        .map_err(|e| unexpected(format!("invalid PostgreSQL URL: {e}")))
}

fn describe(options: &PgConnectOptions) -> String {
    format!(
        "{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or_default()
    )
}

/// One connection, within `timeout`; a server that is down, unreachable or starting gives
/// `Unavailable` naming it.
async fn open(
    options: &PgConnectOptions,
    timeout: Duration,
    target: &str,
) -> Result<PgConnection, StoreError> {
    match tokio::time::timeout(timeout, options.connect()).await {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(error)) => {
            let unavailable = match &error {
                sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
                sqlx::Error::Database(db) => db.code().is_some_and(|c| is_unavailable_state(&c)),
                _ => false,
            };
            if unavailable {
                Err(StoreError::Unavailable(format!(
                    "cannot reach PostgreSQL at {target}: {error}"
                )))
            } else {
                Err(unexpected(format!(
                    "PostgreSQL at {target} refused the connection: {error}"
                )))
            }
        }
        Err(_) => Err(StoreError::Unavailable(format!(
            "PostgreSQL at {target} did not answer within {timeout:?}"
        ))),
    }
}

#[async_trait]
impl HealthProbe for PostgresStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| {
                StoreError::Unavailable(format!(
                    "PostgreSQL at {} does not answer: {e}",
                    self.target
                ))
            })
    }
}
