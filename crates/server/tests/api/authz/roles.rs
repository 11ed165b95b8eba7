//! Roles: the eight fixed system roles; custom roles with a priority and a parent (no cycle,
//! no parent above its child, no system key), guarded by `If-Match`; scoped assignments; and
//! every change in the tenant's audit trail.

use super::{audit, custom_role, grant, invalid, send, star, subject, unit};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_testkit::TestApp;

#[tokio::test]
async fn system_roles_are_listed_in_priority_order_and_cannot_be_changed() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let roles = app.get(&format!("/api/v1/tenants/{t}/roles")).await;
    let list = roles.expect(200)["roles"].as_array().unwrap().clone();
    let got: Vec<(&str, u64, bool, bool)> = list
        .iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap(),
                r["priority"].as_u64().unwrap(),
                r["system"].as_bool().unwrap(),
                r["administrative"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("super_admin", 100, true, true),
            ("admin", 90, true, true),
            ("operator", 80, true, true),
            ("owner", 70, true, true),
            ("cashier", 50, true, false),
            ("employee", 50, true, false),
            ("customer", 20, true, false),
            ("guest", 10, true, false),
        ]
    );
    assert!(list.iter().all(|r| r["version"].is_null()));
    assert_eq!(list[1]["built_in_permissions"], json!(["*"]));
    assert_eq!(list[7]["built_in_permissions"], json!([]));
    let owner = app.get(&format!("/api/v1/tenants/{t}/roles/owner")).await;
    assert_eq!(owner.expect(200)["name"], "Owner");

    for role in ["super_admin", "admin", "guest"] {
        app.patch(
            &format!("/api/v1/tenants/{t}/roles/{role}"),
            json!({"name": "Renamed"}),
        )
        .await
        .expect_problem(409, "system_role");
        app.delete(&format!("/api/v1/tenants/{t}/roles/{role}"))
            .await
            .expect_problem(409, "system_role");
    }
    // A custom role cannot take a system role's key.
    let a = app
        .post(
            &format!("/api/v1/tenants/{t}/roles"),
            json!({"key": "admin", "name": "Fake admin", "priority": 5}),
        )
        .await;
    invalid(&a, "reserved_role");
    // Still the same eight.
    let after = app.get(&format!("/api/v1/tenants/{t}/roles")).await;
    assert_eq!(after.expect(200)["roles"], json!(list));
    app.get(&format!("/api/v1/tenants/{t}/roles/nobody"))
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn custom_roles_have_checked_parents_and_versions() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let base = format!("/api/v1/tenants/{t}/roles");
    let support = custom_role(&app, &t, "support", 40, Some("customer")).await;
    assert_eq!(support["parent"], "customer");
    assert_eq!(support["system"], false);
    assert_eq!(support["administrative"], false);
    assert_eq!(support["version"], 1);
    let lead = custom_role(&app, &t, "lead", 45, Some("support")).await;
    assert_eq!(lead["parent"], "support");
    // Custom roles at Owner's priority or above are administrative.
    assert_eq!(
        custom_role(&app, &t, "manager", 75, None).await["administrative"],
        true
    );

    // Refused at creation: duplicate key, bad key, out-of-range priority, unknown parent,
    // a parent that outranks the role, unknown fields.
    app.post(
        &base,
        json!({"key": "support", "name": "Again", "priority": 10}),
    )
    .await
    .expect_problem(409, "duplicate");
    for (body, code) in [
        (
            json!({"key": "Bad Key", "name": "x", "priority": 10}),
            "invalid_key",
        ),
        (
            json!({"key": "zero", "name": "x", "priority": 0}),
            "invalid_priority",
        ),
        (
            json!({"key": "huge", "name": "x", "priority": 100}),
            "invalid_priority",
        ),
        (
            json!({"key": "orphan", "name": "x", "priority": 10, "parent": "ghost"}),
            "unknown_role",
        ),
        (
            json!({"key": "junior", "name": "x", "priority": 30, "parent": "support"}),
            "parent_outranks",
        ),
        (
            json!({"key": "climber", "name": "x", "priority": 30, "parent": "owner"}),
            "parent_outranks",
        ),
        (
            json!({"key": "blank", "name": "  ", "priority": 10}),
            "invalid_name",
        ),
    ] {
        invalid(&app.post(&base, body).await, code);
    }
    app.post(
        &base,
        json!({"key": "extra", "name": "x", "priority": 10, "colour": "red"}),
    )
    .await
    .expect_problem(422, "invalid_body");

    // Re-parenting under a higher role is refused like at creation.
    let up = app
        .patch(&format!("{base}/support"), json!({"parent": "lead"}))
        .await;
    invalid(&up, "parent_outranks");
    // A cycle (possible only among roles of one priority), or a role its own parent.
    custom_role(&app, &t, "peer-a", 33, None).await;
    custom_role(&app, &t, "peer-b", 33, Some("peer-a")).await;
    custom_role(&app, &t, "peer-c", 33, Some("peer-b")).await;
    let cyc = app
        .patch(&format!("{base}/peer-a"), json!({"parent": "peer-c"}))
        .await;
    invalid(&cyc, "cyclic_parent");
    assert_eq!(
        app.get(&format!("{base}/peer-a")).await.expect(200)["parent"],
        Value::Null
    );
    let own = app
        .patch(&format!("{base}/support"), json!({"parent": "support"}))
        .await;
    invalid(&own, "cyclic_parent");
    // A parent never outranks its child: raising support above lead is refused.
    app.patch(&format!("{base}/support"), json!({"priority": 50}))
        .await
        .expect_problem(409, "child_below_parent");

    // If-Match: a stale version is refused, the current one works.
    let stale = app
        .client
        .patch(app.url(&format!("{base}/support")))
        .bearer_auth(&app.operator_key)
        .header("if-match", "\"7\"")
        .json(&json!({"name": "Support desk"}))
        .send()
        .await
        .unwrap();
    TestApp::answer(stale)
        .await
        .expect_problem(412, "precondition_failed");
    let bad_etag = app
        .client
        .patch(app.url(&format!("{base}/support")))
        .bearer_auth(&app.operator_key)
        .header("if-match", "yesterday")
        .json(&json!({"name": "Support desk"}))
        .send()
        .await
        .unwrap();
    invalid(&TestApp::answer(bad_etag).await, "invalid_etag");
    let ok = app
        .client
        .patch(app.url(&format!("{base}/support")))
        .bearer_auth(&app.operator_key)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Support desk", "priority": 42}))
        .send()
        .await
        .unwrap();
    let ok = TestApp::answer(ok).await;
    let v = ok.expect(200);
    assert_eq!(
        (&v["name"], &v["priority"], &v["version"]),
        (&json!("Support desk"), &json!(42), &json!(2))
    );
    // Removing the parent (null) works; nothing else changed.
    let orphaned = app
        .patch(&format!("{base}/lead"), json!({"parent": null}))
        .await;
    assert_eq!(orphaned.expect(200)["parent"], Value::Null);
    app.patch(&format!("{base}/lead"), json!({"parent": "support"}))
        .await
        .expect(200);

    // Not deleted while another role inherits from it.
    app.delete(&format!("{base}/support"))
        .await
        .expect_problem(409, "in_use");
    app.get(&format!("{base}/support")).await.expect(200);
    app.delete(&format!("{base}/lead")).await.expect(204);
    app.delete(&format!("{base}/support")).await.expect(204);
    app.get(&format!("{base}/support"))
        .await
        .expect_problem(404, "not_found");
    app.delete(&format!("{base}/support"))
        .await
        .expect_problem(404, "not_found");
    app.patch(&format!("{base}/support"), json!({"name": "x"}))
        .await
        .expect_problem(404, "not_found");
}

