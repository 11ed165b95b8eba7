use reqwest::Method;
use serde_json::json;
use tessera_testkit::TestApp;

#[tokio::test]
async fn health_readiness_metrics_request_ids_and_security_headers() {
    let app = TestApp::spawn().await;
    let h = app.send(Method::GET, "/healthz", None, None).await;
    assert_eq!(h.expect(200)["status"], "ok");
    let r = app.send(Method::GET, "/readyz", None, None).await;
    assert_eq!(r.expect(200)["database"], "ok");
    for header in [
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "referrer-policy",
        "x-request-id",
    ] {
        assert!(r.header(header).is_some(), "missing {header}");
    }
    assert_eq!(
        r.header("content-security-policy"),
        Some("frame-ancestors 'none'")
    );
    assert!(
        r.header("strict-transport-security").is_none(),
        "no HSTS over plain http"
    );
    // A client's request id is kept; otherwise one is made.
    let mine = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.headers()["x-request-id"], "req-123");
    let a = app.send(Method::GET, "/healthz", None, None).await;
    let b = app.send(Method::GET, "/healthz", None, None).await;
    assert_ne!(a.header("x-request-id"), b.header("x-request-id"));

    // Unknown paths and methods answer problem+json.
    app.send(Method::GET, "/no/such/path", None, None)
        .await
        .expect_problem(404, "not_found");
    app.send(Method::PUT, "/healthz", None, None)
        .await
        .expect_problem(405, "method_not_allowed");

    // Metrics by route template and status.
    let t = app.tenant().await;
    app.get(&format!("/api/v1/tenants/{t}/users"))
        .await
        .expect(200);
    let m = app.send(Method::GET, "/metrics", None, None).await;
    assert_eq!(m.status.as_u16(), 200);
    assert!(m.text.contains("tessera_http_requests_total{method=\"GET\",route=\"/api/v1/tenants/{t}/users\",status=\"200\"} 1"), "{}", m.text);
    assert!(
        m.text
            .contains("tessera_http_request_duration_seconds_bucket"),
        "{}",
        m.text
    );
    assert!(!m.text.contains(&t), "raw paths must not become labels");
}

#[tokio::test]
async fn the_request_id_reaches_the_audit_record() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let res = app
        .client
        .post(app.url(&format!("/api/v1/tenants/{t}/users")))
        .bearer_auth(&app.operator_key)
        .header("x-request-id", "trace-me-42")
        .header("user-agent", "ops-test/1.0")
        .json(&json!({"username": "traced"}))
        .send()
        .await
        .unwrap();
    TestApp::answer(res).await.expect(201);
    let audit = app
        .get(&format!("/api/v1/tenants/{t}/audit?action=user.created"))
        .await;
    let e = audit.expect(200)["items"][0].clone();
    assert_eq!(e["request_id"], "trace-me-42");
    assert_eq!(e["user_agent"], "ops-test/1.0");
    assert_eq!(e["ip"], "127.0.0.1");
    assert_eq!(e["actor"]["kind"], "api_key");
}

#[tokio::test]
async fn openapi_document_and_swagger_ui_are_served_without_authentication() {
    let app = TestApp::spawn().await;
    let doc = app
        .send(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let d = doc.expect(200);
    assert!(d["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/tenants",
        "/api/v1/tenants/{t}/users/{id}",
        "/api/v1/tenants/{t}/audit/export",
        "/api/v1/tenants/{t}/org-units/{id}/employees",
    ] {
        assert!(
            d["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(d["components"]["securitySchemes"]["api_key"].is_object());
    // Operation ids are unique, and every path parameter is in its path (the two mistakes
    // client generators choke on).
    let mut ids = std::collections::HashSet::new();
    for (path, item) in d["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{method} {path} has no operationId"));
            assert!(ids.insert(id.to_owned()), "operationId {id} repeats");
            for p in op["parameters"].as_array().into_iter().flatten() {
                if p["in"] == "path" {
                    let name = p["name"].as_str().unwrap();
                    assert!(
                        path.contains(&format!("{{{name}}}")),
                        "{method} {path}: path parameter {name} is not in the path"
                    );
                }
            }
        }
    }
    let ui = app.client.get(app.url("/api/docs/")).send().await.unwrap();
    assert_eq!(ui.status().as_u16(), 200);
    assert!(ui.text().await.unwrap().contains("swagger-ui"));
}

#[tokio::test]
async fn readiness_reports_a_lost_database_and_recovers_without_restart() {
    if !tessera_testkit::postgres_configured() {
        println!(
            "skipped readiness_reports_a_lost_database_and_recovers_without_restart: needs TESSERA_TEST_DATABASE_URL"
        );
        return;
    }
    let base = std::env::var("TESSERA_TEST_DATABASE_URL").unwrap();
    let db = tessera_store_postgres::testing::TestDatabase::create(&base).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let proxy = tessera_testkit::proxy::Proxy::start(target).await;
    url.set_port(Some(proxy.port)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let settings = tessera_testkit::test_settings(&dir, Some(url.as_str()));
    let mut app = TestApp::start_with(settings, dir, Some(db)).await;
    let out = tessera_server::cli::bootstrap::bootstrap(&app.settings, "admin", None)
        .await
        .unwrap();
    app.operator_key = out.api_key;

    app.send(Method::GET, "/readyz", None, None)
        .await
        .expect(200);
    proxy.cut();
    app.send(Method::GET, "/readyz", None, None)
        .await
        .expect_problem(503, "service_unavailable");
    let during = app.get("/api/v1/tenants").await;
    during.expect_problem(503, "service_unavailable");
    assert!(during.header("retry-after").is_some());
    assert!(
        app.send(Method::GET, "/healthz", None, None)
            .await
            .status
            .is_success(),
        "liveness does not depend on the database"
    );
    proxy.restore();
    let mut ready = false;
    for _ in 0..50 {
        if app
            .send(Method::GET, "/readyz", None, None)
            .await
            .status
            .as_u16()
            == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(ready, "readiness must come back without a restart");
    app.get("/api/v1/tenants").await.expect(200);
    app.stop().await;
}
