//! Resource types register permissions; templates bundle them (and carry the menu) and are
//! granted to roles or users, effective on the very next request; the menu a user sees is
//! filtered by what they hold.

use super::{
    assert_decision, custom_role, decide, grant, invalid, register_orders, req, send, star,
    subject, template, template_to_role, user_with_role,
};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_testkit::TestApp;

#[tokio::test]
async fn resource_types_register_permissions_and_are_checked() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    register_orders(&app, &t).await;
    let perms = app.get(&format!("/api/v1/tenants/{t}/permissions")).await;
    let list = perms.expect(200)["permissions"].as_array().unwrap().clone();
    assert_eq!(list.iter().filter(|p| p["built_in"] == true).count(), 15);
    let own: Vec<(&str, &str)> = list
        .iter()
        .filter(|p| p["built_in"] == false)
        .map(|p| {
            (
                p["permission"].as_str().unwrap(),
                p["description"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        own,
        [
            ("orders:read", "see an order"),
            ("orders:refund", "refund an order")
        ]
    );
    let types = app
        .get(&format!("/api/v1/tenants/{t}/resource-types"))
        .await;
    assert_eq!(
        types.expect(200)["resource_types"][0]["attributes"],
        json!({"amount": "long", "unit": "org_unit"})
    );
    // The policy schema knows the type and its attributes.
    let schema = app
        .get(&format!("/api/v1/tenants/{t}/policies/schema"))
        .await;
    let text = schema.expect(200)["schema"].as_str().unwrap().to_owned();
    assert!(
        text.contains("orders") && text.contains("amount") && text.contains("orders:refund"),
        "{text}"
    );

    let put = |name: &'static str, body: Value| {
        let app = &app;
        let t = &t;
        async move {
            app.send(
                Method::PUT,
                &format!("/api/v1/tenants/{t}/resource-types/{name}"),
                Some(&app.operator_key),
                Some(body),
            )
            .await
        }
    };
    let bad = [
        (
            "invoices",
            json!({"actions": {"read": ""}, "attributes": {"total": "money"}}),
            "invalid_type",
        ),
        ("users", json!({"actions": {"read": ""}}), "reserved_name"),
        ("invoices", json!({"actions": {}}), "no_actions"),
        ("Invoices", json!({"actions": {"read": ""}}), "invalid_name"),
        (
            "invoices",
            json!({"actions": {"Read Me": ""}}),
            "invalid_action",
        ),
        (
            "invoices",
            json!({"actions": {"read": ""}, "attributes": {"in": "long"}}),
            "invalid_attribute",
        ),
    ];
    for (name, body, code) in bad {
        invalid(&put(name, body).await, code);
    }
    put("invoices", json!({"actions": {"read": ""}, "extra": 1}))
        .await
        .expect_problem(422, "invalid_body");
    let after = app
        .get(&format!("/api/v1/tenants/{t}/resource-types"))
        .await;
    assert_eq!(
        after.expect(200)["resource_types"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Templates: only known permissions.
    let tpl = |key: &'static str, perms: Value| {
        let app = &app;
        let t = &t;
        async move {
            app.send(
                Method::PUT,
                &format!("/api/v1/tenants/{t}/templates/{key}"),
                Some(&app.operator_key),
                Some(json!({"name": key, "permissions": perms})),
            )
            .await
        }
    };
    let unknown = tpl("desk", json!(["orders:read", "orders:ship"])).await;
    let body = invalid(&unknown, "unknown_permission");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("orders:ship"),
        "{body}"
    );
    invalid(
        &tpl("desk", json!(["invoices:read"])).await,
        "unknown_permission",
    );
    invalid(
        &tpl("desk", json!(["Orders:Read"])).await,
        "invalid_permission",
    );
    invalid(
        &tpl("Desk Key", json!(["orders:read"])).await,
        "invalid_key",
    );
    app.get(&format!("/api/v1/tenants/{t}/templates/desk"))
        .await
        .expect_problem(404, "not_found");
    let created = tpl("desk", json!(["orders:read", "orders:refund"])).await;
    assert_eq!(created.expect(201)["version"], 1);
    // The same content again is not a change; a stale If-Match is refused.
    assert_eq!(
        tpl("desk", json!(["orders:refund", "orders:read"]))
            .await
            .expect(200)["version"],
        1
    );
    let stale = app
        .client
        .put(app.url(&format!("/api/v1/tenants/{t}/templates/desk")))
        .bearer_auth(&app.operator_key)
        .header("if-match", "\"3\"")
        .json(&json!({"name": "desk", "permissions": ["orders:read"]}))
        .send()
        .await
        .unwrap();
    TestApp::answer(stale)
        .await
        .expect_problem(412, "precondition_failed");
    // A resource type whose permissions a template holds is not removed.
    app.delete(&format!("/api/v1/tenants/{t}/resource-types/orders"))
        .await
        .expect_problem(409, "in_use");
    app.delete(&format!("/api/v1/tenants/{t}/resource-types/ghost"))
        .await
        .expect_problem(404, "not_found");
}

/// The subject's permission entries as `(permission, scope, source, role, template)`.
async fn held(app: &TestApp, t: &str, key: &str, user: &str) -> Vec<Vec<Value>> {
    let a = send(
        app,
        Method::GET,
        &format!("/t/{t}/access/v1/subjects/{user}/permissions"),
        key,
        None,
    )
    .await;
    a.expect(200)["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            ["permission", "scope", "source", "role", "template"]
                .iter()
                .map(|f| g[*f].clone())
                .collect()
        })
        .collect()
}