#[tokio::test]
async fn roles_are_held_within_a_scope() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = unit(&app, &t, "Store A", None).await;
    let user = subject(&app, &t, "cara").await;
    let path = format!("/api/v1/tenants/{t}/users/{user}/roles");
    grant(&app, &t, &user, "employee", &format!("unit:{a}")).await;
    grant(&app, &t, &user, "customer", "self").await;
    grant(&app, &t, &user, "guest", "tenant").await;
    // Granting twice is not an error.
    grant(&app, &t, &user, "guest", "tenant").await;
    let held = app.get(&path).await;
    let body = held.expect(200).clone();
    assert_eq!(body["roles"], json!(["customer", "employee", "guest"]));
    let mut scopes: Vec<(String, String)> = body["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["role"].as_str().unwrap().to_owned(),
                a["scope"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    scopes.sort();
    assert_eq!(
        scopes,
        [
            ("customer".to_owned(), "self".to_owned()),
            ("employee".to_owned(), format!("unit:{a}")),
            ("guest".to_owned(), "tenant".to_owned()),
        ]
    );

    let key = star(&app, &t).await;
    // Bad scopes, unknown roles, unknown users.
    for scope in ["unit:nope", "everywhere", "unit:"] {
        let r = send(
            &app,
            Method::PUT,
            &format!("{path}/employee?scope={scope}"),
            &key,
            None,
        )
        .await;
        invalid(&r, "invalid_scope");
    }
    send(&app, Method::PUT, &format!("{path}/ghost"), &key, None)
        .await
        .expect_problem(404, "not_found");
    let nobody = "0190a5b0-0000-7000-8000-000000000001";
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/users/{nobody}/roles/employee"),
        &key,
        None,
    )
    .await
    .expect_problem(404, "not_found");

    // Revoking names the scope: the tenant-wide revoke leaves the unit assignment.
    send(
        &app,
        Method::DELETE,
        &format!("{path}/employee"),
        &key,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    send(
        &app,
        Method::DELETE,
        &format!("{path}/employee?scope=unit:{a}"),
        &key,
        None,
    )
    .await
    .expect(204);
    let held = app.get(&path).await;
    assert_eq!(held.expect(200)["roles"], json!(["customer", "guest"]));
}

#[tokio::test]
async fn authorization_changes_are_in_the_audit_trail() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let user = subject(&app, &t, "dora").await;
    custom_role(&app, &t, "clerk", 30, None).await;
    app.patch(
        &format!("/api/v1/tenants/{t}/roles/clerk"),
        json!({"priority": 31}),
    )
    .await
    .expect(200);
    super::register_orders(&app, &t).await;
    super::template(&app, &t, "desk", &["orders:read"]).await;
    super::template_to_role(&app, &t, "desk", "clerk").await;
    grant(&app, &t, &user, "clerk", "tenant").await;
    let key = star(&app, &t).await;
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/users/{user}/roles/clerk"),
        &key,
        None,
    )
    .await
    .expect(204);
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/templates/desk/roles/clerk"),
        &key,
        None,
    )
    .await
    .expect(204);
    app.post(
        &format!("/api/v1/tenants/{t}/policies"),
        json!({"policies": "permit(principal, action == Action::\"orders:read\", resource);", "comment": "first"}),
    )
    .await
    .expect(201);
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/templates/desk"),
        &key,
        None,
    )
    .await
    .expect(204);
    app.delete(&format!("/api/v1/tenants/{t}/roles/clerk"))
        .await
        .expect(204);

    let trail: Vec<String> = audit(&app, &t, "")
        .await
        .into_iter()
        .filter(|(_, outcome)| outcome == "success")
        .map(|(action, _)| action)
        .filter(|a| {
            ["role.", "template.", "resource_type.", "policy."]
                .iter()
                .any(|p| a.starts_with(p))
        })
        .collect();
    assert_eq!(
        trail,
        [
            "role.created",
            "role.updated",
            "resource_type.saved",
            "template.created",
            "template.granted",
            "role.granted",
            "role.revoked",
            "template.revoked",
            "policy.saved",
            "template.deleted",
            "role.deleted",
        ]
    );
    // The grant names the user and the role in its scope.
    let granted = app
        .get(&format!(
            "/api/v1/tenants/{t}/audit?action=role.granted&subject_id={user}"
        ))
        .await;
    let e = granted.expect(200)["items"][0].clone();
    assert_eq!(e["changes"][0]["after"], "clerk@tenant", "{e}");
}

#[tokio::test]
async fn holders_of_administrative_custom_roles_must_pass_a_second_factor() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    custom_role(&app, &t, "manager", 75, None).await;
    custom_role(&app, &t, "helper", 60, None).await;
    // Below Owner's priority: no second factor needed.
    let (helper, _) =
        super::user_with_role(&app, &t, "hal@example.com", Some(("helper", "tenant"))).await;
    send(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me"),
        &helper,
        None,
    )
    .await
    .expect(200);
    // At or above it: the sessions from before must enrol first.
    let (token, id) = super::user_with_role(&app, &t, "mia@example.com", None).await;
    grant(&app, &t, &id, "manager", "tenant").await;
    send(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me"),
        &token,
        None,
    )
    .await
    .expect_problem(403, "mfa_enrolment_required");
    let again = super::super::native_auth::login(&app, &t, "mia@example.com", super::PW).await;
    assert_eq!(again.expect(200)["status"], "mfa_enrolment_required");
}
