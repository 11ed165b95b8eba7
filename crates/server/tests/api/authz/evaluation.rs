//! The check API in the AuthZEN shape: the discovery document, who may call it, batches with
//! defaults and early stops, malformed requests (always 4xx, never 5xx), the subject's
//! lifecycle, and subjects and callers of other tenants.

use super::{
    assert_decision, custom_role, decide, evaluate_raw, grant, invalid, register_orders, req, send,
    subject, template, template_to_role,
};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_testkit::TestApp;

/// A tenant where `ann` holds `clerk` (orders:read, orders:refund) and `bob` holds nothing.
async fn shop(app: &TestApp) -> (String, String, String, String) {
    let t = app.tenant().await;
    register_orders(app, &t).await;
    template(app, &t, "desk", &["orders:read", "orders:refund"]).await;
    custom_role(app, &t, "clerk", 30, None).await;
    template_to_role(app, &t, "desk", "clerk").await;
    let ann = subject(app, &t, "ann").await;
    let bob = subject(app, &t, "bob").await;
    grant(app, &t, &ann, "clerk", "tenant").await;
    let key = app.key(&t, &["access:evaluate"]).await;
    (t, key, ann, bob)
}

#[tokio::test]
async fn the_discovery_document_and_who_may_ask() {
    let app = TestApp::spawn().await;
    let (t, key, ann, _) = shop(&app).await;
    let doc = app
        .send(
            Method::GET,
            &format!("/t/{t}/.well-known/authzen-configuration"),
            None,
            None,
        )
        .await;
    let d = doc.expect(200).clone();
    let pdp = d["policy_decision_point"].as_str().unwrap().to_owned();
    assert!(pdp.ends_with(&format!("/t/{t}")), "{d}");
    assert_eq!(
        d["access_evaluation_endpoint"],
        format!("{pdp}/access/v1/evaluation")
    );
    assert_eq!(
        d["access_evaluations_endpoint"],
        format!("{pdp}/access/v1/evaluations")
    );
    assert_eq!(
        d["subject_permissions_endpoint"],
        format!("{pdp}/access/v1/subjects/{{id}}/permissions")
    );
    assert_eq!(d["max_evaluations"], 200);
    assert_eq!(d["subject_types_supported"], json!(["user"]));
    assert_eq!(
        d["evaluations_semantics_supported"],
        json!([
            "execute_all",
            "deny_on_first_deny",
            "permit_on_first_permit"
        ])
    );
    app.send(
        Method::GET,
        "/t/no-such-tenant/.well-known/authzen-configuration",
        None,
        None,
    )
    .await
    .expect_problem(404, "not_found");

    let body = req(&ann, "orders:read", "orders", "o-1", json!({}));
    // Nobody: 401. A key without `access:evaluate`: 403. Another tenant's key: 404.
    app.send(
        Method::POST,
        &format!("/t/{t}/access/v1/evaluation"),
        None,
        Some(body.clone()),
    )
    .await
    .expect_problem(401, "unauthenticated");
    app.send(
        Method::POST,
        &format!("/t/{t}/access/v1/evaluation"),
        Some("tsk_not_a_real_key"),
        Some(body.clone()),
    )
    .await
    .expect_problem(401, "unauthenticated");
    let reader = app.key(&t, &["users:read", "roles:read"]).await;
    for path in [
        format!("/t/{t}/access/v1/evaluation"),
        format!("/t/{t}/access/v1/evaluations"),
    ] {
        let b = if path.ends_with('s') {
            json!({"evaluations": [body.clone()]})
        } else {
            body.clone()
        };
        send(&app, Method::POST, &path, &reader, Some(b))
            .await
            .expect_problem(403, "forbidden");
    }
    send(
        &app,
        Method::GET,
        &format!("/t/{t}/access/v1/subjects/{ann}/permissions"),
        &reader,
        None,
    )
    .await
    .expect_problem(403, "forbidden");
    let other = app.tenant().await;
    let foreign = app.key(&other, &["*"]).await;
    evaluate_raw(&app, &t, &foreign, body.clone(), false)
        .await
        .expect_problem(404, "not_found");
    send(
        &app,
        Method::GET,
        &format!("/t/{t}/access/v1/subjects/{ann}/permissions"),
        &foreign,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    // The right key, and a user's token holding `*` (an Admin) may ask.
    assert_decision(
        decide(&app, &t, &key, body.clone()).await,
        true,
        "allowed_by_role",
    );
    let (token, _) =
        super::user_with_role(&app, &t, "root@example.com", Some(("admin", "tenant"))).await;
    assert_decision(
        decide(&app, &t, &token, body).await,
        true,
        "allowed_by_role",
    );
    // An ordinary user's token may not.
    let (plain, _) = super::user_with_role(&app, &t, "pat@example.com", None).await;
    evaluate_raw(
        &app,
        &t,
        &plain,
        req(&ann, "orders:read", "orders", "o-1", json!({})),
        false,
    )
    .await
    .expect_problem(403, "forbidden");
}

#[tokio::test]
async fn batches_take_defaults_and_stop_when_asked() {
    let app = TestApp::spawn().await;
    let (t, key, ann, bob) = shop(&app).await;
    let path = format!("/t/{t}/access/v1/evaluations");
    let batch = |semantic: Option<&str>| {
        let mut b = json!({
            "subject": {"type": "user", "id": ann},
            "action": {"name": "orders:read"},
            "resource": {"type": "orders", "id": "o-1"},
            "evaluations": [
                {},
                {"subject": {"type": "user", "id": bob}},
                {"action": {"name": "orders:refund"}, "resource": {"type": "orders", "id": "o-2", "properties": {"amount": 3}}},
                {"subject": {"type": "user", "id": bob}, "action": {"name": "users:read"}, "resource": {"type": "users", "id": bob}},
            ]
        });
        if let Some(s) = semantic {
            b["options"] = json!({"evaluations_semantic": s});
        }
        b
    };
    let outcomes = |v: &Value| -> Vec<(bool, String)> {
        v["evaluations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["decision"].as_bool().unwrap(),
                    e["context"]["reason"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    let all = send(&app, Method::POST, &path, &key, Some(batch(None))).await;
    assert_eq!(
        outcomes(all.expect(200)),
        [
            (true, "allowed_by_role".to_owned()),
            (false, "no_permission".to_owned()),
            (true, "allowed_by_role".to_owned()),
            (false, "no_permission".to_owned()),
        ]
    );
    let first_deny = send(
        &app,
        Method::POST,
        &path,
        &key,
        Some(batch(Some("deny_on_first_deny"))),
    )
    .await;
    assert_eq!(
        outcomes(first_deny.expect(200)),
        [
            (true, "allowed_by_role".to_owned()),
            (false, "no_permission".to_owned())
        ]
    );
    let first_permit = send(
        &app,
        Method::POST,
        &format!("{path}?explain=true"),
        &key,
        Some(batch(Some("permit_on_first_permit"))),
    )
    .await;
    let v = first_permit.expect(200).clone();
    assert_eq!(outcomes(&v), [(true, "allowed_by_role".to_owned())]);
    assert_eq!(
        v["evaluations"][0]["context"]["explanation"]["roles"],
        json!(["clerk"])
    );
    invalid(
        &send(&app, Method::POST, &path, &key, Some(batch(Some("some")))).await,
        "invalid_semantic",
    );

    // Without a default, an item must say who: the field names the item.
    let missing = send(
        &app,
        Method::POST,
        &path,
        &key,
        Some(json!({
            "action": {"name": "orders:read"},
            "resource": {"type": "orders", "id": "o-1"},
            "evaluations": [{"subject": {"type": "user", "id": ann}}, {}]
        })),
    )
    .await;
    let body = invalid(&missing, "missing_field");
    assert_eq!(body["errors"][0]["field"], "evaluations[1].subject");
    // One malformed item refuses the whole batch.
    let mut bad = batch(None);
    bad["evaluations"][2]["action"] = json!({"name": "orders:*"});
    let refused = send(&app, Method::POST, &path, &key, Some(bad)).await;
    let body = invalid(&refused, "invalid_action");
    assert_eq!(body["errors"][0]["field"], "evaluations[2].action.name");
    // Empty and oversized batches.
    invalid(
        &send(
            &app,
            Method::POST,
            &path,
            &key,
            Some(json!({"evaluations": []})),
        )
        .await,
        "empty_batch",
    );
    let item = req(&ann, "orders:read", "orders", "o-1", json!({}));
    let big = json!({"evaluations": vec![item.clone(); 201]});
    invalid(
        &send(&app, Method::POST, &path, &key, Some(big)).await,
        "batch_too_large",
    );
    let full = json!({"evaluations": vec![item; 200]});
    let ok = send(&app, Method::POST, &path, &key, Some(full)).await;
    assert_eq!(ok.expect(200)["evaluations"].as_array().unwrap().len(), 200);
}

/// Nests `levels` objects: `{"a": {"a": ... 1}}`.
fn nested(levels: usize) -> String {
    format!("{}1{}", "{\"a\":".repeat(levels), "}".repeat(levels))
}

#[tokio::test]
async fn malformed_requests_are_refused_with_a_clear_4xx() {
    let app = TestApp::spawn().await;
    let (t, key, ann, _) = shop(&app).await;
    // A policy makes the context matter.
    app.post(
        &format!("/api/v1/tenants/{t}/policies"),
        json!({"policies": "forbid(principal, action == Action::\"orders:refund\", resource) unless { context has mfa && context.mfa };"}),
    )
    .await
    .expect(201);
    let good = req(&ann, "orders:read", "orders", "o-1", json!({}));
    let with = |pointer: &str, value: Value| {
        let mut b = good.clone();
        *b.pointer_mut(pointer).unwrap() = value;
        b
    };
    let without = |field: &str| {
        let mut b = good.clone();
        b.as_object_mut().unwrap().remove(field);
        b
    };
    // Shape errors (serde): 422 invalid_body.
    let shape = [
        without("subject"),
        without("action"),
        without("resource"),
        with("/subject", json!("ann")),
        with("/subject/id", json!(42)),
        with("/action/name", json!(["orders:read"])),
        with("/resource/properties", json!([1])),
        {
            let mut b = good.clone();
            b["subject"]["role"] = json!("admin");
            b
        },
        {
            let mut b = good.clone();
            b["extra"] = json!(true);
            b
        },
        {
            let mut b = good.clone();
            b["context"] = json!("now");
            b
        },
    ];
    for body in shape {
        evaluate_raw(&app, &t, &key, body.clone(), false)
            .await
            .expect_problem(422, "invalid_body");
    }
    // Meaning errors: 422 validation_failed with a code.
    let meaning = [
        (with("/subject/type", json!("group")), "unknown_entity_type"),
        (with("/subject/id", json!("ann")), "invalid_id"),
        (with("/action/name", json!("orders:*")), "invalid_action"),
        (with("/action/name", json!("*")), "invalid_action"),
        (with("/action/name", json!("refund")), "invalid_action"),
        (with("/action/name", json!("users:read")), "action_mismatch"),
        (
            {
                let mut b = with("/resource/type", json!("invoices"));
                b["action"]["name"] = json!("invoices:read");
                b
            },
            "unknown_entity_type",
        ),
        (with("/resource/id", json!("")), "invalid_id"),
        (with("/resource/id", json!("x".repeat(300))), "invalid_id"),
        (
            with("/resource/properties", json!({"owner": "nobody"})),
            "invalid_id",
        ),
        (
            {
                let mut b = with("/action/name", json!("orders:refund"));
                b["context"] = json!({"mfa": 1});
                b
            },
            "invalid_request",
        ),
        (
            // An action the type does not have.
            with("/action/name", json!("orders:ship")),
            "invalid_request",
        ),
    ];
    for (body, code) in meaning {
        let a = evaluate_raw(&app, &t, &key, body.clone(), false).await;
        assert_eq!(a.status.as_u16(), 422, "{body}: {}", a.text);
        invalid(&a, code);
    }
    // Not JSON, not declared as JSON, unknown query parameters.
    let raw = |body: String, ctype: &'static str, query: &'static str| {
        let app = &app;
        let t = &t;
        let key = &key;
        async move {
            let res = app
                .client
                .post(app.url(&format!("/t/{t}/access/v1/evaluation{query}")))
                .bearer_auth(key)
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            TestApp::answer(res).await
        }
    };
    raw("{\"subject\":".into(), "application/json", "")
        .await
        .expect_problem(400, "malformed_json");
    raw(
        "subject=ann".into(),
        "application/x-www-form-urlencoded",
        "",
    )
    .await
    .expect_problem(415, "unsupported_media_type");
    raw("{}".into(), "application/json", "?explain=perhaps")
        .await
        .expect_problem(400, "invalid_query");
    raw("{}".into(), "application/json", "?verbose=true")
        .await
        .expect_problem(400, "invalid_query");

    // A huge context: over the body limit.
    let mut huge = good.clone();
    huge["context"] = json!({"blob": "x".repeat(2 * 1024 * 1024)});
    evaluate_raw(&app, &t, &key, huge, false)
        .await
        .expect_problem(413, "body_too_large");
    // A big context under the limit is accepted (only the declared keys reach Cedar).
    let mut big = good.clone();
    big["context"] = json!({"blob": "x".repeat(512 * 1024)});
    assert_decision(decide(&app, &t, &key, big).await, true, "allowed_by_role");
    // Deep nesting: past the JSON parser's depth limit it is refused as malformed, below it
    // the undeclared key is ignored.
    let good_text = good.to_string();
    let deep_body = |levels: usize| {
        format!(
            "{},\"context\":{{\"deep\":{}}}}}",
            &good_text[..good_text.len() - 1],
            nested(levels)
        )
    };
    for levels in [200, 5_000, 100_000] {
        let a = raw(deep_body(levels), "application/json", "").await;
        assert!(a.status.is_client_error(), "{levels} levels: {}", a.text);
        assert_eq!(a.json["code"], "malformed_json", "{levels}: {}", a.text);
    }
    let a = raw(deep_body(100), "application/json", "").await;
    assert_eq!(a.expect(200)["decision"], true, "{}", a.text);
    // The same in a batch item.
    let batch = format!("{{\"evaluations\":[{{\"context\":{}}}]}}", nested(5_000));
    let res = app
        .client
        .post(app.url(&format!("/t/{t}/access/v1/evaluations")))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body(batch)
        .send()
        .await
        .unwrap();
    TestApp::answer(res)
        .await
        .expect_problem(400, "malformed_json");
}

#[tokio::test]
async fn a_suspended_subject_is_denied_on_the_very_next_decision() {
    let app = TestApp::spawn().await;
    let (t, key, ann, _) = shop(&app).await;
    let read = req(&ann, "orders:read", "orders", "o-1", json!({}));
    assert_decision(
        decide(&app, &t, &key, read.clone()).await,
        true,
        "allowed_by_role",
    );
    let state = format!("/api/v1/tenants/{t}/users/{ann}/state");
    app.post(&state, json!({"state": "suspended"}))
        .await
        .expect(200);
    let denied = evaluate_raw(&app, &t, &key, read.clone(), true).await;
    let v = denied.expect(200).clone();
    assert_eq!(v["decision"], false);
    assert_eq!(v["context"]["reason"], "subject_inactive");
    assert!(
        v["context"]["message"]
            .as_str()
            .unwrap()
            .contains("suspended")
    );
    let graph = send(
        &app,
        Method::GET,
        &format!("/t/{t}/access/v1/subjects/{ann}/permissions"),
        &key,
        None,
    )
    .await;
    assert_eq!(graph.expect(200)["state"], "suspended");
    app.post(&state, json!({"state": "active"}))
        .await
        .expect(200);
    assert_decision(
        decide(&app, &t, &key, read.clone()).await,
        true,
        "allowed_by_role",
    );
    app.post(&state, json!({"state": "deactivated"}))
        .await
        .expect(200);
    assert_decision(
        decide(&app, &t, &key, read).await,
        false,
        "subject_inactive",
    );
}

#[tokio::test]
async fn other_tenants_subjects_and_callers_get_nothing() {
    let app = TestApp::spawn().await;
    let (a, key_a, ann, bob_a) = shop(&app).await;
    let (b, key_b, bea, _) = shop(&app).await;
    // Tenant B's key asking tenant A: the tenant is hidden.
    evaluate_raw(
        &app,
        &a,
        &key_b,
        req(&bea, "orders:read", "orders", "o-1", json!({})),
        false,
    )
    .await
    .expect_problem(404, "not_found");
    // Tenant A asked about tenant B's user: an unknown subject, denied.
    let unknown = evaluate_raw(
        &app,
        &a,
        &key_a,
        req(&bea, "orders:read", "orders", "o-1", json!({})),
        true,
    )
    .await;
    let v = unknown.expect(200).clone();
    assert_eq!(v["decision"], false);
    assert_eq!(v["context"]["reason"], "unknown_subject");
    send(
        &app,
        Method::GET,
        &format!("/t/{a}/access/v1/subjects/{bea}/permissions"),
        &key_a,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    // A resource naming tenant B's unit is outside every unit of tenant A.
    let unit_a = super::unit(&app, &a, "A store", None).await;
    let unit_b = super::unit(&app, &b, "B store", None).await;
    grant(&app, &a, &bob_a, "clerk", &format!("unit:{unit_a}")).await;
    grant(&app, &b, &bea, "clerk", &format!("unit:{unit_b}")).await;
    for (u, decision, reason) in [
        (&unit_a, true, "allowed_by_role"),
        (&unit_b, false, "out_of_scope"),
    ] {
        assert_decision(
            decide(
                &app,
                &a,
                &key_a,
                req(&bob_a, "orders:read", "orders", "o-1", json!({"unit": u})),
            )
            .await,
            decision,
            reason,
        );
    }
    // Granting tenant B's user a role through tenant A's API: no such user.
    let star_a = super::star(&app, &a).await;
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{a}/users/{bea}/roles/clerk"),
        &star_a,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{a}/templates/desk/users/{bea}"),
        &star_a,
        None,
    )
    .await
    .expect_problem(404, "not_found");
    // Tenant A cannot grant a role scoped to tenant B's unit, nor to a unit that does not
    // exist.
    let r = send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{a}/users/{ann}/roles/clerk?scope=unit:{unit_b}"),
        &star_a,
        None,
    )
    .await;
    invalid(&r, "unknown_unit");
    let ghost = "0190a5b0-0000-7000-8000-000000000001";
    let r = send(
        &app,
        Method::PUT,
        &format!("/api/v1/tenants/{a}/users/{ann}/roles/clerk?scope=unit:{ghost}"),
        &star_a,
        None,
    )
    .await;
    invalid(&r, "unknown_unit");
    let roles_b = app
        .get(&format!("/api/v1/tenants/{b}/users/{bea}/roles"))
        .await;
    let assignments = roles_b.expect(200)["assignments"].as_array().unwrap().len();
    assert_eq!(
        assignments, 2,
        "tenant B's user holds what tenant B granted"
    );
    // Tenant B's admin token is worthless on tenant A's API.
    let (token_b, _) =
        super::user_with_role(&app, &b, "boss@example.com", Some(("admin", "tenant"))).await;
    send(
        &app,
        Method::GET,
        &format!("/api/v1/tenants/{a}/roles"),
        &token_b,
        None,
    )
    .await
    .expect_problem(401, "unauthenticated");
}
