use serde_json::json;
use tessera_testkit::TestApp;

async fn setup() -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let u = app.user(&t, json!({"username": "life", "emails": [{"address": "life@example.com", "verified": true}]})).await;
    let path = format!("/api/v1/tenants/{t}/users/{}", u["id"].as_str().unwrap());
    (app, t, path)
}

#[tokio::test]
async fn transitions_follow_the_state_machine_and_are_audited() {
    let (app, t, path) = setup().await;
    let s = app
        .post(&format!("{path}/state"), json!({"state": "suspended"}))
        .await;
    assert_eq!(s.expect(200)["state"], "suspended");
    let a = app
        .post(&format!("{path}/state"), json!({"state": "active"}))
        .await;
    assert_eq!(a.expect(200)["state"], "active");
    let d = app
        .post(&format!("{path}/state"), json!({"state": "deactivated"}))
        .await;
    assert_eq!(d.expect(200)["state"], "deactivated");

    // Illegal: 409 with the current state and what is allowed; nothing changes.
    let illegal = app
        .post(&format!("{path}/state"), json!({"state": "unverified"}))
        .await;
    let p = illegal.expect_problem(409, "illegal_transition");
    assert_eq!(p["current_state"], "deactivated");
    assert_eq!(p["requested_state"], "unverified");
    assert_eq!(
        p["allowed_transitions"],
        json!(["active", "suspended", "deleted"])
    );
    assert_eq!(app.get(&path).await.expect(200)["state"], "deactivated");
    app.post(&format!("{path}/state"), json!({"state": "deactivated"}))
        .await
        .expect_problem(409, "illegal_transition");
    app.post(&format!("{path}/state"), json!({"state": "sleeping"}))
        .await
        .expect_problem(422, "validation_failed");

    // Every transition is in the audit trail with before/after.
    let audit = app
        .get(&format!(
            "/api/v1/tenants/{t}/audit?action=user.state_changed"
        ))
        .await;
    let events = audit.expect(200)["items"].as_array().unwrap().clone();
    assert_eq!(events.len(), 3);
    let states: Vec<_> = events
        .iter()
        .map(|e| {
            let c = e["changes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["field"] == "state")
                .unwrap();
            (
                c["before"].as_str().unwrap().to_owned(),
                c["after"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("active".into(), "suspended".into()),
            ("suspended".into(), "active".into()),
            ("active".into(), "deactivated".into())
        ]
    );
}

#[tokio::test]
async fn soft_delete_restore_and_erase() {
    let (app, t, path) = setup().await;
    app.post(&format!("{path}/state"), json!({"state": "suspended"}))
        .await
        .expect(200);
    let deleted = app.delete(&path).await;
    let d = deleted.expect(200);
    assert_eq!(d["state"], "deleted");
    assert_eq!(d["state_before_delete"], "suspended");
    // Deleted users leave the default list but can be listed and read explicitly.
    let list = app.get(&format!("/api/v1/tenants/{t}/users")).await;
    assert_eq!(list.expect(200)["items"].as_array().unwrap().len(), 0);
    let deleted_list = app
        .get(&format!("/api/v1/tenants/{t}/users?state=deleted"))
        .await;
    assert_eq!(
        deleted_list.expect(200)["items"].as_array().unwrap().len(),
        1
    );
    // A deleted user is not edited nor transitioned; only restored.
    app.patch(&path, json!({"given_name": "x"}))
        .await
        .expect_problem(409, "user_deleted");
    let p = app
        .post(&format!("{path}/state"), json!({"state": "active"}))
        .await;
    assert_eq!(
        p.expect_problem(409, "illegal_transition")["allowed_transitions"],
        json!([])
    );
    let restored = app.post(&format!("{path}/restore"), json!({})).await;
    assert_eq!(restored.expect(200)["state"], "suspended");
    app.post(&format!("{path}/restore"), json!({}))
        .await
        .expect_problem(409, "not_deleted");

    // Erase needs a delete first, then frees the identifiers.
    app.post(&format!("{path}/erase"), json!({}))
        .await
        .expect_problem(409, "not_deleted");
    app.delete(&path).await.expect(200);
    app.post(&format!("{path}/erase"), json!({}))
        .await
        .expect(204);
    app.get(&path).await.expect_problem(404, "not_found");
    app.user(
        &t,
        json!({"username": "life", "emails": [{"address": "life@example.com"}]}),
    )
    .await;
    // The erase event keeps no personal data.
    let audit = app
        .get(&format!("/api/v1/tenants/{t}/audit?action=user.erased"))
        .await;
    let event = audit.expect(200)["items"][0].clone();
    let text = event.to_string();
    assert!(!text.contains("life@example.com"), "{text}");
    assert!(
        event["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "emails")
    );
}

#[tokio::test]
async fn initial_states_are_limited() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = app
        .post(
            &format!("/api/v1/tenants/{t}/users"),
            json!({"username": "s", "state": "suspended"}),
        )
        .await;
    assert_eq!(
        a.expect_problem(422, "validation_failed")["errors"][0]["code"],
        "invalid_initial_state"
    );
    let u = app
        .user(
            &t,
            json!({"username": "p", "state": "password_reset_required"}),
        )
        .await;
    assert_eq!(u["state"], "password_reset_required");
}
