//! Several stateless nodes over one PostgreSQL and one Redis: a change made through one node
//! is enforced at once by the others (cache invalidation over Redis pub/sub).

use reqwest::Method;
use serde_json::json;
use tessera_testkit::TestApp;

#[tokio::test]
async fn a_revocation_or_a_disabled_tenant_on_one_node_is_enforced_at_once_by_another() {
    if !tessera_testkit::postgres_configured() || tessera_testkit::redis_url().is_none() {
        println!(
            "skipped a_revocation_or_a_disabled_tenant_on_one_node_is_enforced_at_once_by_another: needs TESSERA_TEST_DATABASE_URL and TESSERA_TEST_REDIS_URL"
        );
        return;
    }
    let a = TestApp::spawn().await;
    let b = a.second_node().await;
    let t = a.tenant().await;
    let created = a
        .post(
            &format!("/api/v1/tenants/{t}/api-keys"),
            json!({"name": "k", "scopes": ["users:read"]}),
        )
        .await
        .expect(201)
        .clone();
    let secret = created["secret"].as_str().unwrap();
    let path = format!("/api/v1/tenants/{t}/users");
    // Node B authenticates the key (and caches it, with the tenant).
    for _ in 0..3 {
        b.send(Method::GET, &path, Some(secret), None)
            .await
            .expect(200);
    }
    // Node A disables the tenant: node B refuses the tenant's key on the next request.
    a.post(&format!("/api/v1/tenants/{t}/disable"), json!({}))
        .await
        .expect(200);
    let refused = wait_for(&b, &path, secret, 403).await;
    assert!(refused, "node B kept serving a disabled tenant");
    a.post(&format!("/api/v1/tenants/{t}/enable"), json!({}))
        .await
        .expect(200);
    assert!(wait_for(&b, &path, secret, 200).await);
    // Node A revokes the key: node B refuses it.
    a.delete(&format!(
        "/api/v1/tenants/{t}/api-keys/{}",
        created["id"].as_str().unwrap()
    ))
    .await
    .expect(200);
    assert!(
        wait_for(&b, &path, secret, 401).await,
        "node B kept accepting a revoked key"
    );
    // Both nodes see the same data.
    let u = b.user(&t, json!({"username": "via-b"})).await;
    a.get(&format!(
        "/api/v1/tenants/{t}/users/{}",
        u["id"].as_str().unwrap()
    ))
    .await
    .expect(200);
}

/// Pub/sub is asynchronous: allow it a moment (far below any cache TTL).
async fn wait_for(node: &TestApp, path: &str, key: &str, status: u16) -> bool {
    for _ in 0..20 {
        if node
            .send(Method::GET, path, Some(key), None)
            .await
            .status
            .as_u16()
            == status
        {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

#[tokio::test]
async fn a_node_with_a_stale_cached_tenant_still_updates_it_from_the_current_version() {
    // Runs on every backend, with or without Redis: without Redis, node B's in-process cache
    // keeps the tenant as it was, and a change must not start from that copy.
    let a = TestApp::spawn().await;
    let b = a.second_node().await;
    let t = a.tenant().await;
    let before = b.get(&format!("/api/v1/tenants/{t}")).await;
    assert_eq!(before.expect(200)["version"], 1);
    a.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"display_name": "Renamed by A"}),
    )
    .await
    .expect(200);
    let after = b
        .patch(
            &format!("/api/v1/tenants/{t}"),
            json!({"display_name": "Renamed by B"}),
        )
        .await;
    assert_eq!(after.expect(200)["version"], 3);
    let disabled = b
        .post(&format!("/api/v1/tenants/{t}/disable"), json!({}))
        .await;
    assert_eq!(disabled.expect(200)["version"], 4);
}