#[tokio::test]
async fn a_template_granted_to_a_role_counts_on_the_next_request() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    register_orders(&app, &t).await;
    template(&app, &t, "desk", &["orders:read", "orders:refund"]).await;
    custom_role(&app, &t, "clerk", 30, None).await;
    custom_role(&app, &t, "senior", 35, Some("clerk")).await;
    let ann = subject(&app, &t, "ann").await;
    let bob = subject(&app, &t, "bob").await;
    grant(&app, &t, &ann, "clerk", "tenant").await;
    grant(&app, &t, &bob, "senior", "tenant").await;
    let key = app.key(&t, &["access:evaluate"]).await;
    let refund = |who: &str| req(who, "orders:refund", "orders", "o-1", json!({"amount": 10}));

    assert_decision(
        decide(&app, &t, &key, refund(&ann)).await,
        false,
        "no_permission",
    );
    assert!(held(&app, &t, &key, &ann).await.is_empty());
    template_to_role(&app, &t, "desk", "clerk").await;
    // No pause: the very next request sees it, for the holder and for the heir.
    assert_decision(
        decide(&app, &t, &key, refund(&ann)).await,
        true,
        "allowed_by_role",
    );
    assert_decision(
        decide(&app, &t, &key, refund(&bob)).await,
        true,
        "allowed_by_role",
    );
    assert!(held(&app, &t, &key, &ann).await.contains(&vec![
        json!("orders:refund"),
        json!("tenant"),
        json!("role_template"),
        json!("clerk"),
        json!("desk")
    ]));
    let graph = send(
        &app,
        Method::GET,
        &format!("/t/{t}/access/v1/subjects/{bob}/permissions"),
        &key,
        None,
    )
    .await;
    let g = graph.expect(200).clone();
    assert_eq!(g["subject"], bob.as_str());
    assert_eq!(g["state"], "active");
    assert_eq!(g["priority"], 35);
    assert_eq!(g["bypasses_filters"], false);
    let roles: Vec<(Value, Value)> = g["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["role"].clone(), r["inherited_through"].clone()))
        .collect();
    assert_eq!(
        roles,
        [
            (json!("clerk"), json!("senior")),
            (json!("senior"), Value::Null)
        ]
    );
    // The template lists its grant; the role lists its template.
    let tpl = app
        .get(&format!("/api/v1/tenants/{t}/templates/desk"))
        .await;
    assert_eq!(tpl.expect(200)["grants"][0]["kind"], "role");
    assert_eq!(tpl.json["grants"][0]["target"], "clerk");
    let role = app.get(&format!("/api/v1/tenants/{t}/roles/clerk")).await;
    assert_eq!(role.expect(200)["templates"], json!(["desk"]));

    // A template edit is effective at once too: without refund, the refund is denied.
    template(&app, &t, "desk", &["orders:read"]).await;
    assert_decision(
        decide(&app, &t, &key, refund(&ann)).await,
        false,
        "no_permission",
    );
    template(&app, &t, "desk", &["orders:read", "orders:refund"]).await;
    assert_decision(
        decide(&app, &t, &key, refund(&ann)).await,
        true,
        "allowed_by_role",
    );
    // Revoked: denied on the next request.
    let star = star(&app, &t).await;
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/templates/desk/roles/clerk"),
        &star,
        None,
    )
    .await
    .expect(204);
    assert_decision(
        decide(&app, &t, &key, refund(&ann)).await,
        false,
        "no_permission",
    );
    assert_decision(
        decide(&app, &t, &key, refund(&bob)).await,
        false,
        "no_permission",
    );
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/templates/desk/roles/clerk"),
        &star,
        None,
    )
    .await
    .expect_problem(404, "not_found");

    // Granted to a user directly: tenant-wide, with its source; revoked at once.
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/templates/desk/users/{ann}"),
        &star,
        None,
    )
    .await
    .expect(204);
    assert!(held(&app, &t, &key, &ann).await.contains(&vec![
        json!("orders:read"),
        json!("tenant"),
        json!("user_template"),
        Value::Null,
        json!("desk")
    ]));
    assert_decision(
        decide(&app, &t, &key, refund(&ann)).await,
        true,
        "allowed_by_role",
    );
    send(
        &app,
        Method::DELETE,
        &format!("/api/v1/tenants/{t}/templates/desk/users/{ann}"),
        &star,
        None,
    )
    .await
    .expect(204);
    assert_decision(
        decide(&app, &t, &key, refund(&ann)).await,
        false,
        "no_permission",
    );
    // Deleting the role takes its assignments with it.
    template_to_role(&app, &t, "desk", "clerk").await;
    app.patch(
        &format!("/api/v1/tenants/{t}/roles/senior"),
        json!({"parent": null}),
    )
    .await
    .expect(200);
    app.delete(&format!("/api/v1/tenants/{t}/roles/clerk"))
        .await
        .expect(204);
    assert_decision(
        decide(&app, &t, &key, refund(&ann)).await,
        false,
        "no_permission",
    );
    // Unknown targets.
    let nobody = "0190a5b0-0000-7000-8000-000000000001";
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/templates/desk/users/{nobody}"),
        &star,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/templates/desk/roles/clerk"),
        &star,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/templates/ghost/roles/senior"),
        &star,
        None,
    )
    .await
    .expect_problem(404, "not_found");
}

