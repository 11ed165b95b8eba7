//! `POST /api/v1/tenants/{t}/users/bulk`: many users in one call, all or nothing.

use serde_json::{Value, json};
use std::process::Command;
use tessera_testkit::TestApp;

fn bulk_path(tenant: &str) -> String {
    format!("/api/v1/tenants/{tenant}/users/bulk")
}

/// A small user numbered `i`, identifiers unique within `run` (and across the runs of a
/// test: the phone number carries a number derived from the run's name).
fn item(run: &str, i: usize) -> Value {
    let series = run.bytes().map(u64::from).sum::<u64>() % 100;
    json!({
        "username": format!("{run}-user{i}"),
        "emails": [{"address": format!("{run}.user{i}@Example.com"), "verified": i.is_multiple_of(2)}],
        "phones": [{"number": format!("+1415{series:02}{i:05}")}],
        "given_name": "Bulk",
        "family_name": format!("User {i}"),
    })
}

fn items(run: &str, count: usize) -> Vec<Value> {
    (0..count).map(|i| item(run, i)).collect()
}

/// Follows `next_cursor` through a listing and returns every item.
async fn all(app: &TestApp, path: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=500&cursor={c}"),
            None => format!("{path}{sep}limit=500"),
        };
        let page = app.get(&url).await.expect(200).clone();
        out.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
    }
}

/// (users, audit events) of the tenant.
async fn counts(app: &TestApp, tenant: &str) -> (usize, usize) {
    let users = all(app, &format!("/api/v1/tenants/{tenant}/users")).await;
    let events = all(app, &format!("/api/v1/tenants/{tenant}/audit")).await;
    (users.len(), events.len())
}

/// `tessera audit verify --tenant` on the app's database succeeds.
fn chain_verifies(app: &TestApp, tenant: &str) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tessera"));
    cmd.args(["audit", "verify", "--tenant", tenant])
        .env_remove("TESSERA_TEST_DATABASE_URL")
        .env("TESSERA_LOG__LEVEL", "error")
        .env("TESSERA_SERVER__DATA_DIR", app.dir.path());
    if let Some(db) = &app.database {
        cmd.env("TESSERA_DATABASE__URL", &db.url);
    }
    let out = cmd.output().expect("run tessera");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn a_batch_of_250_users_is_created_in_one_call_and_reads_back() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (_, events_before) = counts(&app, &t).await;

    let answer = app
        .post(&bulk_path(&t), json!({"users": items("a", 250)}))
        .await;
    let created = answer.expect(201)["items"].as_array().unwrap().clone();
    assert_eq!(created.len(), 250);
    for (i, user) in created.iter().enumerate() {
        assert_eq!(user["username"], format!("a-user{i}"), "the order is kept");
        assert_eq!(user["emails"][0]["primary"], true);
        let state = if i.is_multiple_of(2) {
            "active"
        } else {
            "unverified"
        };
        assert_eq!(user["state"], state, "initial state as for a single create");
        assert_eq!(user["version"], 1);
    }
    for i in [0, 1, 125, 249] {
        let id = created[i]["id"].as_str().unwrap();
        let got = app.get(&format!("/api/v1/tenants/{t}/users/{id}")).await;
        assert_eq!(
            got.expect(200),
            &created[i],
            "a read equals what the bulk create returned"
        );
    }
    let by_email = app
        .get(&format!(
            "/api/v1/tenants/{t}/users?email=A.USER77@example.com"
        ))
        .await;
    assert_eq!(by_email.expect(200)["items"][0]["id"], created[77]["id"]);

    let (users, events) = counts(&app, &t).await;
    assert_eq!(users, 250);
    assert_eq!(events, events_before + 250, "one audit event per user");
    let audit = all(
        &app,
        &format!("/api/v1/tenants/{t}/audit?action=user.created"),
    )
    .await;
    let subjects: Vec<&Value> = audit.iter().map(|e| &e["subject_id"]).collect();
    let ids: Vec<&Value> = created.iter().map(|u| &u["id"]).collect();
    assert_eq!(subjects, ids, "events appended in the batch's order");
    chain_verifies(&app, &t);
}

