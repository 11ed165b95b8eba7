use reqwest::Method;
use serde_json::json;
use tessera_testkit::TestApp;

#[tokio::test]
async fn missing_malformed_unknown_expired_and_revoked_keys_get_401_with_www_authenticate() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let path = format!("/api/v1/tenants/{t}/users");
    let none = app.send(Method::GET, &path, None, None).await;
    none.expect_problem(401, "unauthenticated");
    assert_eq!(
        none.header("www-authenticate"),
        Some("Bearer realm=\"tessera\"")
    );

    let tenant_id = app.get(&format!("/api/v1/tenants/{t}")).await.expect(200)["id"]
        .as_str()
        .unwrap()
        .replace('-', "");
    let unknown = format!("tsk_{tenant_id}_{}", "A".repeat(43));
    for (key, why) in [
        ("garbage", "malformed"),
        ("tsk_x_y", "malformed"),
        (unknown.as_str(), "not known"),
    ] {
        let a = app.send(Method::GET, &path, Some(key), None).await;
        a.expect_problem(401, "unauthenticated");
        let www = a.header("www-authenticate").unwrap();
        assert!(
            www.contains("error=\"invalid_token\"") && www.contains(why),
            "{www}"
        );
    }
    // Wrong scheme.
    let basic = app
        .client
        .get(app.url(&path))
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .await
        .unwrap();
    TestApp::answer(basic)
        .await
        .expect_problem(401, "unauthenticated");

    // Revoked: works, then 401 at once.
    let created = app
        .post(
            &format!("/api/v1/tenants/{t}/api-keys"),
            json!({"name": "ci", "scopes": ["users:read"]}),
        )
        .await
        .expect(201)
        .clone();
    let secret = created["secret"].as_str().unwrap();
    assert!(created["expires_at"].is_string(), "keys always expire");
    app.send(Method::GET, &path, Some(secret), None)
        .await
        .expect(200);
    app.delete(&format!(
        "/api/v1/tenants/{t}/api-keys/{}",
        created["id"].as_str().unwrap()
    ))
    .await
    .expect(200);
    let revoked = app.send(Method::GET, &path, Some(secret), None).await;
    revoked.expect_problem(401, "unauthenticated");
    assert!(
        revoked
            .header("www-authenticate")
            .unwrap()
            .contains("revoked")
    );
    // The list shows it revoked, with its last use, and never the secret.
    let keys = app.get(&format!("/api/v1/tenants/{t}/api-keys")).await;
    let listed = keys.expect(200)["items"][0].clone();
    assert!(listed["revoked_at"].is_string() && listed["last_used_at"].is_string());
    assert!(!keys.text.contains(secret));
}

#[tokio::test]
async fn an_expired_key_is_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::seconds(2))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let created = app
        .post(
            &format!("/api/v1/tenants/{t}/api-keys"),
            json!({"name": "short", "scopes": ["users:read"], "expires_at": soon}),
        )
        .await;
    let secret = created.expect(201)["secret"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/tenants/{t}/users");
    app.send(Method::GET, &path, Some(&secret), None)
        .await
        .expect(200);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let a = app.send(Method::GET, &path, Some(&secret), None).await;
    a.expect_problem(401, "unauthenticated");
    assert!(a.header("www-authenticate").unwrap().contains("expired"));
    // Expiry in the past or too far is refused at creation.
    for bad in ["2000-01-01T00:00:00Z", "2999-01-01T00:00:00Z"] {
        let r = app
            .post(
                &format!("/api/v1/tenants/{t}/api-keys"),
                json!({"name": "x", "scopes": ["users:read"], "expires_at": bad}),
            )
            .await;
        r.expect_problem(422, "validation_failed");
    }
}

#[tokio::test]
async fn scopes_limit_what_a_key_does_and_refusals_are_audited() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let reader = app.key(&t, &["users:read"]).await;
    let path = format!("/api/v1/tenants/{t}/users");
    app.send(Method::GET, &path, Some(&reader), None)
        .await
        .expect(200);
    let write = app
        .send(
            Method::POST,
            &path,
            Some(&reader),
            Some(json!({"username": "x"})),
        )
        .await;
    write.expect_problem(403, "forbidden");
    app.send(
        Method::GET,
        &format!("/api/v1/tenants/{t}/audit"),
        Some(&reader),
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    // A key cannot mint a key with more than it holds.
    let manager = app.key(&t, &["api_keys:manage", "users:read"]).await;
    let escalate = app
        .send(
            Method::POST,
            &format!("/api/v1/tenants/{t}/api-keys"),
            Some(&manager),
            Some(json!({"name": "x", "scopes": ["*"]})),
        )
        .await;
    escalate.expect_problem(403, "forbidden");
    let ok = app
        .send(
            Method::POST,
            &format!("/api/v1/tenants/{t}/api-keys"),
            Some(&manager),
            Some(json!({"name": "x", "scopes": ["users:read"]})),
        )
        .await;
    ok.expect(201);
    // Unknown scopes are refused.
    app.post(
        &format!("/api/v1/tenants/{t}/api-keys"),
        json!({"name": "x", "scopes": ["users:delete"]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.post(
        &format!("/api/v1/tenants/{t}/api-keys"),
        json!({"name": "x", "scopes": ["tenants:write"]}),
    )
    .await
    .expect_problem(422, "validation_failed");
    // Refusals are recorded as failures.
    let audit = app
        .get(&format!("/api/v1/tenants/{t}/audit?outcome=failure"))
        .await;
    let actions: Vec<_> = audit.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        vec!["user.created", "audit.read", "api_key.created"]
    );
}
