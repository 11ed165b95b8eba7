//! Two `tessera serve` processes sharing one PostgreSQL database and one Redis: a role revoked
//! through node A is denied by node B within a second (pub/sub carries the tenant's new
//! authorization epoch); with Redis stopped, B reads the epoch from the database, so its
//! decisions stay correct, never fail and never answer allow after a revoke was acknowledged;
//! with Redis back, changes still propagate.
//!
//! The test starts its own `redis-server` on a free port, so that stopping it disturbs no
//! other test sharing the machine's Redis.

use base64::Engine;
use reqwest::Method;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tessera_store_postgres::testing::{DATABASE_URL_VAR, TestDatabase};

/// The bound the issue sets: a change is enforced by every node within one second.
const PROPAGATION: Duration = Duration::from_secs(1);
const POLL: Duration = Duration::from_millis(50);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `redis-server` of this test only, killed when dropped.
struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--bind", "127.0.0.1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server (is it installed?)");
        let redis = Self {
            port,
            child: Some(child),
        };
        let started = Instant::now();
        while redis.command(&["PING"]).as_deref() != Some("+PONG\r\n") {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "redis-server did not start on port {port}"
            );
            std::thread::sleep(POLL);
        }
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Sends one command (RESP) and returns the raw reply, or `None` when Redis is unreachable.
    fn command(&self, args: &[&str]) -> Option<String> {
        let mut conn = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        conn.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        let mut req = format!("*{}\r\n", args.len());
        for a in args {
            req.push_str(&format!("${}\r\n{a}\r\n", a.len()));
        }
        conn.write_all(req.as_bytes()).ok()?;
        let mut buf = [0u8; 512];
        let n = conn.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Waits until `n` clients subscribe to `channel` (both nodes listen for epochs).
    async fn wait_for_subscribers(&self, channel: &str, n: usize) {
        let want = format!(":{n}\r\n");
        let started = Instant::now();
        loop {
            let reply = self.command(&["PUBSUB", "NUMSUB", channel]);
            if reply.as_deref().is_some_and(|r| r.ends_with(&want)) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the nodes did not subscribe to {channel}: {reply:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the server (SIGKILL: connections drop at once, as when Redis crashes).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One `tessera serve` process, killed when dropped.
struct Node {
    base: String,
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `tessera` binary with only the configuration given here (no `TESSERA_*` variable of
/// the test environment leaks in).
fn tessera(env: &[(String, String)], dir: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    for (k, _) in std::env::vars() {
        if k.starts_with("TESSERA_") {
            cmd.env_remove(k);
        }
    }
    cmd.current_dir(dir)
        .envs(env.iter().cloned())
        .env("TESSERA_SERVER__DATA_DIR", dir);
    cmd
}

fn serve(env: &[(String, String)], dir: &Path, name: &str) -> Node {
    let log = dir.join(format!("{name}.log"));
    let mut child = tessera(env, dir)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    // Keep draining stdout so that the node never blocks on a full pipe.
    let _drain = std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    assert!(
        first.starts_with("Tessera is listening on http://"),
        "node {name} did not start: {first}{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let base = first.split_whitespace().nth(4).unwrap().to_owned();
    Node { base, child, log }
}

struct Client {
    http: reqwest::Client,
    operator: String,
    tenant: String,
}

impl Client {
    async fn send(&self, node: &Node, method: Method, path: &str, body: Option<Value>) -> u16 {
        let mut req = self
            .http
            .request(method, format!("{}{path}", node.base))
            .bearer_auth(&self.operator);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        assert!(
            status < 300,
            "{path}: {status} {}",
            res.text().await.unwrap_or_default()
        );
        status
    }

    async fn json(&self, node: &Node, method: Method, path: &str, body: Value) -> Value {
        let res = self
            .http
            .request(method, format!("{}{path}", node.base))
            .bearer_auth(&self.operator)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
        res.json().await.unwrap()
    }

    /// Grants (`true`) or revokes the role through `node`; returns when the change is
    /// acknowledged.
    async fn set_role(&self, node: &Node, user: &str, grant: bool) {
        let path = format!(
            "/api/v1/tenants/{}/users/{user}/roles/order-reader",
            self.tenant
        );
        let method = if grant { Method::PUT } else { Method::DELETE };
        assert_eq!(self.send(node, method, &path, None).await, 204);
    }
}

/// Asks `node` whether `user` may read an order. Any answer but 200 fails the test: decisions
/// never fail, with or without Redis.
async fn decide(http: &reqwest::Client, node: &Node, t: &str, key: &str, user: &str) -> bool {
    let res = http
        .post(format!("{}/t/{t}/access/v1/evaluation", node.base))
        .bearer_auth(key)
        .json(&json!({
            "subject": {"type": "user", "id": user},
            "action": {"name": "orders:read"},
            "resource": {"type": "orders", "id": "order-1"},
        }))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    assert_eq!(
        status,
        200,
        "a decision failed: {text}\nnode log:\n{}",
        std::fs::read_to_string(&node.log).unwrap_or_default()
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    if std::env::var("AUTHZ_NODES_DEBUG").is_ok() {
        eprintln!("{} {text}", node.base);
    }
    body["decision"].as_bool().unwrap()
}

/// Polls `node` every 50 ms until it answers `want`; returns how long that took, or fails
/// after [`PROPAGATION`].
async fn within_a_second(
    http: &reqwest::Client,
    node: &Node,
    t: &str,
    key: &str,
    user: &str,
    want: bool,
    what: &str,
) -> Duration {
    let started = Instant::now();
    loop {
        if decide(http, node, t, key, user).await == want {
            return started.elapsed();
        }
        // The one timing assertion the issue demands: every node enforces a change within
        // one second (pub/sub with Redis, the database epoch without it).
        assert!(
            started.elapsed() < PROPAGATION,
            "{what}: node B still answered {} after {:?}",
            !want,
            started.elapsed()
        );
        tokio::time::sleep(POLL).await;
    }
}

/// After an acknowledged revoke, every answer of `node` is deny (checked for a moment).
async fn denies_from_now_on(http: &reqwest::Client, node: &Node, t: &str, key: &str, user: &str) {
    for i in 0..10 {
        assert!(
            !decide(http, node, t, key, user).await,
            "node B allowed after an acknowledged revoke (check {i})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_revoke_on_one_node_is_denied_by_the_other_within_a_second_with_or_without_redis() {
    let Ok(base) = std::env::var(DATABASE_URL_VAR) else {
        println!(
            "skipped a_revoke_on_one_node_is_denied_by_the_other_within_a_second_with_or_without_redis: needs {DATABASE_URL_VAR}"
        );
        return;
    };
    if base.is_empty() {
        println!("skipped: {DATABASE_URL_VAR} is empty");
        return;
    }
    let db = TestDatabase::create(&base).await;
    let port = free_port();
    let mut redis = Redis::start(port);
    let namespace = format!("authz-nodes-{}", uuid::Uuid::new_v4().simple());
    let mut master = uuid::Uuid::new_v4().as_bytes().to_vec();
    master.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    let env: Vec<(String, String)> = [
        ("TESSERA_DATABASE__URL", db.url.clone()),
        ("TESSERA_DATABASE__MAX_CONNECTIONS", "8".to_owned()),
        ("TESSERA_DATABASE__CONNECT_TIMEOUT_SECS", "5".to_owned()),
        ("TESSERA_CACHE__REDIS_URL", redis.url()),
        ("TESSERA_CACHE__NAMESPACE", namespace.clone()),
        (
            "TESSERA_SECURITY__MASTER_KEY",
            base64::engine::general_purpose::STANDARD.encode(&master),
        ),
        ("TESSERA_AUTH__ARGON2_MEMORY_KIB", "4096".to_owned()),
        ("TESSERA_LOG__LEVEL", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());

    let out = tessera(&env, dir_a.path())
        .args(["bootstrap", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "bootstrap: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let operator = doc["api_key"].as_str().unwrap().to_owned();
    let a = serve(&env, dir_a.path(), "a");
    let b = serve(&env, dir_b.path(), "b");
    redis
        .wait_for_subscribers(&format!("{namespace}:authz-epochs"), 2)
        .await;

    // Through node A: a tenant, a resource type `orders`, a template granting `orders:read`
    // to a custom role, the role granted to a user, and a key that may ask for decisions.
    let tenant = format!("nodes-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let c = Client {
        http: reqwest::Client::new(),
        operator,
        tenant: tenant.clone(),
    };
    let t = tenant.as_str();
    let base = format!("/api/v1/tenants/{t}");
    c.send(
        &a,
        Method::POST,
        "/api/v1/tenants",
        Some(json!({"slug": t, "display_name": "Nodes"})),
    )
    .await;
    let user = c
        .json(
            &a,
            Method::POST,
            &format!("{base}/users"),
            json!({"username": "subject", "state": "active"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.send(
        &a,
        Method::PUT,
        &format!("{base}/resource-types/orders"),
        Some(json!({"description": "orders", "actions": {"read": "read an order"}})),
    )
    .await;
    c.send(
        &a,
        Method::POST,
        &format!("{base}/roles"),
        Some(json!({"key": "order-reader", "name": "Order reader", "priority": 30})),
    )
    .await;
    c.send(
        &a,
        Method::PUT,
        &format!("{base}/templates/orders-read"),
        Some(json!({"name": "Read orders", "permissions": ["orders:read"]})),
    )
    .await;
    c.send(
        &a,
        Method::PUT,
        &format!("{base}/templates/orders-read/roles/order-reader"),
        None,
    )
    .await;
    c.set_role(&a, &user, true).await;
    let key = c
        .json(
            &a,
            Method::POST,
            &format!("{base}/api-keys"),
            json!({"name": "pep", "scopes": ["access:evaluate"]}),
        )
        .await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let http = &c.http;

    // 1. Redis up. Node B allows, and caches the graph and the epoch.
    for _ in 0..5 {
        assert!(decide(http, &b, t, &key, &user).await, "B allows at first");
    }
    c.set_role(&a, &user, false).await;
    let took = within_a_second(http, &b, t, &key, &user, false, "revoke with Redis").await;
    println!("revoke on A enforced by B after {took:?} (Redis up)");
    denies_from_now_on(http, &b, t, &key, &user).await;
    assert!(!decide(http, &a, t, &key, &user).await, "A denies too");

    // 2. Redis stops (crashes). Both nodes read epochs from the database: decisions stay
    // correct and never fail.
    redis.stop();
    for _ in 0..5 {
        assert!(!decide(http, &b, t, &key, &user).await, "B still denies");
    }
    c.set_role(&a, &user, true).await;
    let took = within_a_second(http, &b, t, &key, &user, true, "grant without Redis").await;
    println!("grant on A enforced by B after {took:?} (Redis down)");
    for _ in 0..3 {
        assert!(decide(http, &b, t, &key, &user).await, "B keeps allowing");
    }
    c.set_role(&a, &user, false).await;
    // Without Redis there is no propagation delay at all: B reads the epoch A just advanced.
    denies_from_now_on(http, &b, t, &key, &user).await;
    // Once more, through node B this time, checked on A.
    c.set_role(&b, &user, true).await;
    assert!(decide(http, &a, t, &key, &user).await, "A sees B's grant");
    c.set_role(&b, &user, false).await;
    denies_from_now_on(http, &a, t, &key, &user).await;
    denies_from_now_on(http, &b, t, &key, &user).await;

    // 3. Redis is back (empty, on the same port): both nodes subscribe again, and changes
    // propagate again. B, subscribed, vouches for the epoch it has just read, while A's shared
    // connection still fails its first command after the outage and then rests: A's
    // announcement must not be lost, or B would keep the old epoch until its max age (30 s).
    let mut redis = Redis::start(port);
    redis
        .wait_for_subscribers(&format!("{namespace}:authz-epochs"), 2)
        .await;
    for _ in 0..3 {
        assert!(!decide(http, &b, t, &key, &user).await, "B denies");
    }
    c.set_role(&a, &user, true).await;
    let took = within_a_second(http, &b, t, &key, &user, true, "grant after Redis is back").await;
    println!("grant on A enforced by B after {took:?} (Redis back)");
    c.set_role(&a, &user, false).await;
    let took = within_a_second(
        http,
        &b,
        t,
        &key,
        &user,
        false,
        "revoke after Redis is back",
    )
    .await;
    println!("revoke on A enforced by B after {took:?} (Redis back)");
    denies_from_now_on(http, &b, t, &key, &user).await;
    redis.stop();
    drop((a, b));
    drop(db);
}
