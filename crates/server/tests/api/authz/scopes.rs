//! Scopes: a role held within an organization unit covers that unit's subtree only, a role
//! held for oneself covers one's own records only, and list endpoints filter by the caller's
//! scope.

use super::{
    assert_decision, custom_role, decide, employ, grant, invalid, register_orders, req, send,
    subject, template, template_to_role, unit, user_with_role,
};
use reqwest::Method;
use serde_json::json;
use tessera_testkit::TestApp;

#[tokio::test]
async fn a_role_held_in_a_unit_covers_its_subtree_only() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let root = unit(&app, &t, "Merchant", None).await;
    let a = unit(&app, &t, "Store A", Some(&root)).await;
    let a1 = unit(&app, &t, "Kiosk A1", Some(&a)).await;
    let b = unit(&app, &t, "Store B", Some(&root)).await;
    register_orders(&app, &t).await;
    template(&app, &t, "desk", &["orders:read"]).await;
    custom_role(&app, &t, "clerk", 30, None).await;
    template_to_role(&app, &t, "desk", "clerk").await;
    let ann = subject(&app, &t, "ann").await;
    grant(&app, &t, &ann, "clerk", &format!("unit:{a}")).await;
    let key = app.key(&t, &["access:evaluate"]).await;
    let read = |u: Option<&str>| {
        let props = u.map_or(json!({}), |u| json!({"unit": u}));
        req(&ann, "orders:read", "orders", "o-1", props)
    };

    // In a's subtree: allowed, and the explanation names the scope.
    let a1_read = super::evaluate_raw(&app, &t, &key, read(Some(&a1)), true).await;
    let v = a1_read.expect(200).clone();
    assert_eq!(v["decision"], true);
    assert_eq!(v["context"]["reason"], "allowed_by_role");
    assert_eq!(v["context"]["explanation"]["scope"], format!("unit:{a}"));
    assert_eq!(v["context"]["explanation"]["roles"], json!(["clerk"]));
    assert_eq!(v["context"]["explanation"]["templates"], json!(["desk"]));
    assert_decision(
        decide(&app, &t, &key, read(Some(&a))).await,
        true,
        "allowed_by_role",
    );
    // A sibling, the parent, no unit: out of scope.
    for u in [Some(b.as_str()), Some(root.as_str()), None] {
        let got = decide(&app, &t, &key, read(u)).await;
        assert_decision(got, false, "out_of_scope");
    }
    let out = super::evaluate_raw(&app, &t, &key, read(Some(&b)), true).await;
    let v = out.expect(200).clone();
    assert_eq!(v["context"]["explanation"]["roles"], json!(["clerk"]));
    assert!(
        v["context"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("unit:{a}")),
        "{v}"
    );
    // A unit id that is not a UUID is refused; one that does not exist covers nothing.
    invalid(
        &super::evaluate_raw(&app, &t, &key, read(Some("store-b")), false).await,
        "invalid_id",
    );
    invalid(
        &super::evaluate_raw(
            &app,
            &t,
            &key,
            req(&ann, "orders:read", "orders", "o-1", json!({"unit": 7})),
            false,
        )
        .await,
        "invalid_type",
    );
    let ghost = "0190a5b0-0000-7000-8000-000000000001";
    assert_decision(
        decide(&app, &t, &key, read(Some(ghost))).await,
        false,
        "out_of_scope",
    );

    // Moving b under a brings it into the scope at once; moving it back takes it out.
    app.patch(
        &format!("/api/v1/tenants/{t}/org-units/{b}"),
        json!({"parent_id": a1}),
    )
    .await
    .expect(200);
    assert_decision(
        decide(&app, &t, &key, read(Some(&b))).await,
        true,
        "allowed_by_role",
    );
    app.patch(
        &format!("/api/v1/tenants/{t}/org-units/{b}"),
        json!({"parent_id": root}),
    )
    .await
    .expect(200);
    assert_decision(
        decide(&app, &t, &key, read(Some(&b))).await,
        false,
        "out_of_scope",
    );
    // The graph shows the scope of each permission.
    let graph = send(
        &app,
        Method::GET,
        &format!("/t/{t}/access/v1/subjects/{ann}/permissions"),
        &key,
        None,
    )
    .await;
    let g = graph.expect(200).clone();
    assert_eq!(g["roles"][0]["scope"], format!("unit:{a}"));
    assert_eq!(g["permissions"][0]["permission"], "orders:read");
    assert_eq!(g["permissions"][0]["scope"], format!("unit:{a}"));
}

