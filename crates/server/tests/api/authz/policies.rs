//! Cedar policies: refused unless they parse and validate against the tenant's schema (and
//! then nothing is saved), every version kept; a `forbid` overrides a role, a conditional
//! `permit` grants a registered resource type to a user without the role, never a built-in
//! resource.

use super::{
    assert_decision, custom_role, decide, evaluate_raw, grant, invalid, register_orders, req, send,
    subject, template, template_to_role,
};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_testkit::{Answer, TestApp};

const NO_BIG_REFUNDS: &str = r#"@id("no-big-refunds")
forbid(principal, action == Action::"orders:refund", resource)
when { resource has amount && resource.amount > 1000 };"#;

const SMALL_READS: &str = r#"@id("small-reads")
permit(principal, action == Action::"orders:read", resource)
when { resource has amount && resource.amount < 100 };"#;

async fn save(app: &TestApp, t: &str, text: &str, expected: Option<i64>) -> Answer {
    app.post(
        &format!("/api/v1/tenants/{t}/policies"),
        json!({"policies": text, "comment": "test", "expected_version": expected}),
    )
    .await
}

async fn versions(app: &TestApp, t: &str) -> Vec<Value> {
    app.get(&format!("/api/v1/tenants/{t}/policies"))
        .await
        .expect(200)["versions"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn policies_are_validated_and_every_version_is_kept() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    register_orders(&app, &t).await;
    assert!(versions(&app, &t).await.is_empty());
    let v1 = save(&app, &t, NO_BIG_REFUNDS, Some(0)).await;
    let v1 = v1.expect(201).clone();
    assert_eq!(v1["version"], 1);
    assert_eq!(v1["policies"], NO_BIG_REFUNDS);
    assert!(
        v1["created_by"].as_str().unwrap().starts_with("api_key:"),
        "{v1}"
    );

    // Does not parse: 422 with Cedar's message, nothing saved.
    let broken = save(&app, &t, "permit(principal, action, resource", None).await;
    let body = invalid(&broken, "invalid_policy");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("do not parse"), "{message}");
    // Does not validate: an unknown attribute, an unknown entity type, an unknown action, a
    // template slot, an attribute read without `has` (optional in the schema).
    let refused = [
        (
            r#"forbid(principal, action == Action::"orders:refund", resource) when { resource.colour == "red" };"#,
            "colour",
        ),
        (
            r#"forbid(principal, action, resource == Invoice::"i-1");"#,
            "Invoice",
        ),
        (
            r#"permit(principal, action == Action::"orders:ship", resource);"#,
            "orders:ship",
        ),
        (
            r#"permit(principal == ?principal, action, resource);"#,
            "template",
        ),
        (
            r#"forbid(principal, action == Action::"orders:refund", resource) when { resource.amount > 5 };"#,
            "amount",
        ),
        (
            r#"forbid(principal, action == Action::"orders:refund", resource) when { context.mfa == "yes" };"#,
            "mfa",
        ),
    ];
    for (text, needle) in refused {
        let a = save(&app, &t, text, None).await;
        let body = invalid(&a, "invalid_policy");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{text}: {message}");
    }
    // Two policies with one id.
    let twice = format!("{NO_BIG_REFUNDS}\n{NO_BIG_REFUNDS}");
    invalid(&save(&app, &t, &twice, None).await, "invalid_policy");
    // A comment over 500 characters.
    let long = app
        .post(
            &format!("/api/v1/tenants/{t}/policies"),
            json!({"policies": SMALL_READS, "comment": "x".repeat(501)}),
        )
        .await;
    invalid(&long, "too_long");
    let kept = versions(&app, &t).await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["policies"], NO_BIG_REFUNDS);

    // A stale expected version is refused; the right one makes v2.
    save(&app, &t, SMALL_READS, Some(0))
        .await
        .expect_problem(412, "precondition_failed");
    let both = format!("{NO_BIG_REFUNDS}\n{SMALL_READS}");
    assert_eq!(
        save(&app, &t, &both, Some(1)).await.expect(201)["version"],
        2
    );
    let kept = versions(&app, &t).await;
    let numbers: Vec<&Value> = kept.iter().map(|v| &v["version"]).collect();
    assert_eq!(numbers, [&json!(2), &json!(1)]);
    let old = app
        .get(&format!("/api/v1/tenants/{t}/policies/versions/1"))
        .await;
    assert_eq!(old.expect(200)["policies"], NO_BIG_REFUNDS);
    app.get(&format!("/api/v1/tenants/{t}/policies/versions/9"))
        .await
        .expect_problem(404, "not_found");

    // The resource type cannot change under the policies: dropping the `refund` action or
    // the type itself would leave them invalid.
    let shrink = app
        .send(
            Method::PUT,
            &format!("/api/v1/tenants/{t}/resource-types/orders"),
            Some(&app.operator_key),
            Some(json!({"actions": {"read": ""}, "attributes": {"amount": "long"}})),
        )
        .await;
    let body = invalid(&shrink, "invalid_policy");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("orders:refund"),
        "{body}"
    );
    invalid(
        &app.delete(&format!("/api/v1/tenants/{t}/resource-types/orders"))
            .await,
        "invalid_policy",
    );
    let types = app
        .get(&format!("/api/v1/tenants/{t}/resource-types"))
        .await;
    assert_eq!(
        types.expect(200)["resource_types"][0]["actions"]
            .as_object()
            .unwrap()
            .len(),
        2
    );
    // An empty text switches the policies off (a version too).
    assert_eq!(save(&app, &t, "", Some(2)).await.expect(201)["version"], 3);
}

