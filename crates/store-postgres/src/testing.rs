//! Test support (feature `testing`): a uniquely named database per test, dropped when the
//! test ends. Other crates' tests use it through
//! `tessera-store-postgres = { features = ["testing"] }` in their dev-dependencies.
//!
//! Failing to create a database is a broken test environment, so these functions panic with
//! the reason instead of returning errors.
#![allow(clippy::panic, clippy::disallowed_methods)]

use crate::settings::PostgresSettings;
use sqlx::{Connection, Executor, PgConnection};
use std::time::Duration;

/// The environment variable naming the server tests run against, e.g.
/// `postgres://postgres@127.0.0.1:5432/postgres`.
pub const DATABASE_URL_VAR: &str = "TESSERA_TEST_DATABASE_URL";

/// A database `tessera_t_<uuid>` created for one test and dropped (`WITH (FORCE)`) when this
/// value is dropped. `url` and `admin_url` both connect to it as the base URL's user; the
/// application role is reached by `SET ROLE` (see [`PostgresStore::connect`]).
///
/// [`PostgresStore::connect`]: crate::PostgresStore::connect
#[derive(Debug)]
pub struct TestDatabase {
    pub url: String,
    pub admin_url: String,
    name: String,
    base_url: String,
}

impl TestDatabase {
    /// Creates a fresh, empty database through `base_url` (a user allowed to create
    /// databases). Panics when it cannot.
    pub async fn create(base_url: &str) -> TestDatabase {
        let name = format!("tessera_t_{}", uuid::Uuid::new_v4().simple());
        let mut url = url::Url::parse(base_url)
            .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR} is not a URL ({e}): {base_url}"));
        url.set_path(&format!("/{name}"));
        let mut conn = PgConnection::connect(base_url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to the test server {base_url}: {e}"));
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .unwrap_or_else(|e| panic!("cannot create the test database {name}: {e}"));
        let _ = conn.close().await;
        TestDatabase {
            url: url.to_string(),
            admin_url: url.to_string(),
            name,
            base_url: base_url.to_owned(),
        }
    }

    /// A fresh database on the server named by `TESSERA_TEST_DATABASE_URL`, or `None` (after
    /// printing that `test` is skipped) when the variable is not set.
    pub async fn from_env(test: &str) -> Option<TestDatabase> {
        match std::env::var(DATABASE_URL_VAR) {
            Ok(base) if !base.is_empty() => Some(Self::create(&base).await),
            _ => {
                println!("skipped {test}: {DATABASE_URL_VAR} is not set");
                None
            }
        }
    }

    /// Settings for this database: the default application role, a small pool, a short
    /// connect timeout.
    pub fn settings(&self) -> PostgresSettings {
        PostgresSettings {
            url: self.url.clone(),
            admin_url: Some(self.admin_url.clone()),
            max_connections: 5,
            connect_timeout: Duration::from_secs(10),
            ..PostgresSettings::new(self.url.clone())
        }
    }

    /// The database's name (`tessera_t_<uuid>`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    /// Drops the database on a thread of its own (with its own runtime: `Drop` is
    /// synchronous and may run inside or outside a runtime), terminating what is still
    /// connected to it.
    fn drop(&mut self) {
        let (base, name) = (self.base_url.clone(), self.name.clone());
        let dropper = std::thread::spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    eprintln!("cannot drop test database {name}: no runtime: {e}");
                    return;
                }
            };
            runtime.block_on(async move {
                let result = async {
                    let mut conn = PgConnection::connect(&base).await?;
                    conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await?;
                    conn.close().await
                }
                .await;
                if let Err(e) = result {
                    eprintln!("cannot drop test database {name}: {e}");
                }
            });
        });
        let _ = dropper.join();
    }
}
