//! Authorization over HTTP: roles with priorities and parents, templates with menus and the
//! resource types that register permissions, scoped assignments and data filters, Cedar
//! policies, the AuthZEN check API, escalation attempts, simulation and the audit trail.
//!
//! Every change must be effective on the very next request: no test sleeps.

use super::mfa::{call, claims};
use super::native_auth::{login, registered};
use reqwest::Method;
use serde_json::{Value, json};
use tessera_domain::ports::Totp;
use tessera_testkit::{Answer, TestApp};

mod escalation;
mod evaluation;
mod policies;
mod roles;
mod scopes;
mod simulation;
mod templates;

const PW: &str = "correct horse battery staple";

/// A key of `t` holding `*` (priority above every role).
pub(crate) async fn star(app: &TestApp, t: &str) -> String {
    app.key(t, &["*"]).await
}

/// Sends `method path` with `key` (an API key or a user's access token).
pub(crate) async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> Answer {
    app.send(method, path, Some(key), body).await
}

/// An active user created through the admin API: its id.
pub(crate) async fn subject(app: &TestApp, t: &str, name: &str) -> String {
    let u = app
        .user(
            t,
            json!({"username": name, "emails": [{"address": format!("{name}@example.com"), "verified": true}]}),
        )
        .await;
    assert_eq!(u["state"], "active");
    u["id"].as_str().unwrap().to_owned()
}

