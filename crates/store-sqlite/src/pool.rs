//! The store handle: connection pool, migrations, write transactions, health.

use crate::error::{store_error, unexpected};
use async_trait::async_trait;
use sqlx::migrate::MigrateError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use std::path::Path;
use std::time::Duration;
use tessera_domain::ports::{HealthProbe, StoreError};

/// How long a connection waits for another writer's lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Readers run in parallel under WAL; writers queue on the busy timeout.
const MAX_CONNECTIONS: u32 = 8;
/// How long a caller waits for a free connection of the pool.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// Tessera's store over SQLite. Cheap to clone (the pool is shared).
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// The file (or `:memory:`), for messages.
    location: String,
}

impl SqliteStore {
    /// Opens (creating it if missing) the database file at `path`: WAL journal, foreign keys
    /// on, a busy timeout of 5 s, a pool of up to 8 connections. The parent directory must
    /// exist. Connections are made on first use, so a file that cannot be opened shows as
    /// `Unavailable` from the first call (usually [`migrate`](Self::migrate)).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        Ok(Self {
            pool: pool_options(MAX_CONNECTIONS).connect_lazy_with(options),
            location: path.display().to_string(),
        })
    }

    /// A private in-memory database (one connection, kept open for the life of the pool, so
    /// that every query sees the same data). For tests and throw-away runs.
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .in_memory(true)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        Ok(Self {
            pool: pool_options(1).connect_lazy_with(options),
            location: ":memory:".to_owned(),
        })
    }

    /// Applies the embedded migrations (`migrations/*.sql`) that have not run yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let location = &self.location;
        sqlx::migrate!("./migrations")
            .run(&self.pool)
            .await
            .map_err(|e| match e {
                MigrateError::Execute(e) => match store_error(e) {
                    StoreError::Unavailable(why) => {
                        StoreError::Unavailable(format!("SQLite database {location}: {why}"))
                    }
                    other => other,
                },
                other => unexpected(format!("SQLite migration of {location} failed: {other}")),
            })?;
        tracing::info!(database = %location, "SQLite migrations applied");
        Ok(())
    }

    /// The pool, for reads (autocommit).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Starts a write transaction. `BEGIN IMMEDIATE` takes the write lock up front, so that
    /// concurrent writers wait on the busy timeout instead of failing on a lock upgrade.
    pub(crate) async fn write(&self) -> Result<Transaction<'static, Sqlite>, StoreError> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(store_error)
    }
}

/// No idle timeout and no maximum lifetime: SQLite connections are cheap to keep, the
/// in-memory database lives exactly as long as its one connection, and the pool needs no
/// background task (so `open` works outside a runtime).
fn pool_options(max_connections: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(ACQUIRE_TIMEOUT)
}

/// Commits a write transaction.
pub(crate) async fn commit(tx: Transaction<'static, Sqlite>) -> Result<(), StoreError> {
    tx.commit().await.map_err(store_error)
}

#[async_trait]
impl HealthProbe for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| StoreError::Unavailable(format!("SQLite database {}: {e}", self.location)))
    }
}
