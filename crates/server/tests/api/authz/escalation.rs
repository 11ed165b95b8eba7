//! Escalation attempts, each refused with 403 (or, for records outside the caller's scope,
//! 404 as if they did not exist) and leaving nothing changed: granting, editing, deleting or
//! creating a role at or above one's own priority; moving units across the edge of one's
//! scope; handing on permissions one lacks; keys without `*` stop below Admin.

use super::{
    audit, custom_role, employ, invalid, register_orders, send, star, subject, template,
    template_to_role, unit, user_with_role,
};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_testkit::TestApp;

async fn roles_of(app: &TestApp, t: &str, user: &str) -> Value {
    app.get(&format!("/api/v1/tenants/{t}/users/{user}/roles"))
        .await
        .expect(200)["roles"]
        .clone()
}

/// The refusals recorded for `action`.
async fn refusals(app: &TestApp, t: &str, action: &str) -> usize {
    audit(app, t, &format!("action={action}&outcome=failure"))
        .await
        .len()
}

#[tokio::test]
async fn an_admin_cannot_reach_their_own_priority_or_above() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let (token, me) =
        user_with_role(&app, &t, "admin@example.com", Some(("admin", "tenant"))).await;
    let other = subject(&app, &t, "olga").await;
    custom_role(&app, &t, "boss", 95, None).await;
    let roles = format!("/api/v1/tenants/{t}/users/{other}/roles");

    // Grant Admin (own priority) or Super Admin (higher), to another or to oneself: 403.
    for (user, role) in [
        (&other, "admin"),
        (&other, "super_admin"),
        (&other, "boss"),
        (&me, "super_admin"),
        (&me, "boss"),
    ] {
        send(
            &app,
            Method::PUT,
            &format!("/api/v1/tenants/{t}/users/{user}/roles/{role}"),
            &token,
            None,
        )
        .await
        .expect_problem(403, "forbidden");
    }
    assert_eq!(roles_of(&app, &t, &other).await, json!([]));
    assert_eq!(roles_of(&app, &t, &me).await, json!(["admin"]));
    assert_eq!(refusals(&app, &t, "role.granted").await, 5);
    // Below their priority: fine.
    send(
        &app,
        Method::PUT,
        &format!("{roles}/operator"),
        &token,
        None,
    )
    .await
    .expect(204);
    // Revoking a role at their level from someone else is refused too.
    super::grant(&app, &t, &other, "admin", "tenant").await;
    send(
        &app,
        Method::DELETE,
        &format!("{roles}/admin"),
        &token,
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    assert_eq!(
        roles_of(&app, &t, &other).await,
        json!(["admin", "operator"])
    );
    assert_eq!(refusals(&app, &t, "role.revoked").await, 1);

    // Create a role at or above 90: 403, nothing created. Just below: fine.
    for priority in [90, 95, 99] {
        send(
            &app,
            Method::POST,
            &format!("/api/v1/tenants/{t}/roles"),
            &token,
            Some(json!({"key": format!("r{priority}"), "name": "x", "priority": priority})),
        )
        .await
        .expect_problem(403, "forbidden");
        app.get(&format!("/api/v1/tenants/{t}/roles/r{priority}"))
            .await
            .expect_problem(404, "not_found");
    }
    send(
        &app,
        Method::POST,
        &format!("/api/v1/tenants/{t}/roles"),
        &token,
        Some(json!({"key": "deputy", "name": "Deputy", "priority": 89})),
    )
    .await
    .expect(201);
    // Raising a role to their level, editing or deleting one above: 403, unchanged.
    send(
        &app,
        Method::PATCH,
        &format!("/api/v1/tenants/{t}/roles/deputy"),
        &token,
        Some(json!({"priority": 90})),
    )
    .await
    .expect_problem(403, "forbidden");
    send(
        &app,
        Method::PATCH,
        &format!("/api/v1/tenants/{t}/roles/boss"),
        &token,
        Some(json!({"priority": 50})),
    )
    .await
    .expect_problem(403, "forbidden");
    send(
        &app,
        Method::PATCH,
        &format!("/api/v1/tenants/{t}/roles/boss"),
        &token,
        Some(json!({"name": "Renamed"})),
    )
    .await
    .expect_problem(403, "forbidden");
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/roles/boss"),
        &token,
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    let boss = app.get(&format!("/api/v1/tenants/{t}/roles/boss")).await;
    let b = boss.expect(200);
    assert_eq!(
        (&b["name"], &b["priority"], &b["version"]),
        (&json!("boss"), &json!(95), &json!(1))
    );
    let deputy = app.get(&format!("/api/v1/tenants/{t}/roles/deputy")).await;
    assert_eq!(deputy.expect(200)["priority"], 89);
    assert_eq!(refusals(&app, &t, "role.updated").await, 3);
    assert_eq!(refusals(&app, &t, "role.deleted").await, 1);
    assert_eq!(refusals(&app, &t, "role.created").await, 3);
    // A template held by a role above them cannot be changed or granted there either.
    register_orders(&app, &t).await;
    template(&app, &t, "boss-kit", &["orders:read"]).await;
    template_to_role(&app, &t, "boss-kit", "boss").await;
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/templates/boss-kit"),
        &token,
        Some(json!({"name": "boss-kit", "permissions": ["orders:read", "orders:refund"]})),
    )
    .await
    .expect_problem(403, "forbidden");
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/templates/boss-kit"),
        &token,
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/templates/boss-kit/roles/admin"),
        &token,
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    let kit = app
        .get(&format!("/api/v1/tenants/{t}/templates/boss-kit"))
        .await;
    let k = kit.expect(200);
    assert_eq!(k["permissions"], json!(["orders:read"]));
    assert_eq!(k["grants"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_owner_scoped_to_a_unit_moves_and_grants_only_within_it() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = unit(&app, &t, "Merchant A", None).await;
    let a1 = unit(&app, &t, "Store A1", Some(&a)).await;
    let a2 = unit(&app, &t, "Store A2", Some(&a)).await;
    let x = unit(&app, &t, "Merchant X", None).await;
    let x1 = unit(&app, &t, "Store X1", Some(&x)).await;
    let (token, _) = user_with_role(
        &app,
        &t,
        "owner@example.com",
        Some(("owner", &format!("unit:{a}"))),
    )
    .await;
    let units = format!("/api/v1/tenants/{t}/org-units");
    let parent_of = |id: String| {
        let app = &app;
        let units = &units;
        async move { app.get(&format!("{units}/{id}")).await.expect(200)["parent_id"].clone() }
    };

    // A unit from outside re-parented under a: outside the owner's scope, so it does not
    // exist for them (404, as for users outside their scope).
    send(
        &app,
        Method::PATCH,
        &format!("{units}/{x1}"),
        &token,
        Some(json!({"parent_id": a})),
    )
    .await
    .expect_problem(404, "not_found");
    // A unit of a moved to the root, or out under x: 403.
    for parent in [Value::Null, json!(x), json!(x1)] {
        send(
            &app,
            Method::PATCH,
            &format!("{units}/{a1}"),
            &token,
            Some(json!({"parent_id": parent})),
        )
        .await
        .expect_problem(403, "forbidden");
    }
    // a itself cannot leave for the root either.
    send(
        &app,
        Method::PATCH,
        &format!("{units}/{a}"),
        &token,
        Some(json!({"parent_id": null})),
    )
    .await
    .expect_problem(403, "forbidden");
    assert_eq!(parent_of(x1.clone()).await, json!(x));
    assert_eq!(parent_of(a1.clone()).await, json!(a));
    assert_eq!(refusals(&app, &t, "org_unit.updated").await, 4);
    // Within a: fine.
    send(
        &app,
        Method::PATCH,
        &format!("{units}/{a2}"),
        &token,
        Some(json!({"parent_id": a1})),
    )
    .await
    .expect(200);
    assert_eq!(parent_of(a2.clone()).await, json!(a1));

    // Grants: to users of a only, within a only, below Owner only.
    let inside = subject(&app, &t, "ines").await;
    let outside = subject(&app, &t, "otto").await;
    employ(&app, &t, &a1, &inside).await;
    employ(&app, &t, &x1, &outside).await;
    let grant = |user: String, role: &'static str, scope: String| {
        let app = &app;
        let t = &t;
        let token = &token;
        async move {
            send(
                app,
                Method::PUT,
                &format!("/api/v1/tenants/{t}/users/{user}/roles/{role}?scope={scope}"),
                token,
                None,
            )
            .await
        }
    };
    grant(inside.clone(), "employee", "tenant".into())
        .await
        .expect_problem(403, "forbidden");
    grant(inside.clone(), "employee", format!("unit:{x}"))
        .await
        .expect_problem(403, "forbidden");
    grant(inside.clone(), "owner", format!("unit:{a1}"))
        .await
        .expect_problem(403, "forbidden");
    grant(outside.clone(), "employee", format!("unit:{a1}"))
        .await
        .expect_problem(404, "not_found");
    assert_eq!(roles_of(&app, &t, &inside).await, json!([]));
    assert_eq!(roles_of(&app, &t, &outside).await, json!([]));
    grant(inside.clone(), "employee", format!("unit:{a1}"))
        .await
        .expect(204);
    assert_eq!(roles_of(&app, &t, &inside).await, json!(["employee"]));
}

