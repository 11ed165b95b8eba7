//! Tessera test kit (a dev-dependency only): starts the real application, through the same
//! composition code as `tessera serve`, on `127.0.0.1:0` with a fresh database per test, and
//! drives it over HTTP.
//!
//! The backend is SQLite in a temporary directory, or a fresh PostgreSQL database when
//! `TESSERA_TEST_DATABASE_URL` is set (for example `postgres://postgres@127.0.0.1:5432/postgres`).
//! The cache is in-process, or backed by Redis when `TESSERA_TEST_REDIS_URL` is set (each test
//! app gets its own cache namespace).
//!
//! Entry point: [`TestApp::spawn`].
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

pub mod proxy;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;
use tessera_config::Settings;
use tessera_server::http::RunningServer;
use tessera_store_postgres::testing::{DATABASE_URL_VAR, TestDatabase};

/// An HTTP answer: status, headers and the body parsed as JSON (`Value::Null` when empty or
/// not JSON; the raw text is kept).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        &self.json
    }

    /// Asserts a problem+json answer with this status and code.
    #[track_caller]
    pub fn expect_problem(&self, status: u16, code: &str) -> &Value {
        self.expect(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.json["code"], code, "{}", self.text);
        assert_eq!(self.json["status"], status);
        &self.json
    }
}

/// A running Tessera with its own database.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    /// The bootstrap key of the operator tenant (scope `*`).
    pub operator_key: String,
    pub settings: Settings,
    server: Option<RunningServer>,
    pub dir: TempDir,
    pub database: Option<TestDatabase>,
}

/// Whether the tests run against PostgreSQL.
pub fn postgres_configured() -> bool {
    std::env::var(DATABASE_URL_VAR).is_ok_and(|v| !v.is_empty())
}