#[tokio::test]
async fn a_role_held_for_oneself_covers_one_s_own_records() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let carl = subject(&app, &t, "carl").await;
    let dina = subject(&app, &t, "dina").await;
    grant(&app, &t, &carl, "customer", "self").await;
    let key = app.key(&t, &["access:evaluate"]).await;
    assert_decision(
        decide(
            &app,
            &t,
            &key,
            req(&carl, "users:read", "users", &carl, json!({})),
        )
        .await,
        true,
        "allowed_by_role",
    );
    assert_decision(
        decide(
            &app,
            &t,
            &key,
            req(&carl, "users:read", "users", &dina, json!({})),
        )
        .await,
        false,
        "out_of_scope",
    );
    // A write is not granted at all.
    assert_decision(
        decide(
            &app,
            &t,
            &key,
            req(&carl, "users:write", "users", &carl, json!({})),
        )
        .await,
        false,
        "no_permission",
    );
    // For a registered type, the resource's `owner` decides.
    register_orders(&app, &t).await;
    template(&app, &t, "mine", &["orders:read"]).await;
    template_to_role(&app, &t, "mine", "customer").await;
    assert_decision(
        decide(
            &app,
            &t,
            &key,
            req(
                &carl,
                "orders:read",
                "orders",
                "o-9",
                json!({"owner": carl}),
            ),
        )
        .await,
        true,
        "allowed_by_role",
    );
    assert_decision(
        decide(
            &app,
            &t,
            &key,
            req(
                &carl,
                "orders:read",
                "orders",
                "o-9",
                json!({"owner": dina}),
            ),
        )
        .await,
        false,
        "out_of_scope",
    );
    // Through the admin API, a self-scoped `users:read` reads oneself only.
    let (token, me) =
        user_with_role(&app, &t, "erin@example.com", Some(("customer", "self"))).await;
    send(
        &app,
        Method::GET,
        &format!("/api/v1/tenants/{t}/users/{me}"),
        &token,
        None,
    )
    .await
    .expect(200);
    send(
        &app,
        Method::GET,
        &format!("/api/v1/tenants/{t}/users/{dina}"),
        &token,
        None,
    )
    .await
    .expect_problem(404, "not_found");
}

/// Needs the stores' `within` filter on user lists (`UserQuery::within`).
#[tokio::test]
async fn an_employee_scoped_to_a_unit_lists_only_the_users_of_its_subtree() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let a = unit(&app, &t, "Store A", None).await;
    let a1 = unit(&app, &t, "Kiosk A1", Some(&a)).await;
    let b = unit(&app, &t, "Store B", None).await;
    let in_a1 = subject(&app, &t, "ina").await;
    let in_b = subject(&app, &t, "bea").await;
    let loose = subject(&app, &t, "lou").await;
    employ(&app, &t, &a1, &in_a1).await;
    employ(&app, &t, &b, &in_b).await;
    let (token, emp) = user_with_role(
        &app,
        &t,
        "emp@example.com",
        Some(("employee", &format!("unit:{a}"))),
    )
    .await;
    employ(&app, &t, &a, &emp).await;

    // Single reads are filtered.
    for (id, status) in [(&in_a1, 200), (&emp, 200), (&in_b, 404), (&loose, 404)] {
        send(
            &app,
            Method::GET,
            &format!("/api/v1/tenants/{t}/users/{id}"),
            &token,
            None,
        )
        .await
        .expect(status);
    }
    // An Admin sees everyone.
    let all = app.get(&format!("/api/v1/tenants/{t}/users")).await;
    assert_eq!(all.expect(200)["items"].as_array().unwrap().len(), 4);
    // The list holds only the users attached to a and below.
    let list = send(
        &app,
        Method::GET,
        &format!("/api/v1/tenants/{t}/users"),
        &token,
        None,
    )
    .await;
    let mut ids: Vec<String> = list.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    let mut want = vec![in_a1.clone(), emp.clone()];
    want.sort();
    assert_eq!(ids, want, "{}", list.text);
    // Writing needs `users:write`, which an employee does not hold anywhere.
    send(
        &app,
        Method::PATCH,
        &format!("/api/v1/tenants/{t}/users/{in_a1}"),
        &token,
        Some(json!({"given_name": "Ina"})),
    )
    .await
    .expect_problem(403, "forbidden");
    // Nor may they read roles (`roles:read`).
    send(
        &app,
        Method::GET,
        &format!("/api/v1/tenants/{t}/roles"),
        &token,
        None,
    )
    .await
    .expect_problem(403, "forbidden");
}
