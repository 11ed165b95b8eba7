use serde_json::{Value, json};
use sqlx::Connection;
use std::process::Command;
use tessera_testkit::TestApp;

/// Runs `tessera audit verify` against the test app's database, like an operator would.
fn verify(app: &TestApp, tenant: Option<&str>) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(["audit", "verify"])
        .env_remove("TESSERA_TEST_DATABASE_URL")
        .env("TESSERA_LOG__LEVEL", "error");
    cmd.env("TESSERA_SERVER__DATA_DIR", app.dir.path());
    if let Some(db) = &app.database {
        cmd.env("TESSERA_DATABASE__URL", &db.url);
    }
    if let Some(t) = tenant {
        cmd.args(["--tenant", t]);
    }
    let out = cmd.output().expect("run tessera");
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Runs raw SQL as the database owner, bypassing Tessera (an attacker with database access).
async fn tamper(app: &TestApp, tenant_id: &str, sql_sqlite: &str, sql_pg: &str) {
    match &app.database {
        Some(db) => {
            let mut c = sqlx::PgConnection::connect(&db.admin_url).await.unwrap();
            sqlx::raw_sql("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only")
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query(sql_pg)
                .bind(uuid::Uuid::parse_str(tenant_id).unwrap())
                .execute(&mut c)
                .await
                .unwrap();
        }
        None => {
            let path = app.settings.sqlite_path();
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display()))
                .await
                .unwrap();
            sqlx::raw_sql("DROP TRIGGER IF EXISTS audit_events_no_update; DROP TRIGGER IF EXISTS audit_events_no_delete").execute(&mut c).await.unwrap();
            sqlx::query(sql_sqlite)
                .bind(tenant_id)
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

async fn tenant_with_events(app: &TestApp) -> (String, String) {
    let t = app.tenant().await;
    for i in 0..3 {
        app.user(&t, json!({"username": format!("u{i}"), "emails": [{"address": format!("u{i}@example.com")}]})).await;
    }
    let id = app.get(&format!("/api/v1/tenants/{t}")).await.expect(200)["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (t, id)
}

#[tokio::test]
async fn every_change_is_audited_with_its_context_and_the_chain_verifies() {
    let app = TestApp::spawn().await;
    let (t, _) = tenant_with_events(&app).await;
    let audit = app.get(&format!("/api/v1/tenants/{t}/audit")).await;
    let events = audit.expect(200)["items"].as_array().unwrap().clone();
    let actions: Vec<_> = events
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec![
            "tenant.created",
            "user.created",
            "user.created",
            "user.created"
        ]
    );
    let e = &events[1];
    assert_eq!(e["seq"], 2);
    assert_eq!(e["outcome"], "success");
    assert_eq!(e["subject_kind"], "user");
    assert_eq!(e["prev_hash"], events[0]["hash"]);
    let username = e["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "username")
        .unwrap();
    assert_eq!(username["before"], Value::Null);
    assert_eq!(username["after"], "u0");
    // Newest first, and paging.
    let desc = app
        .get(&format!("/api/v1/tenants/{t}/audit?order=desc&limit=1"))
        .await;
    let d = desc.expect(200).clone();
    assert_eq!(d["items"][0]["seq"], 4);
    let next = app
        .get(&format!(
            "/api/v1/tenants/{t}/audit?order=desc&limit=1&cursor={}",
            d["next_cursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(next.expect(200)["items"][0]["seq"], 3);
    let (ok, out) = verify(&app, None);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("ok      {t}")), "{out}");
}

#[tokio::test]
async fn pii_is_masked_when_the_tenant_asks_and_secrets_never_appear() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"mask_pii_in_audit": true}}),
    )
    .await
    .expect(200);
    app.user(&t, json!({"username": "secretive", "emails": [{"address": "hidden@example.com"}], "given_name": "Hidden"})).await;
    let key = app
        .post(
            &format!("/api/v1/tenants/{t}/api-keys"),
            json!({"name": "k", "scopes": ["users:read"]}),
        )
        .await
        .expect(201)
        .clone();
    let trail = app.get(&format!("/api/v1/tenants/{t}/audit")).await;
    let text = &trail.text;
    for leak in [
        "hidden@example.com",
        "secretive",
        "Hidden",
        key["secret"].as_str().unwrap(),
    ] {
        assert!(!text.contains(leak), "{leak} leaked into the audit trail");
    }
    // The secret hash of a key is masked even without PII masking.
    let other = app.tenant().await;
    app.post(
        &format!("/api/v1/tenants/{other}/api-keys"),
        json!({"name": "k", "scopes": ["users:read"]}),
    )
    .await
    .expect(201);
    let trail = app
        .get(&format!(
            "/api/v1/tenants/{other}/audit?action=api_key.created"
        ))
        .await;
    let change = trail.expect(200)["items"][0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "secret_hash")
        .unwrap()
        .clone();
    assert_eq!(change["after"], "********");
}