#[tokio::test]
async fn a_duplicate_in_the_batch_or_against_a_user_writes_nothing() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    app.post(&bulk_path(&t), json!({"users": items("old", 3)}))
        .await
        .expect(201);
    let before = counts(&app, &t).await;

    // Repeated within the batch (other case): the later item is named.
    let mut batch = items("b", 20);
    batch[12]["emails"] = json!([{"address": "B.USER4@example.COM"}]);
    let refused = app.post(&bulk_path(&t), json!({"users": batch})).await;
    let problem = refused.expect_problem(409, "duplicate");
    assert_eq!(problem["field"], "email");
    assert_eq!(problem["index"], 12);

    let mut batch = items("c", 20);
    batch[3]["username"] = json!("C-USER17");
    let problem = app
        .post(&bulk_path(&t), json!({"users": batch}))
        .await
        .expect_problem(409, "duplicate")
        .clone();
    assert_eq!(problem["field"], "username");
    assert_eq!(problem["index"], 17);

    // Taken by a user created before.
    for (field, value, key) in [
        ("username", json!("OLD-user1"), "username"),
        (
            "emails",
            json!([{"address": "old.user2@example.com"}]),
            "email",
        ),
        // "old" is series 19.
        ("phones", json!([{"number": "+1 415 190 0001"}]), "phone"),
    ] {
        let mut batch = items("d", 20);
        batch[9][field] = value;
        let problem = app
            .post(&bulk_path(&t), json!({"users": batch}))
            .await
            .expect_problem(409, "duplicate")
            .clone();
        assert_eq!(problem["field"], key);
        assert_eq!(problem["index"], 9, "{problem}");
    }

    assert_eq!(counts(&app, &t).await, before, "no user and no audit event");
    let found = app
        .get(&format!("/api/v1/tenants/{t}/users?username=d-user0"))
        .await;
    assert_eq!(found.expect(200)["items"], json!([]));
    chain_verifies(&app, &t);
}

#[tokio::test]
async fn batches_out_of_bounds_and_invalid_items_are_refused_with_every_error() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let before = counts(&app, &t).await;

    let too_many = app
        .post(&bulk_path(&t), json!({"users": items("e", 1001)}))
        .await;
    let problem = too_many.expect_problem(422, "validation_failed");
    assert_eq!(problem["errors"][0]["field"], "users");
    let empty = app.post(&bulk_path(&t), json!({"users": []})).await;
    empty.expect_problem(422, "validation_failed");
    let unknown = app
        .post(
            &bulk_path(&t),
            json!({"users": items("e", 2), "mode": "upsert"}),
        )
        .await;
    assert_eq!(unknown.status.as_u16(), 422, "{}", unknown.text);

    // Parse errors of several items, all reported with the item's index.
    let mut batch = items("f", 10);
    batch[3]["emails"] = json!([{"address": "not-an-email"}]);
    batch[7]["birthday"] = json!("31/12/1990");
    batch[7]["phones"] = json!([{"number": "12"}]);
    let invalid = app.post(&bulk_path(&t), json!({"users": batch})).await;
    let problem = invalid.expect_problem(422, "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"users[3].emails[0].address"), "{fields:?}");
    assert!(fields.contains(&"users[7].birthday"), "{fields:?}");
    assert!(fields.contains(&"users[7].phones[0].number"), "{fields:?}");

    // Rule errors found by the application (no identifier, a state a user cannot start in).
    let mut batch = items("g", 10);
    batch[2] = json!({"given_name": "Nobody"});
    batch[5]["state"] = json!("suspended");
    let invalid = app.post(&bulk_path(&t), json!({"users": batch})).await;
    let problem = invalid.expect_problem(422, "validation_failed");
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["users[2].username", "users[5].state"]);

    assert_eq!(counts(&app, &t).await, before);
}

#[tokio::test]
async fn a_bulk_create_stays_in_its_tenant() {
    let app = TestApp::spawn().await;
    let a = app.tenant().await;
    let b = app.tenant().await;
    let key_a = app.key(&a, &["users:write", "users:read"]).await;
    let read_only = app.key(&a, &["users:read"]).await;
    let body = json!({"users": items("h", 5)});

    // A key of tenant A cannot write into tenant B (which it may not even know exists).
    let across = app
        .send(
            reqwest::Method::POST,
            &bulk_path(&b),
            Some(&key_a),
            Some(body.clone()),
        )
        .await;
    across.expect_problem(404, "not_found");
    let denied = app
        .send(
            reqwest::Method::POST,
            &bulk_path(&a),
            Some(&read_only),
            Some(body.clone()),
        )
        .await;
    denied.expect_problem(403, "forbidden");
    assert_eq!(counts(&app, &b).await.0, 0);

    let mine = app
        .send(
            reqwest::Method::POST,
            &bulk_path(&a),
            Some(&key_a),
            Some(body.clone()),
        )
        .await;
    let created = mine.expect(201)["items"].as_array().unwrap().clone();
    assert_eq!(created.len(), 5);
    // The same identifiers are free in tenant B, and A's users are not visible there.
    app.post(&bulk_path(&b), body).await.expect(201);
    let id = created[0]["id"].as_str().unwrap();
    app.get(&format!("/api/v1/tenants/{b}/users/{id}"))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(counts(&app, &a).await.0, 5);
    assert_eq!(counts(&app, &b).await.0, 5);
}

#[tokio::test]
async fn the_bulk_path_is_in_the_openapi_document() {
    let app = TestApp::spawn().await;
    let doc = app
        .send(reqwest::Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let d = doc.expect(200);
    let op = &d["paths"]["/api/v1/tenants/{t}/users/bulk"]["post"];
    assert!(op.is_object(), "the bulk path is documented");
    assert!(op["responses"]["201"].is_object());
    assert!(op["responses"]["409"].is_object());
    assert!(d["components"]["schemas"]["BulkCreateUsersRequest"].is_object());
}