/// A tenant with `orders`, a `clerk` role holding `desk` (read, refund), and two users:
/// `ann` holds clerk, `bob` holds nothing. Returns (tenant, evaluation key, ann, bob).
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

fn refund(who: &str, amount: Option<i64>) -> Value {
    let props = amount.map_or(json!({}), |a| json!({"amount": a}));
    req(who, "orders:refund", "orders", "o-1", props)
}

#[tokio::test]
async fn a_forbid_overrides_a_role() {
    let app = TestApp::spawn().await;
    let (t, key, ann, _) = shop(&app).await;
    assert_decision(
        decide(&app, &t, &key, refund(&ann, Some(5000))).await,
        true,
        "allowed_by_role",
    );
    save(&app, &t, NO_BIG_REFUNDS, None).await.expect(201);
    // Effective on the next request.
    let big = evaluate_raw(&app, &t, &key, refund(&ann, Some(5000)), true).await;
    let v = big.expect(200).clone();
    assert_eq!(v["decision"], false);
    assert_eq!(v["context"]["reason"], "forbidden_by_policy");
    let e = &v["context"]["explanation"];
    assert_eq!(e["policies"], json!(["no-big-refunds"]));
    assert_eq!(e["roles"], json!(["clerk"]));
    assert_eq!(e["templates"], json!(["desk"]));
    assert!(
        v["context"]["message"]
            .as_str()
            .unwrap()
            .contains("no-big-refunds")
    );
    for amount in [Some(1000), Some(5), None] {
        assert_decision(
            decide(&app, &t, &key, refund(&ann, amount)).await,
            true,
            "allowed_by_role",
        );
    }
    // Without explain, no explanation.
    let plain = evaluate_raw(&app, &t, &key, refund(&ann, Some(5000)), false).await;
    assert!(plain.expect(200)["context"].get("explanation").is_none());
    // A forbid on the context: refunds need MFA in the context.
    let mfa = r#"@id("refunds-need-mfa")
forbid(principal, action == Action::"orders:refund", resource)
unless { context has mfa && context.mfa };"#;
    save(&app, &t, mfa, None).await.expect(201);
    assert_decision(
        decide(&app, &t, &key, refund(&ann, Some(5))).await,
        false,
        "forbidden_by_policy",
    );
    let mut with_mfa = refund(&ann, Some(5));
    with_mfa["context"] = json!({"mfa": true, "ip": "198.51.100.7", "other": {"ignored": [1, 2]}});
    assert_decision(
        decide(&app, &t, &key, with_mfa.clone()).await,
        true,
        "allowed_by_role",
    );
    // A context value of the wrong type is the caller's error, not a decision.
    with_mfa["context"] = json!({"mfa": "yes"});
    let wrong = evaluate_raw(&app, &t, &key, with_mfa.clone(), false).await;
    let body = invalid(&wrong, "invalid_request");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("mfa")
    );
    with_mfa["context"] = json!({"mfa": true, "now": "today"});
    invalid(
        &evaluate_raw(&app, &t, &key, with_mfa, false).await,
        "invalid_request",
    );
    // So is a declared property of the wrong type.
    let mut bad_amount = refund(&ann, None);
    bad_amount["resource"]["properties"] = json!({"amount": "lots"});
    invalid(
        &evaluate_raw(&app, &t, &key, bad_amount.clone(), false).await,
        "invalid_request",
    );
    bad_amount["resource"]["properties"] = json!({"amount": 1.5});
    invalid(
        &evaluate_raw(&app, &t, &key, bad_amount, false).await,
        "invalid_request",
    );
}