#[tokio::test]
async fn audit_verify_names_the_first_edited_or_deleted_event() {
    let app = TestApp::spawn().await;
    let (edited, edited_id) = tenant_with_events(&app).await;
    let (deleted, deleted_id) = tenant_with_events(&app).await;
    let (ok, out) = verify(&app, None);
    assert!(ok, "{out}");

    tamper(
        &app,
        &edited_id,
        "UPDATE audit_events SET action = 'user.forged' WHERE tenant_id = ? AND seq = 3",
        "UPDATE audit_events SET action = 'user.forged' WHERE tenant_id = $1 AND seq = 3",
    )
    .await;
    tamper(
        &app,
        &deleted_id,
        "DELETE FROM audit_events WHERE tenant_id = ? AND seq = 2",
        "DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 2",
    )
    .await;

    let (ok, out) = verify(&app, None);
    assert!(!ok, "tampering must fail verification: {out}");
    let line = |slug: &str| {
        out.lines()
            .find(|l| l.contains(slug))
            .unwrap_or_default()
            .to_owned()
    };
    assert!(
        line(&edited).starts_with("BROKEN")
            && line(&edited).contains("#3")
            && line(&edited).contains("edited"),
        "{out}"
    );
    assert!(
        line(&deleted).starts_with("BROKEN")
            && line(&deleted).contains("#3")
            && line(&deleted).contains("deleted"),
        "{out}"
    );
    assert!(line("system").starts_with("ok"), "{out}");
    let (ok_one, out_one) = verify(&app, Some("system"));
    assert!(ok_one, "{out_one}");
}

#[tokio::test]
async fn the_trail_exports_as_json_lines_and_csv() {
    let app = TestApp::spawn().await;
    let (t, _) = tenant_with_events(&app).await;
    let res = app
        .client
        .get(app.url(&format!("/api/v1/tenants/{t}/audit/export")))
        .bearer_auth(&app.operator_key)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "application/x-ndjson");
    assert!(
        res.headers().get("content-length").is_none(),
        "streamed, not buffered"
    );
    let body = res.text().await.unwrap();
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3]["prev_hash"], lines[2]["hash"]);

    let csv = app
        .client
        .get(app.url(&format!(
            "/api/v1/tenants/{t}/audit/export?format=csv&action=user.created"
        )))
        .bearer_auth(&app.operator_key)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let text = csv.text().await.unwrap();
    let rows: Vec<_> = text.lines().collect();
    assert!(
        rows[0].starts_with("seq,id,at,tenant_id,actor_kind"),
        "{text}"
    );
    assert_eq!(rows.len(), 4, "{text}");
    app.get(&format!("/api/v1/tenants/{t}/audit/export?format=xml"))
        .await
        .expect_problem(422, "validation_failed");
    let reader = app.key(&t, &["users:read"]).await;
    app.send(
        reqwest::Method::GET,
        &format!("/api/v1/tenants/{t}/audit/export"),
        Some(&reader),
        None,
    )
    .await
    .expect_problem(403, "forbidden");
}