/// An organization unit (under `parent`): its id.
pub(crate) async fn unit(app: &TestApp, t: &str, name: &str, parent: Option<&str>) -> String {
    let mut body = json!({"name": name, "kind": "store"});
    if let Some(p) = parent {
        body["parent_id"] = json!(p);
    }
    app.post(&format!("/api/v1/tenants/{t}/org-units"), body)
        .await
        .expect(201)["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Assigns `user` to the unit as an employee.
pub(crate) async fn employ(app: &TestApp, t: &str, unit: &str, user: &str) {
    app.post(
        &format!("/api/v1/tenants/{t}/org-units/{unit}/employees"),
        json!({"user_id": user}),
    )
    .await
    .expect(201);
}

/// Grants `role` to `user` in `scope` (`tenant`, `self`, `unit:<id>`) with a `*` key.
pub(crate) async fn grant(app: &TestApp, t: &str, user: &str, role: &str, scope: &str) {
    let key = star(app, t).await;
    send(
        app,
        Method::PUT,
        &format!("/api/v1/tenants/{t}/users/{user}/roles/{role}?scope={scope}"),
        &key,
        None,
    )
    .await
    .expect(204);
}

/// Registers the resource type `orders` (actions read, refund; attributes amount, unit).
pub(crate) async fn register_orders(app: &TestApp, t: &str) {
    let a = app
        .send(
            Method::PUT,
            &format!("/api/v1/tenants/{t}/resource-types/orders"),
            Some(&app.operator_key),
            Some(json!({
                "description": "Orders of the shop",
                "actions": {"read": "see an order", "refund": "refund an order"},
                "attributes": {"amount": "long", "unit": "org_unit"}
            })),
        )
        .await;
    assert_eq!(a.expect(200)["name"], "orders");
}

/// Creates (or replaces) template `key` holding `permissions`.
pub(crate) async fn template(app: &TestApp, t: &str, key: &str, permissions: &[&str]) {
    let a = app
        .send(
            Method::PUT,
            &format!("/api/v1/tenants/{t}/templates/{key}"),
            Some(&app.operator_key),
            Some(json!({"name": key, "permissions": permissions})),
        )
        .await;
    assert!(
        a.status.as_u16() == 201 || a.status.as_u16() == 200,
        "{}",
        a.text
    );
}

/// Creates custom role `key` (priority, parent) with the operator key.
pub(crate) async fn custom_role(
    app: &TestApp,
    t: &str,
    key: &str,
    priority: u32,
    parent: Option<&str>,
) -> Value {
    app.post(
        &format!("/api/v1/tenants/{t}/roles"),
        json!({"key": key, "name": key, "priority": priority, "parent": parent}),
    )
    .await
    .expect(201)
    .clone()
}

/// Grants template `key` to role `role` with the operator key.
pub(crate) async fn template_to_role(app: &TestApp, t: &str, key: &str, role: &str) {
    app.send(
        Method::PUT,
        &format!("/api/v1/tenants/{t}/templates/{key}/roles/{role}"),
        Some(&app.operator_key),
        None,
    )
    .await
    .expect(204);
}

/// One AuthZEN evaluation body.
pub(crate) fn req(subject: &str, action: &str, kind: &str, id: &str, props: Value) -> Value {
    json!({
        "subject": {"type": "user", "id": subject},
        "action": {"name": action},
        "resource": {"type": kind, "id": id, "properties": props},
    })
}

/// `POST /t/{t}/access/v1/evaluation[?explain=true]` with `key`.
pub(crate) async fn evaluate_raw(
    app: &TestApp,
    t: &str,
    key: &str,
    body: Value,
    explain: bool,
) -> Answer {
    let q = if explain { "?explain=true" } else { "" };
    send(
        app,
        Method::POST,
        &format!("/t/{t}/access/v1/evaluation{q}"),
        key,
        Some(body),
    )
    .await
}

/// One evaluation that must succeed: (decision, reason, whole answer).
pub(crate) async fn decide(app: &TestApp, t: &str, key: &str, body: Value) -> (bool, String) {
    let a = evaluate_raw(app, t, key, body, false).await;
    let v = a.expect(200);
    (
        v["decision"].as_bool().unwrap(),
        v["context"]["reason"].as_str().unwrap().to_owned(),
    )
}

/// Asserts a decision and its reason.
#[track_caller]
pub(crate) fn assert_decision(got: (bool, String), decision: bool, reason: &str) {
    assert_eq!(got, (decision, reason.to_owned()));
}

/// A 422 whose first error has `code` (and, when given, `field`).
#[track_caller]
pub(crate) fn invalid(a: &Answer, code: &str) -> Value {
    let body = a.expect_problem(422, "validation_failed").clone();
    assert_eq!(body["errors"][0]["code"], code, "{}", a.text);
    body
}

/// The tenant's audit events `(action, outcome)` for `query` (for example `action=role.granted`).
pub(crate) async fn audit(app: &TestApp, t: &str, query: &str) -> Vec<(String, String)> {
    let a = app
        .get(&format!("/api/v1/tenants/{t}/audit?limit=500&{query}"))
        .await;
    a.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn base32_decode(s: &str) -> Vec<u8> {
    let (mut out, mut buf, mut bits) = (Vec::new(), 0u32, 0);
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => panic!("not base32: {s}"),
        };
        buf = (buf << 5) | u32::from(v);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

/// A signed-in user holding `role` in `scope`: (access token, user id). Holders of an
/// administrative role (Owner and up) enrol TOTP at their next sign-in, as they must.
pub(crate) async fn user_with_role(
    app: &TestApp,
    t: &str,
    email: &str,
    role: Option<(&str, &str)>,
) -> (String, String) {
    registered(app, t, email, PW).await;
    let first = login(app, t, email, PW).await;
    let id = first.expect(200)["user_id"].as_str().unwrap().to_owned();
    let Some((role, scope)) = role else {
        return (first.json["access_token"].as_str().unwrap().to_owned(), id);
    };
    grant(app, t, &id, role, scope).await;
    let a = login(app, t, email, PW).await;
    let body = a.expect(200).clone();
    if body["status"] == "signed_in" {
        return (body["access_token"].as_str().unwrap().to_owned(), id);
    }
    assert_eq!(body["status"], "mfa_enrolment_required", "{}", a.text);
    let mfa = body["mfa_token"].as_str().unwrap();
    let start = call(
        app,
        Method::POST,
        &format!("/t/{t}/api/v1/me/mfa/totp"),
        &[("x-mfa-token", mfa)],
        None,
    )
    .await;
    let secret = base32_decode(start.expect(200)["secret"].as_str().unwrap());
    let step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30;
    let code = tessera_crypto::Rfc6238Totp.code(&secret, step);
    let done = call(
        app,
        Method::POST,
        &format!("/t/{t}/api/v1/me/mfa/totp/confirm"),
        &[("x-mfa-token", mfa)],
        Some(json!({"code": code})),
    )
    .await;
    let token = done.expect(200)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(claims(&token)["acr"], "urn:tessera:acr:mfa");
    (token, id)
}