#[tokio::test]
async fn a_permit_grants_registered_types_only_to_users_without_the_role() {
    let app = TestApp::spawn().await;
    let (t, key, ann, bob) = shop(&app).await;
    let read = |who: &str, amount: i64| {
        req(
            who,
            "orders:read",
            "orders",
            "o-2",
            json!({"amount": amount}),
        )
    };
    assert_decision(
        decide(&app, &t, &key, read(&bob, 50)).await,
        false,
        "no_permission",
    );
    let everyone_reads_users = r#"@id("everyone-reads-users")
permit(principal, action == Action::"users:read", resource);"#;
    let text = format!("{SMALL_READS}\n{everyone_reads_users}");
    save(&app, &t, &text, None).await.expect(201);
    let small = evaluate_raw(&app, &t, &key, read(&bob, 50), true).await;
    let v = small.expect(200).clone();
    assert_eq!(v["decision"], true);
    assert_eq!(v["context"]["reason"], "allowed_by_policy");
    assert_eq!(
        v["context"]["explanation"]["policies"],
        json!(["small-reads"])
    );
    assert_eq!(v["context"]["explanation"]["roles"], json!([]));
    assert_decision(
        decide(&app, &t, &key, read(&bob, 500)).await,
        false,
        "no_permission",
    );
    // The role holder is still allowed by the role, whatever the amount.
    assert_decision(
        decide(&app, &t, &key, read(&ann, 500)).await,
        true,
        "allowed_by_role",
    );
    // A permit never grants one of Tessera's own resources.
    assert_decision(
        decide(
            &app,
            &t,
            &key,
            req(&bob, "users:read", "users", &ann, json!({})),
        )
        .await,
        false,
        "no_permission",
    );
    // Nor does it help a suspended user.
    app.post(
        &format!("/api/v1/tenants/{t}/users/{bob}/state"),
        json!({"state": "suspended"}),
    )
    .await
    .expect(200);
    assert_decision(
        decide(&app, &t, &key, read(&bob, 50)).await,
        false,
        "subject_inactive",
    );
    // Policies need `policies:write`; reading them `policies:read`.
    let reader = app.key(&t, &["policies:read"]).await;
    send(
        &app,
        Method::POST,
        &format!("/api/v1/tenants/{t}/policies"),
        &reader,
        Some(json!({"policies": ""})),
    )
    .await
    .expect_problem(403, "forbidden");
    let list = send(
        &app,
        Method::GET,
        &format!("/api/v1/tenants/{t}/policies"),
        &reader,
        None,
    )
    .await;
    assert_eq!(list.expect(200)["versions"].as_array().unwrap().len(), 1);
    send(
        &app,
        Method::GET,
        &format!("/api/v1/tenants/{t}/policies"),
        &key,
        None,
    )
    .await
    .expect_problem(403, "forbidden");
}

/// Deeply nested policies must be refused (422) without harm. Unbounded, Cedar's parser overflows
/// the stack on about 150 nested parentheses (a 350-byte text; a few hundred nested sets or
/// records do the same), which aborts the whole server process, and past a few hundred chained
/// member accesses Cedar's validator stops at its recursion limit without an error, so a policy
/// that does not validate is saved. The policy text is now bounded before it reaches Cedar
/// (`tessera_authz` `shape.rs`: nesting, `if` depth, access chains, operators per policy).
#[tokio::test]
async fn deeply_nested_policies_are_refused_without_harm() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let n = 2_000;
    let bodies = [
        // Unknown attributes, past the validator's recursion limit: must not validate.
        format!("context{} == 1", ".a".repeat(n)),
        format!("[1]{} == 1", ".contains(1)".repeat(n)),
        // Nesting that overflows the parser's stack.
        format!("{}true{}", "(".repeat(n), ")".repeat(n)),
        format!("{}1{} == 1", "[".repeat(n), "]".repeat(n)),
        format!("{}1{} == 1", "{a: ".repeat(n), "}".repeat(n)),
        format!(
            "{}true{}",
            "if true then ".repeat(n),
            " else false".repeat(n)
        ),
        format!("1{} == 1", " + 1".repeat(50 * n)),
    ];
    for body in bodies {
        let text = format!("forbid(principal, action, resource) when {{ {body} }};");
        let a = save(&app, &t, &text, None).await;
        assert_eq!(
            a.status.as_u16(),
            422,
            "{}",
            &a.text[..a.text.len().min(300)]
        );
        // The same text proposed to the simulation.
        let sim = app
            .post(
                &format!("/api/v1/tenants/{t}/policies/simulate"),
                json!({"change": {"policies": text}, "requests": []}),
            )
            .await;
        assert_eq!(
            sim.status.as_u16(),
            422,
            "{}",
            &sim.text[..sim.text.len().min(300)]
        );
    }
    assert!(versions(&app, &t).await.is_empty());
}