/// Settings for a test instance: port 0, data in `dir`, the given database URL.
pub fn test_settings(dir: &TempDir, database_url: Option<&str>) -> Settings {
    let mut env = vec![
        (
            "TESSERA_SERVER__LISTEN".to_owned(),
            "127.0.0.1:0".to_owned(),
        ),
        (
            "TESSERA_SERVER__DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        ),
        (
            "TESSERA_DATABASE__CONNECT_TIMEOUT_SECS".to_owned(),
            "5".to_owned(),
        ),
        (
            "TESSERA_DATABASE__MAX_CONNECTIONS".to_owned(),
            "8".to_owned(),
        ),
    ];
    if let Some(url) = database_url {
        env.push(("TESSERA_DATABASE__URL".to_owned(), url.to_owned()));
    }
    // Cheaper hashing keeps the suite fast; the benchmark uses the real parameters.
    env.push((
        "TESSERA_AUTH__ARGON2_MEMORY_KIB".to_owned(),
        "4096".to_owned(),
    ));
    env.push((
        "TESSERA_SERVER__TRUSTED_PROXIES".to_owned(),
        "127.0.0.1/32".to_owned(),
    ));
    env.push((
        "TESSERA_CACHE__NAMESPACE".to_owned(),
        format!("test-{}", uuid::Uuid::new_v4().simple()),
    ));
    if let Some(redis) = redis_url() {
        env.push(("TESSERA_CACHE__REDIS_URL".to_owned(), redis));
    }
    tessera_config::load_from(None, env).expect("test settings")
}

/// The Redis server tests may use (`TESSERA_TEST_REDIS_URL`), if any.
pub fn redis_url() -> Option<String> {
    std::env::var("TESSERA_TEST_REDIS_URL")
        .ok()
        .filter(|v| !v.is_empty())
}

impl TestApp {
    /// Starts a bootstrapped instance.
    pub async fn spawn() -> Self {
        let mut app = Self::spawn_empty().await;
        let out = tessera_server::cli::bootstrap::bootstrap(
            &app.settings,
            "admin",
            Some("admin@example.com"),
        )
        .await
        .expect("bootstrap");
        app.operator_key = out.api_key;
        app
    }

    /// Starts an instance that was not bootstrapped.
    pub async fn spawn_empty() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database = if postgres_configured() {
            let base = std::env::var(DATABASE_URL_VAR).unwrap();
            Some(TestDatabase::create(&base).await)
        } else {
            None
        };
        let settings = test_settings(&dir, database.as_ref().map(|d| d.url.as_str()));
        Self::start_with(settings, dir, database).await
    }

    /// Starts an instance on explicit settings.
    pub async fn start_with(
        mut settings: Settings,
        dir: TempDir,
        database: Option<TestDatabase>,
    ) -> Self {
        let app = tessera_server::compose::build(&settings)
            .await
            .expect("build the application");
        let server = tessera_server::http::start(app, &settings)
            .await
            .expect("start the server");
        let base = format!("http://{}", server.addr);
        settings.server.listen = server.addr.to_string();
        Self {
            base,
            client: reqwest::Client::new(),
            operator_key: String::new(),
            settings,
            server: Some(server),
            dir,
            database,
        }
    }

    /// Another node of the same installation: same database, same cache namespace (and Redis,
    /// when configured), same master key, its own port and data directory.
    pub async fn second_node(&self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = self.dir.path().join("master.key");
        if key.exists() {
            std::fs::copy(&key, dir.path().join("master.key")).expect("share the master key");
        }
        let mut settings = self.settings.clone();
        if settings.database.url.is_none() {
            // The embedded database of the first node, shared (SQLite in WAL mode allows it).
            let shared = format!("sqlite:{}", self.settings.sqlite_path().display());
            settings.database.url = Some(tessera_config::Secret::new(shared));
        }
        settings.server.listen = "127.0.0.1:0".to_owned();
        settings.server.data_dir = dir.path().to_path_buf();
        let mut node = Self::start_with(settings, dir, None).await;
        node.operator_key.clone_from(&self.operator_key);
        node
    }

    /// Stops the server (the database stays until the `TestApp` is dropped).
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server
                .stop(std::time::Duration::from_secs(10))
                .await
                .expect("stop");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request with an optional bearer key and JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Self::answer(req.send().await.expect("request")).await
    }

    pub async fn answer(res: reqwest::Response) -> Answer {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, Some(&self.operator_key), None)
            .await
    }
    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(&self.operator_key), Some(body))
            .await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PATCH, path, Some(&self.operator_key), Some(body))
            .await
    }
    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, Some(&self.operator_key), None)
            .await
    }

    /// Creates a tenant with a unique slug and returns the slug.
    pub async fn tenant(&self) -> String {
        let slug = unique_slug();
        self.post(
            "/api/v1/tenants",
            json!({"slug": slug, "display_name": format!("Tenant {slug}")}),
        )
        .await
        .expect(201);
        slug
    }

    /// Creates a key of `tenant` with `scopes` and returns its secret.
    pub async fn key(&self, tenant: &str, scopes: &[&str]) -> String {
        let a = self
            .post(
                &format!("/api/v1/tenants/{tenant}/api-keys"),
                json!({"name": "test", "scopes": scopes}),
            )
            .await;
        a.expect(201)["secret"].as_str().unwrap().to_owned()
    }

    /// Every message written to the outbox so far (JSON objects with `to`, `kind`, `code`...).
    pub fn outbox(&self) -> Vec<Value> {
        let path = self.settings.outbox_dir().join("outbox.jsonl");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The code of the last message sent to `to`.
    pub fn last_code(&self, to: &str) -> String {
        self.outbox()
            .iter()
            .rev()
            .find(|m| m["to"] == to && m["code"].is_string())
            .and_then(|m| m["code"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("no code was sent to {to}: {:?}", self.outbox()))
    }

    /// Runs one SQL statement on this node's database as its owner (row-level security does
    /// not apply), for tests that must move time forward for a record (an expiry) without
    /// waiting. Returns the number of rows changed.
    pub async fn sql(&self, statement: &str) -> u64 {
        use sqlx::Connection;
        match &self.database {
            Some(db) => {
                let mut conn = sqlx::PgConnection::connect(&db.admin_url)
                    .await
                    .expect("connect to the test database");
                sqlx::query(statement)
                    .execute(&mut conn)
                    .await
                    .expect("SQL statement")
                    .rows_affected()
            }
            None => {
                let url = format!("sqlite:{}", self.settings.sqlite_path().display());
                let mut conn = sqlx::SqliteConnection::connect(&url)
                    .await
                    .expect("open the test database");
                sqlx::query(statement)
                    .execute(&mut conn)
                    .await
                    .expect("SQL statement")
                    .rows_affected()
            }
        }
    }

    /// Creates a user from `body` in `tenant` and returns it.
    pub async fn user(&self, tenant: &str, body: Value) -> Value {
        self.post(&format!("/api/v1/tenants/{tenant}/users"), body)
            .await
            .expect(201)
            .clone()
    }
}

/// A slug no other test uses.
pub fn unique_slug() -> String {
    format!("t-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}
