use serde_json::json;
use tessera_testkit::TestApp;

async fn raw(
    app: &TestApp,
    path: &str,
    content_type: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> tessera_testkit::Answer {
    let mut req = app
        .client
        .post(app.url(path))
        .bearer_auth(&app.operator_key)
        .body(body);
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    TestApp::answer(req.send().await.unwrap()).await
}

#[tokio::test]
async fn malformed_wrong_typed_unknown_and_oversized_bodies_are_refused_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let path = format!("/api/v1/tenants/{t}/users");
    raw(&app, &path, Some("application/json"), "{\"username\": ")
        .await
        .expect_problem(400, "malformed_json");
    raw(&app, &path, Some("application/json"), "not json at all")
        .await
        .expect_problem(400, "malformed_json");
    raw(&app, &path, Some("application/json"), r#"{"username": 42}"#)
        .await
        .expect_problem(422, "invalid_body");
    raw(
        &app,
        &path,
        Some("application/json"),
        r#"{"emails": "a@example.com"}"#,
    )
    .await
    .expect_problem(422, "invalid_body");
    let unknown = raw(
        &app,
        &path,
        Some("application/json"),
        r#"{"username": "x", "is_admin": true}"#,
    )
    .await;
    let p = unknown.expect_problem(422, "invalid_body");
    assert!(p["detail"].as_str().unwrap().contains("is_admin"), "{p}");
    raw(&app, &path, Some("text/plain"), r#"{"username": "x"}"#)
        .await
        .expect_problem(415, "unsupported_media_type");
    raw(&app, &path, None, r#"{"username": "x"}"#)
        .await
        .expect_problem(415, "unsupported_media_type");
    let huge = format!(
        r#"{{"username": "x", "given_name": "{}"}}"#,
        "a".repeat(2 * 1024 * 1024)
    );
    raw(&app, &path, Some("application/json"), huge)
        .await
        .expect_problem(413, "body_too_large");
    let list = app.get(&path).await;
    assert_eq!(list.expect(200)["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn invalid_identifiers_and_profile_values_are_all_reported() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = app
        .post(&format!("/api/v1/tenants/{t}/users"), json!({
            "username": "bad name!",
            "emails": [{"address": "not-an-email"}, {"address": "ok@example.com"}, {"address": "x@localhost"}],
            "phones": [{"number": "555-0123"}],
            "birthday": "01/04/1990",
            "locale": "english!",
            "zoneinfo": "../etc/passwd",
            "picture": "javascript:alert(1)"
        }))
        .await;
    let p = a.expect_problem(422, "validation_failed");
    let fields: Vec<_> = p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        fields,
        vec![
            "username",
            "emails[0].address",
            "emails[2].address",
            "phones[0].number",
            "birthday",
            "locale",
            "zoneinfo",
            "picture"
        ]
    );
    // Malformed ids in paths are refused clearly.
    app.get(&format!("/api/v1/tenants/{t}/users/not-a-uuid"))
        .await
        .expect_problem(400, "invalid_path_parameter");
}
