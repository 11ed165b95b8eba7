//! Simulation: a proposed change (policies, role, template, assignment) replayed against
//! given requests or the decision log, reporting the requests that flip, with the reasons
//! before and after, and saving nothing.

use super::{
    assert_decision, custom_role, decide, grant, invalid, register_orders, req, send, subject,
    template, template_to_role,
};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_testkit::{Answer, TestApp};

const NO_BIG_REFUNDS: &str = r#"@id("no-big-refunds")
forbid(principal, action == Action::"orders:refund", resource)
when { resource has amount && resource.amount > 1000 };"#;

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

fn refund(who: &str, amount: i64) -> Value {
    req(
        who,
        "orders:refund",
        "orders",
        "o-1",
        json!({"amount": amount}),
    )
}

async fn simulate(app: &TestApp, t: &str, body: Value) -> Answer {
    app.post(&format!("/api/v1/tenants/{t}/policies/simulate"), body)
        .await
}

/// `(index, before decision, before reason, after decision, after reason)` of each change.
fn flips(v: &Value) -> Vec<(u64, bool, String, bool, String)> {
    v["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["index"].as_u64().unwrap(),
                c["before"]["decision"].as_bool().unwrap(),
                c["before"]["reason"].as_str().unwrap().to_owned(),
                c["after"]["decision"].as_bool().unwrap(),
                c["after"]["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn flip(i: u64, b: bool, br: &str, a: bool, ar: &str) -> (u64, bool, String, bool, String) {
    (i, b, br.to_owned(), a, ar.to_owned())
}

#[tokio::test]
async fn a_proposed_change_reports_the_requests_it_would_flip() {
    let app = TestApp::spawn().await;
    let (t, key, ann, bob) = shop(&app).await;
    let requests = json!([
        refund(&ann, 5000),
        refund(&ann, 50),
        req(&bob, "orders:read", "orders", "o-2", json!({})),
        req(&bob, "users:read", "users", &ann, json!({})),
    ]);

    // A forbid: the big refund flips, nothing is saved.
    let a = simulate(
        &app,
        &t,
        json!({"change": {"policies": NO_BIG_REFUNDS}, "requests": requests}),
    )
    .await;
    let v = a.expect(200).clone();
    assert_eq!(v["evaluated"], 4);
    assert_eq!(
        flips(&v),
        [flip(
            0,
            true,
            "allowed_by_role",
            false,
            "forbidden_by_policy"
        )]
    );
    assert_eq!(
        v["changed"][0]["request"]["resource"]["properties"]["amount"],
        5000
    );
    let versions = app.get(&format!("/api/v1/tenants/{t}/policies")).await;
    assert_eq!(versions.expect(200)["versions"], json!([]));
    assert_decision(
        decide(&app, &t, &key, refund(&ann, 5000)).await,
        true,
        "allowed_by_role",
    );

    // An assignment: granting clerk to bob flips his read.
    let a = simulate(
        &app,
        &t,
        json!({"change": {"assignment": {"user_id": bob, "role": "clerk", "grant": true}}, "requests": requests}),
    )
    .await;
    assert_eq!(
        flips(a.expect(200)),
        [flip(2, false, "no_permission", true, "allowed_by_role")]
    );
    assert_eq!(
        app.get(&format!("/api/v1/tenants/{t}/users/{bob}/roles"))
            .await
            .expect(200)["roles"],
        json!([])
    );
    // Revoking ann's clerk flips both refunds.
    let a = simulate(
        &app,
        &t,
        json!({"change": {"assignment": {"user_id": ann, "role": "clerk", "scope": "tenant", "grant": false}}, "requests": requests}),
    )
    .await;
    assert_eq!(
        flips(a.expect(200)),
        [
            flip(0, true, "allowed_by_role", false, "no_permission"),
            flip(1, true, "allowed_by_role", false, "no_permission"),
        ]
    );
    // A template without refunds; a role re-parented under employee (no change here).
    let a = simulate(
        &app,
        &t,
        json!({"change": {"template": {"key": "desk", "permissions": ["orders:read"]}}, "requests": requests}),
    )
    .await;
    assert_eq!(flips(a.expect(200)).len(), 2);
    let a = simulate(
        &app,
        &t,
        json!({"change": {"role": {"key": "clerk", "priority": 50, "parent": "employee"}}, "requests": requests}),
    )
    .await;
    assert_eq!(
        flips(a.expect(200)),
        Vec::<(u64, bool, String, bool, String)>::new()
    );
    let tpl = app
        .get(&format!("/api/v1/tenants/{t}/templates/desk"))
        .await;
    assert_eq!(
        tpl.expect(200)["permissions"],
        json!(["orders:read", "orders:refund"])
    );

    // Invalid proposals: 422, nothing saved.
    let broken = simulate(
        &app,
        &t,
        json!({"change": {"policies": "forbid(principal, action, resource"}, "requests": requests}),
    )
    .await;
    invalid(&broken, "invalid_policy");
    let unknown = simulate(
        &app,
        &t,
        json!({"change": {"policies": "forbid(principal, action, resource) when { resource.colour == 1 };"}, "requests": requests}),
    )
    .await;
    invalid(&unknown, "invalid_policy");
    invalid(
        &simulate(
            &app,
            &t,
            json!({"change": {"policies": "", "template": {"key": "desk", "permissions": []}}, "requests": requests}),
        )
        .await,
        "one_change",
    );
    invalid(
        &simulate(&app, &t, json!({"change": {}, "requests": requests})).await,
        "one_change",
    );
    invalid(
        &simulate(
            &app,
            &t,
            json!({"change": {"template": {"key": "desk", "permissions": ["Bad"]}}, "requests": requests}),
        )
        .await,
        "invalid_permission",
    );
    invalid(
        &simulate(
            &app,
            &t,
            json!({"change": {"policies": ""}, "requests": [req(&bob, "orders:*", "orders", "o", json!({}))]}),
        )
        .await,
        "invalid_action",
    );
    simulate(
        &app,
        &t,
        json!({"change": {"policies": ""}, "requests": requests, "extra": 1}),
    )
    .await
    .expect_problem(422, "invalid_body");
    let versions = app.get(&format!("/api/v1/tenants/{t}/policies")).await;
    assert_eq!(versions.expect(200)["versions"], json!([]));
    // A subject of nobody is skipped, not an error.
    let a = simulate(
        &app,
        &t,
        json!({"change": {"policies": NO_BIG_REFUNDS}, "requests": [refund("0190a5b0-0000-7000-8000-000000000001", 5000)]}),
    )
    .await;
    assert_eq!(a.expect(200)["evaluated"], 0);
    // Simulating needs `access:simulate`.
    send(
        &app,
        Method::POST,
        &format!("/api/v1/tenants/{t}/policies/simulate"),
        &key,
        Some(json!({"change": {"policies": NO_BIG_REFUNDS}, "requests": requests})),
    )
    .await
    .expect_problem(403, "forbidden");
    let simulator = app.key(&t, &["access:simulate"]).await;
    send(
        &app,
        Method::POST,
        &format!("/api/v1/tenants/{t}/policies/simulate"),
        &simulator,
        Some(json!({"change": {"policies": NO_BIG_REFUNDS}, "requests": requests})),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn the_decision_log_feeds_the_simulation() {
    let app = TestApp::spawn().await;
    let (t, key, ann, bob) = shop(&app).await;
    // Nothing is logged at rate 0; an out-of-range rate is refused.
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"authz": {"decision_log_rate": 0}}}),
    )
    .await
    .expect(200);
    decide(&app, &t, &key, refund(&ann, 5000)).await;
    let log = app.get(&format!("/api/v1/tenants/{t}/decisions")).await;
    assert_eq!(log.expect(200)["decisions"], json!([]));
    invalid(
        &app.patch(
            &format!("/api/v1/tenants/{t}"),
            json!({"settings": {"authz": {"decision_log_rate": 2}}}),
        )
        .await,
        "out_of_range",
    );
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"authz": {"decision_log_rate": 1}}}),
    )
    .await
    .expect(200);
    for body in [refund(&ann, 5000), refund(&ann, 20), refund(&bob, 5000)] {
        decide(&app, &t, &key, body).await;
    }
    send(
        &app,
        Method::POST,
        &format!("/t/{t}/access/v1/evaluations"),
        &key,
        Some(json!({"evaluations": [refund(&ann, 7000), refund(&bob, 1)]})),
    )
    .await
    .expect(200);
    let log = app.get(&format!("/api/v1/tenants/{t}/decisions")).await;
    let entries = log.expect(200)["decisions"].as_array().unwrap().clone();
    assert_eq!(entries.len(), 5, "{entries:?}");
    let mut outcomes: Vec<(bool, String)> = entries
        .iter()
        .map(|e| {
            (
                e["decision"].as_bool().unwrap(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    outcomes.sort();
    assert_eq!(
        outcomes,
        [
            (false, "no_permission".to_owned()),
            (false, "no_permission".to_owned()),
            (true, "allowed_by_role".to_owned()),
            (true, "allowed_by_role".to_owned()),
            (true, "allowed_by_role".to_owned()),
        ]
    );
    assert!(
        entries
            .iter()
            .all(|e| e["request"]["subject"]["type"] == "user")
    );
    let limited = app
        .get(&format!("/api/v1/tenants/{t}/decisions?limit=2"))
        .await;
    assert_eq!(
        limited.expect(200)["decisions"].as_array().unwrap().len(),
        2
    );

    // Replaying the log against a forbid: the two big refunds by ann flip.
    let a = simulate(
        &app,
        &t,
        json!({"change": {"policies": NO_BIG_REFUNDS}, "recent": 50}),
    )
    .await;
    let v = a.expect(200).clone();
    assert_eq!(v["evaluated"], 5);
    let changed = flips(&v);
    assert_eq!(changed.len(), 2, "{v}");
    for c in &changed {
        assert_eq!(
            (c.1, c.2.as_str(), c.3, c.4.as_str()),
            (true, "allowed_by_role", false, "forbidden_by_policy")
        );
    }
    let mut amounts: Vec<i64> = v["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            c["request"]["resource"]["properties"]["amount"]
                .as_i64()
                .unwrap()
        })
        .collect();
    amounts.sort();
    assert_eq!(amounts, [5000, 7000]);
    // `recent` counts from the newest.
    let a = simulate(
        &app,
        &t,
        json!({"change": {"policies": NO_BIG_REFUNDS}, "recent": 1}),
    )
    .await;
    assert_eq!(a.expect(200)["evaluated"], 1);
}