#[tokio::test]
async fn nobody_hands_on_a_permission_they_lack() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    register_orders(&app, &t).await;
    // A granter (priority 60, not administrative) may write roles and grant them.
    template(
        &app,
        &t,
        "granting",
        &["roles:grant", "roles:write", "roles:read", "orders:read"],
    )
    .await;
    template(&app, &t, "refunds", &["orders:refund"]).await;
    template(&app, &t, "reading", &["orders:read"]).await;
    custom_role(&app, &t, "granter", 60, None).await;
    custom_role(&app, &t, "ops", 65, None).await;
    custom_role(&app, &t, "clerk", 30, None).await;
    template_to_role(&app, &t, "granting", "granter").await;
    let (token, me) =
        user_with_role(&app, &t, "gina@example.com", Some(("granter", "tenant"))).await;
    let key = app.key(&t, &["access:evaluate"]).await;
    let refund = super::req(&me, "orders:refund", "orders", "o-1", json!({}));
    super::assert_decision(
        super::decide(&app, &t, &key, refund.clone()).await,
        false,
        "no_permission",
    );
    let put = |path: String, body: Option<Value>| {
        let app = &app;
        let token = &token;
        async move { send(app, Method::PUT, &path, token, body).await }
    };
    let base = format!("/api/v1/tenants/{t}");
    // The template of a permission they lack: not to themself, not to a role below them.
    put(format!("{base}/templates/refunds/users/{me}"), None)
        .await
        .expect_problem(403, "forbidden");
    put(format!("{base}/templates/refunds/roles/clerk"), None)
        .await
        .expect_problem(403, "forbidden");
    // Nor through a template of their own making, or by widening one.
    put(
        format!("{base}/templates/mine"),
        Some(json!({"name": "mine", "permissions": ["orders:refund"]})),
    )
    .await
    .expect_problem(403, "forbidden");
    put(
        format!("{base}/templates/reading"),
        Some(json!({"name": "reading", "permissions": ["orders:read", "orders:refund"]})),
    )
    .await
    .expect_problem(403, "forbidden");
    put(
        format!("{base}/templates/reading"),
        Some(json!({"name": "reading", "permissions": ["orders:*"]})),
    )
    .await
    .expect_problem(403, "forbidden");
    // Nor a template (even of permissions they hold) to a role at or above theirs.
    put(format!("{base}/templates/reading/roles/ops"), None)
        .await
        .expect_problem(403, "forbidden");
    put(format!("{base}/templates/reading/roles/granter"), None)
        .await
        .expect_problem(403, "forbidden");
    // Nothing changed.
    super::assert_decision(
        super::decide(&app, &t, &key, refund).await,
        false,
        "no_permission",
    );
    app.get(&format!("{base}/templates/mine"))
        .await
        .expect_problem(404, "not_found");
    for key in ["refunds", "reading"] {
        let tpl = app.get(&format!("{base}/templates/{key}")).await;
        assert_eq!(tpl.expect(200)["grants"], json!([]), "{key}");
    }
    let reading = app.get(&format!("{base}/templates/reading")).await;
    assert_eq!(reading.expect(200)["permissions"], json!(["orders:read"]));
    assert_eq!(refusals(&app, &t, "template.granted").await, 4);
    // What they hold tenant-wide they may hand on, below them.
    put(format!("{base}/templates/reading/roles/clerk"), None)
        .await
        .expect(204);
    // An unknown permission is a 422 before any of this.
    invalid(
        &put(
            format!("{base}/templates/mine"),
            Some(json!({"name": "mine", "permissions": ["orders:ship"]})),
        )
        .await,
        "unknown_permission",
    );
}