fn item(key: &str, path: Option<&str>, requires: &[&str], children: Vec<Value>) -> Value {
    json!({"key": key, "label": key.to_uppercase(), "path": path, "requires": requires, "children": children})
}

/// The menu as `key[child,child]` strings, for compact assertions.
fn shape(items: &Value) -> Vec<String> {
    items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            let children = shape(&i["children"]);
            if children.is_empty() {
                i["key"].as_str().unwrap().to_owned()
            } else {
                format!("{}[{}]", i["key"].as_str().unwrap(), children.join(","))
            }
        })
        .collect()
}

#[tokio::test]
async fn the_menu_is_filtered_for_the_caller() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    register_orders(&app, &t).await;
    let put = |key: &'static str, perms: &'static [&'static str], menu: Value| {
        let app = &app;
        let t = &t;
        async move {
            app.send(
                Method::PUT,
                &format!("/api/v1/tenants/{t}/templates/{key}"),
                Some(&app.operator_key),
                Some(json!({"name": key, "permissions": perms, "menu": menu})),
            )
            .await
        }
    };
    put(
        "nav-admin",
        &[],
        json!([
            item(
                "people",
                None,
                &[],
                vec![
                    item("users", Some("/users"), &["users:read"], vec![]),
                    item("keys", Some("/keys"), &["api_keys:manage"], vec![]),
                ]
            ),
            item(
                "settings",
                None,
                &[],
                vec![
                    item("tenant", Some("/settings"), &["tenants:write"], vec![]),
                    item("policies", Some("/policies"), &["policies:write"], vec![]),
                ]
            ),
        ]),
    )
    .await
    .expect(201);
    put(
        "nav-sales",
        &["orders:read"],
        json!([
            item(
                "people",
                None,
                &[],
                vec![item(
                    "customers",
                    Some("/customers"),
                    &["users:read"],
                    vec![]
                )]
            ),
            item(
                "sales",
                None,
                &[],
                vec![
                    item("orders", Some("/orders"), &["orders:read"], vec![]),
                    item("refunds", Some("/refunds"), &["orders:refund"], vec![]),
                ]
            ),
            item(
                "reports",
                Some("/reports"),
                &["orders:read", "audit:read"],
                vec![]
            ),
        ]),
    )
    .await
    .expect(201);
    // Menus are checked: paths start with `/`, at most six levels.
    let deep = (0..7).fold(vec![], |children, i| {
        vec![item(&format!("l{i}"), Some("/x"), &[], children)]
    });
    invalid(
        &put("nav-bad", &[], json!([item("x", Some("x"), &[], vec![])])).await,
        "invalid_path",
    );
    invalid(&put("nav-bad", &[], json!(deep)).await, "too_deep");
    invalid(
        &put(
            "nav-bad",
            &[],
            json!([item("x", Some("/x"), &["Not A Permission"], vec![])]),
        )
        .await,
        "invalid_permission",
    );

    // An employee (users:read) holding the sales template sees people and sales, not the
    // settings, whose children are all hidden.
    let (token, id) =
        user_with_role(&app, &t, "emma@example.com", Some(("employee", "tenant"))).await;
    let star = star(&app, &t).await;
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/templates/nav-sales/users/{id}"),
        &star,
        None,
    )
    .await
    .expect(204);
    let menu = send(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/menu"),
        &token,
        None,
    )
    .await;
    let body = menu.expect(200).clone();
    assert_eq!(
        shape(&body["items"]),
        ["people[users,customers]", "sales[orders]"]
    );
    assert_eq!(body["items"][1]["children"][0]["path"], "/orders");
    assert_eq!(body["items"][1]["children"][0]["label"], "ORDERS");

    // A user without any permission sees nothing at all; nobody signed in gets 401.
    let (guest, _) = user_with_role(&app, &t, "gus@example.com", None).await;
    let none = send(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/menu"),
        &guest,
        None,
    )
    .await;
    assert_eq!(none.expect(200)["items"], json!([]));
    app.send(Method::GET, &format!("/t/{t}/api/v1/me/menu"), None, None)
        .await
        .expect_problem(401, "unauthenticated");
}