#[tokio::test]
async fn keys_without_star_stop_below_admin() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let user = subject(&app, &t, "kim").await;
    // The key holds what Operator and Owner carry: granting a role never hands on more
    // than the granter holds.
    let granter = app
        .key(
            &t,
            &[
                "roles:grant",
                "users:write",
                "org_units:write",
                "audit:read",
                "roles:read",
                "policies:read",
            ],
        )
        .await;
    let writer = app.key(&t, &["roles:write"]).await;
    custom_role(&app, &t, "high", 89, None).await;
    custom_role(&app, &t, "below", 88, None).await;
    let path = format!("/api/v1/tenants/{t}/users/{user}/roles");
    // A key that may grant but holds nothing else cannot grant Operator (every `*:read`).
    let bare = app.key(&t, &["roles:grant"]).await;
    send(&app, Method::PUT, &format!("{path}/operator"), &bare, None)
        .await
        .expect_problem(403, "forbidden");
    for role in ["super_admin", "admin", "high"] {
        send(&app, Method::PUT, &format!("{path}/{role}"), &granter, None)
            .await
            .expect_problem(403, "forbidden");
    }
    for role in ["operator", "owner", "below"] {
        send(&app, Method::PUT, &format!("{path}/{role}"), &granter, None)
            .await
            .expect(204);
    }
    let mut held: Vec<String> = serde_json::from_value(roles_of(&app, &t, &user).await).unwrap();
    held.sort();
    assert_eq!(held, ["below", "operator", "owner"]);
    // A roles:write key creates and edits roles up to 88 only.
    send(
        &app,
        Method::POST,
        &format!("/api/v1/tenants/{t}/roles"),
        &writer,
        Some(json!({"key": "peak", "name": "Peak", "priority": 89})),
    )
    .await
    .expect_problem(403, "forbidden");
    send(
        &app,
        Method::PATCH,
        &format!("/api/v1/tenants/{t}/roles/below"),
        &writer,
        Some(json!({"priority": 89})),
    )
    .await
    .expect_problem(403, "forbidden");
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/roles/high"),
        &writer,
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    send(
        &app,
        Method::POST,
        &format!("/api/v1/tenants/{t}/roles"),
        &writer,
        Some(json!({"key": "peak", "name": "Peak", "priority": 88})),
    )
    .await
    .expect(201);
    // The wrong scope entirely: 403.
    send(&app, Method::PUT, &format!("{path}/guest"), &writer, None)
        .await
        .expect_problem(403, "forbidden");
    // The tenant's `*` key reaches Super Admin.
    let root = star(&app, &t).await;
    send(
        &app,
        Method::PUT,
        &format!("{path}/super_admin"),
        &root,
        None,
    )
    .await
    .expect(204);
}
