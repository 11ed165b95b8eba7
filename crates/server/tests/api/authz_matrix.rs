//! The authorization matrix, generated from the router: every operation of the admin API (as
//! listed by the OpenAPI document the server serves) × every system role and a custom role
//! without templates, each held tenant-wide by a signed-in user calling with their access
//! token. Wherever the role lacks the operation's permission the answer is exactly 403;
//! wherever it holds it, it is neither 403 nor 5xx; nobody ever gets a 5xx.
//!
//! New routes are covered automatically: an operation missing from [`REQUIRED`] fails the
//! test, naming the line to add. Each role's calls act on records of their own (a user, a
//! customer, a unit, a key, a custom role, a template, a resource type), with bodies the
//! handlers accept, so that the answer is the use case's authorization decision. The tenant
//! registry (`/api/v1/tenants`, `/api/v1/tenants/{t}`) refuses every user token.

use super::mfa::call;
use super::native_auth::{login, registered};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tessera_domain::ports::Totp;
use tessera_testkit::{Answer, TestApp};

const PW: &str = "correct horse battery staple";

/// The permission each operation requires, read from the `authorize` / `authorize_scoped`
/// call of its use case in `crates/application/src`. Paths are the OpenAPI templates, relative
/// to `/api/v1/tenants/{t}` unless they start with `/t/{t}/` (the check API).
const REQUIRED: &[(&str, &str, &str)] = &[
    // users.rs, customers.rs, auth/{import,sessions,passwords,history}.rs
    ("GET", "/users", "users:read"),
    ("POST", "/users", "users:write"),
    ("POST", "/users/bulk", "users:write"),
    ("POST", "/users/import", "users:write"),
    ("GET", "/users/{id}", "users:read"),
    ("PATCH", "/users/{id}", "users:write"),
    ("DELETE", "/users/{id}", "users:write"),
    ("POST", "/users/{id}/state", "users:write"),
    ("POST", "/users/{id}/restore", "users:write"),
    ("POST", "/users/{id}/erase", "users:write"),
    ("GET", "/users/{id}/settings", "users:read"),
    ("PATCH", "/users/{id}/settings", "users:write"),
    ("GET", "/users/{id}/sessions", "users:read"),
    ("DELETE", "/users/{id}/sessions", "users:write"),
    ("DELETE", "/users/{id}/sessions/{session_id}", "users:write"),
    ("POST", "/users/{id}/password", "users:write"),
    ("GET", "/users/{id}/login-history", "audit:read"),
    ("GET", "/customers", "users:read"),
    ("POST", "/customers", "users:write"),
    ("GET", "/customers/{id}", "users:read"),
    ("POST", "/customers/{id}/promote", "users:write"),
    // org_units.rs
    ("GET", "/users/{id}/org-units", "org_units:read"),
    ("GET", "/org-units", "org_units:read"),
    ("POST", "/org-units", "org_units:write"),
    ("GET", "/org-units/{id}", "org_units:read"),
    ("PATCH", "/org-units/{id}", "org_units:write"),
    ("DELETE", "/org-units/{id}", "org_units:write"),
    ("GET", "/org-units/{id}/employees", "org_units:read"),
    ("POST", "/org-units/{id}/employees", "org_units:write"),
    (
        "DELETE",
        "/org-units/{id}/employees/{user_id}",
        "org_units:write",
    ),
    // api_keys.rs, audit.rs, auth/keyring.rs
    ("GET", "/api-keys", "api_keys:manage"),
    ("POST", "/api-keys", "api_keys:manage"),
    ("DELETE", "/api-keys/{id}", "api_keys:manage"),
    ("GET", "/audit", "audit:read"),
    ("GET", "/audit/export", "audit:read"),
    ("GET", "/signing-keys", "tenants:read"),
    ("POST", "/signing-keys/rotate", "tenants:write"),
    // authz/roles.rs
    ("GET", "/roles", "roles:read"),
    ("POST", "/roles", "roles:write"),
    ("GET", "/roles/{role}", "roles:read"),
    ("PATCH", "/roles/{role}", "roles:write"),
    ("DELETE", "/roles/{role}", "roles:write"),
    ("GET", "/users/{id}/roles", "roles:read"),
    ("PUT", "/users/{id}/roles/{role}", "roles:grant"),
    ("DELETE", "/users/{id}/roles/{role}", "roles:grant"),
    // authz/templates.rs
    ("GET", "/permissions", "roles:read"),
    ("GET", "/resource-types", "roles:read"),
    ("PUT", "/resource-types/{name}", "roles:write"),
    ("DELETE", "/resource-types/{name}", "roles:write"),
    ("GET", "/templates", "roles:read"),
    ("GET", "/templates/{key}", "roles:read"),
    ("PUT", "/templates/{key}", "roles:write"),
    ("DELETE", "/templates/{key}", "roles:write"),
    ("PUT", "/templates/{key}/roles/{role}", "roles:grant"),
    ("DELETE", "/templates/{key}/roles/{role}", "roles:grant"),
    ("PUT", "/templates/{key}/users/{id}", "roles:grant"),
    ("DELETE", "/templates/{key}/users/{id}", "roles:grant"),
    // authz/{policies,simulate}.rs
    ("GET", "/policies", "policies:read"),
    ("POST", "/policies", "policies:write"),
    ("GET", "/policies/versions/{version}", "policies:read"),
    ("GET", "/policies/schema", "policies:read"),
    ("POST", "/policies/simulate", "access:simulate"),
    ("GET", "/decisions", "policies:read"),
    // authz/evaluate.rs: the check API
    ("POST", "/t/{t}/access/v1/evaluation", "access:evaluate"),
    ("POST", "/t/{t}/access/v1/evaluations", "access:evaluate"),
    (
        "GET",
        "/t/{t}/access/v1/subjects/{id}/permissions",
        "access:evaluate",
    ),
];

/// The tenant registry: only operator API keys manage it, never a tenant's user.
const PLATFORM: &[(&str, &str)] = &[
    ("GET", "/api/v1/tenants"),
    ("POST", "/api/v1/tenants"),
    ("GET", "/api/v1/tenants/{t}"),
    ("PATCH", "/api/v1/tenants/{t}"),
    ("POST", "/api/v1/tenants/{t}/disable"),
    ("POST", "/api/v1/tenants/{t}/enable"),
];

/// The permissions built into each system role (`crates/authz/src/catalogue.rs`), checked
/// against what `GET /roles` reports, and a custom role without templates.
const ROLES: &[(&str, &[&str])] = &[
    ("super_admin", &["*"]),
    ("admin", &["*"]),
    (
        "operator",
        &[
            "users:read",
            "org_units:read",
            "audit:read",
            "roles:read",
            "policies:read",
        ],
    ),
    (
        "owner",
        &[
            "users:write",
            "org_units:write",
            "roles:read",
            "roles:grant",
            "audit:read",
        ],
    ),
    ("cashier", &["users:read", "org_units:read"]),
    ("employee", &["users:read", "org_units:read"]),
    ("customer", &["users:read"]),
    ("guest", &[]),
    ("no-templates", &[]),
];

/// Administrative roles: their holders must pass a second factor.
const ADMINISTRATIVE: &[&str] = &["super_admin", "admin", "operator", "owner"];

/// Whether `held` grants `wanted`: `*` everything, `r:*` every action on `r`, `r:write`
/// also `r:read`.
fn grants(held: &str, wanted: &str) -> bool {
    if held == "*" || held == wanted {
        return true;
    }
    let (Some((hr, ha)), Some((wr, wa))) = (held.split_once(':'), wanted.split_once(':')) else {
        return false;
    };
    hr == wr && (ha == "*" || (ha == "write" && wa == "read"))
}

fn holds(perms: &[&str], wanted: &str) -> bool {
    perms.iter().any(|p| grants(p, wanted))
}

/// A path as [`REQUIRED`] writes it.
fn relative(path: &str) -> &str {
    path.strip_prefix("/api/v1/tenants/{t}").unwrap_or(path)
}

fn required(method: &str, path: &str) -> Option<&'static str> {
    REQUIRED
        .iter()
        .find(|(m, p, _)| *m == method && *p == relative(path))
        .map(|(_, _, perm)| *perm)
}

/// An admin operation: under a tenant of the admin API, or the check API.
fn in_matrix(path: &str) -> bool {
    path.starts_with("/api/v1/tenants/{t}/") || path.starts_with("/t/{t}/access/")
}

/// Order of the calls within one role's run: reads, then changes, then removals (the nested
/// records first), so that the fixtures live as long as possible.
fn rank(method: &str, path: &str) -> (u8, std::cmp::Reverse<usize>) {
    let depth = std::cmp::Reverse(path.matches('/').count());
    match method {
        "GET" => (0, depth),
        "DELETE" => (2, depth),
        _ if path.ends_with("/erase") => (3, depth),
        _ => (1, depth),
    }
}

/// The records one role's calls act on (fresh for each role: the calls change them).
struct Fixtures {
    tenant: String,
    n: usize,
    victim: String,
    customer: String,
    unit: String,
    api_key: String,
    role: String,
    template: String,
    resource_type: String,
    policy_version: i64,
}

impl Fixtures {
    async fn create(app: &TestApp, t: &str, n: usize, policy_version: i64) -> Self {
        let base = format!("/api/v1/tenants/{t}");
        let victim = app
            .user(t, json!({"username": format!("victim-{n}")}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let customer = app
            .post(
                &format!("{base}/customers"),
                json!({"username": format!("customer-{n}")}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let unit = app
            .post(
                &format!("{base}/org-units"),
                json!({"name": format!("Store {n}"), "kind": "store"}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let api_key = app
            .post(
                &format!("{base}/api-keys"),
                json!({"name": format!("key-{n}"), "scopes": ["users:read"]}),
            )
            .await
            .expect(201)["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let role = format!("scratch-{n}");
        app.post(
            &format!("{base}/roles"),
            json!({"key": role, "name": format!("Scratch {n}"), "priority": 1}),
        )
        .await
        .expect(201);
        let template = format!("tpl-{n}");
        let put = app
            .send(
                Method::PUT,
                &format!("{base}/templates/{template}"),
                Some(&app.operator_key),
                Some(json!({"name": format!("Template {n}"), "permissions": ["users:read"]})),
            )
            .await;
        put.expect(201);
        let resource_type = format!("things_{n}");
        app.send(
            Method::PUT,
            &format!("{base}/resource-types/{resource_type}"),
            Some(&app.operator_key),
            Some(json!({"description": "things", "actions": {"read": "read things"}})),
        )
        .await
        .expect(200);
        Self {
            tenant: t.to_owned(),
            n,
            victim,
            customer,
            unit,
            api_key,
            role,
            template,
            resource_type,
            policy_version,
        }
    }

    /// The concrete path: each `{param}` replaced by a record of this run.
    fn path(&self, template: &str) -> Result<String, String> {
        let mut out = Vec::new();
        let segments: Vec<&str> = template.split('/').collect();
        for (i, seg) in segments.iter().enumerate() {
            let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) else {
                out.push((*seg).to_owned());
                continue;
            };
            let before = if i > 0 { segments[i - 1] } else { "" };
            let value = match (name, before) {
                ("t", _) => self.tenant.clone(),
                ("id", "users" | "subjects") | ("user_id", _) => self.victim.clone(),
                ("id", "customers") => self.customer.clone(),
                ("id", "org-units") => self.unit.clone(),
                ("id", "api-keys") => self.api_key.clone(),
                ("session_id", _) => uuid::Uuid::new_v4().to_string(),
                ("role", _) => self.role.clone(),
                ("key", _) => self.template.clone(),
                ("name", _) => self.resource_type.clone(),
                ("version", _) => self.policy_version.to_string(),
                _ => {
                    return Err(format!(
                        "{template}: no value for the path parameter `{name}` after `{before}`: add one to Fixtures::path"
                    ));
                }
            };
            out.push(value);
        }
        Ok(out.join("/"))
    }

    fn evaluation(&self) -> Value {
        json!({
            "subject": {"type": "user", "id": self.victim},
            "action": {"name": "users:read"},
            "resource": {"type": "users", "id": self.victim},
        })
    }

    /// A body the handler accepts as JSON (and, for the parts it checks before authorizing,
    /// as valid), so that the answer is the use case's authorization decision.
    fn body(&self, method: &str, template: &str, caller: usize) -> Option<Value> {
        let tail = template
            .trim_start_matches("/api/v1/tenants/{t}")
            .trim_start_matches("/t/{t}");
        let n = format!("{}-{caller}", self.n);
        Some(match (method, tail) {
            ("GET" | "DELETE", _) => return None,
            ("POST", "/users") => json!({"username": format!("made-{n}")}),
            ("POST", "/users/bulk") => json!({"users": [{"username": format!("bulk-{n}")}]}),
            ("POST", "/users/import") => json!({"users": [{"username": format!("imp-{n}")}]}),
            ("PATCH", "/users/{id}") => json!({"given_name": "Renamed"}),
            ("POST", "/users/{id}/state") => json!({"state": "suspended"}),
            ("PATCH", "/users/{id}/settings") => json!({"theme": "dark"}),
            ("POST", "/users/{id}/password") => json!({"password": format!("{PW} {n}")}),
            ("POST", "/customers") => json!({"username": format!("cust-{n}")}),
            ("POST", "/org-units") => json!({"name": format!("Made {n}"), "kind": "store"}),
            ("PATCH", "/org-units/{id}") => json!({"name": format!("Renamed {n}")}),
            ("POST", "/org-units/{id}/employees") => json!({"user_id": self.victim}),
            ("POST", "/api-keys") => json!({"name": format!("k-{n}"), "scopes": ["users:read"]}),
            ("POST", "/roles") => json!({
                "key": format!("made-{n}"), "name": "Made", "priority": 2
            }),
            ("PATCH", "/roles/{role}") => json!({"description": "changed"}),
            ("PUT", "/resource-types/{name}") => {
                json!({"description": "things", "actions": {"read": "read", "write": "write"}})
            }
            ("PUT", "/templates/{key}") => {
                json!({"name": "Changed", "permissions": ["users:read"]})
            }
            // Not Cedar: refused with 422 by those who may save policies; nothing is saved.
            ("POST", "/policies") => json!({"policies": "not a policy", "comment": "matrix"}),
            ("POST", "/policies/simulate") => json!({
                "change": {"policies": "permit(principal, action, resource);"},
                "requests": [self.evaluation()],
            }),
            ("POST", "/access/v1/evaluation") => self.evaluation(),
            ("POST", "/access/v1/evaluations") => json!({"evaluations": [self.evaluation()]}),
            // Bodiless operations (restore, erase, promote, rotate, grants).
            _ => return None,
        })
    }
}

/// Signs in a new user holding `role` tenant-wide (passing TOTP enrolment for administrative
/// roles) and returns the access token.
async fn token_for(app: &TestApp, t: &str, role: &str) -> String {
    let email = format!("{role}@example.com");
    registered(app, t, &email, PW).await;
    let users = app
        .get(&format!("/api/v1/tenants/{t}/users?email={email}"))
        .await;
    let id = users.expect(200)["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no user {email}: {}", users.text))
        .to_owned();
    app.send(
        Method::PUT,
        &format!("/api/v1/tenants/{t}/users/{id}/roles/{role}"),
        Some(&app.operator_key),
        None,
    )
    .await
    .expect(204);
    let first = login(app, t, &email, PW).await;
    let body = first.expect(200).clone();
    if !ADMINISTRATIVE.contains(&role) {
        assert_eq!(body["status"], "signed_in", "{role}: {}", first.text);
        return body["access_token"].as_str().unwrap().to_owned();
    }
    assert_eq!(
        body["status"], "mfa_enrolment_required",
        "{role}: {}",
        first.text
    );
    let mfa = body["mfa_token"].as_str().unwrap();
    let auth = [("x-mfa-token", mfa)];
    let start = call(
        app,
        Method::POST,
        &format!("/t/{t}/api/v1/me/mfa/totp"),
        &auth,
        None,
    )
    .await;
    let secret = base32(start.expect(200)["secret"].as_str().unwrap());
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
        &auth,
        Some(json!({"code": code})),
    )
    .await;
    done.expect(200)["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{role}: no access token after enrolment: {}", done.text))
        .to_owned()
}

fn base32(s: &str) -> Vec<u8> {
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

fn method(m: &str) -> Method {
    Method::from_bytes(m.as_bytes()).unwrap()
}

#[tokio::test]
async fn every_admin_operation_answers_403_exactly_to_the_roles_lacking_its_permission() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let base = format!("/api/v1/tenants/{t}");

    // The operations, from the router's OpenAPI document.
    let doc = app
        .send(Method::GET, "/api/v1/openapi.json", None, None)
        .await;
    let mut ops: Vec<(String, String, &'static str)> = Vec::new();
    let mut platform = Vec::new();
    let mut missing = Vec::new();
    for (path, item) in doc.expect(200)["paths"].as_object().unwrap() {
        for (m, op) in item.as_object().unwrap() {
            let m = m.to_uppercase();
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                continue;
            }
            if PLATFORM.contains(&(m.as_str(), path.as_str())) {
                platform.push((m, path.clone()));
                continue;
            }
            let admin = op["security"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s.get("api_key").is_some()));
            if !in_matrix(path) {
                assert!(
                    !admin,
                    "{m} {path} accepts admin API keys but lies outside /api/v1/tenants/{{t}}/ and /t/{{t}}/access/: extend in_matrix() in authz_matrix.rs"
                );
                continue;
            }
            match required(&m, path) {
                Some(perm) => ops.push((m, path.clone(), perm)),
                None => missing.push(format!(
                    "    (\"{m}\", \"{}\", \"<resource:action>\"),",
                    relative(path)
                )),
            }
        }
    }
    assert!(
        missing.is_empty(),
        "operations of the admin API missing from the authorization matrix: add each to REQUIRED in crates/server/tests/api/authz_matrix.rs with the permission its use case authorizes:\n{}",
        missing.join("\n")
    );
    let stale: Vec<_> = REQUIRED
        .iter()
        .filter(|(m, p, _)| !ops.iter().any(|(om, op, _)| om == m && relative(op) == *p))
        .collect();
    assert!(
        stale.is_empty(),
        "REQUIRED lists operations the router no longer has: {stale:?}"
    );
    assert_eq!(platform.len(), PLATFORM.len(), "{platform:?}");
    ops.sort_by(|a, b| (rank(&a.0, &a.1), &a.1, &a.0).cmp(&(rank(&b.0, &b.1), &b.1, &b.0)));

    // The catalogue as the server reports it matches the one this matrix expects.
    app.post(
        &format!("{base}/roles"),
        json!({"key": "no-templates", "name": "No templates", "priority": 5}),
    )
    .await
    .expect(201);
    let roles = app.get(&format!("{base}/roles")).await;
    for (key, perms) in ROLES {
        let role = roles.expect(200)["roles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == *key)
            .unwrap_or_else(|| panic!("no role {key}: {}", roles.text));
        let built_in: Vec<&str> = role["built_in_permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert_eq!(built_in, *perms, "built-in permissions of {key}");
        assert_eq!(role["templates"], json!([]), "{key} has no templates");
    }
    // A policy version for the version route (about a resource type of its own).
    app.send(
        Method::PUT,
        &format!("{base}/resource-types/gadgets"),
        Some(&app.operator_key),
        Some(json!({"description": "gadgets", "actions": {"read": "read gadgets"}})),
    )
    .await
    .expect(200);
    let policy = r#"forbid(principal, action == Action::"gadgets:read", resource);"#;
    let saved = app
        .post(
            &format!("{base}/policies"),
            json!({"policies": policy, "comment": "matrix"}),
        )
        .await;
    let policy_version = saved.expect(201)["version"].as_i64().unwrap();

    let mut tokens = Vec::new();
    for (role, _) in ROLES {
        tokens.push(token_for(&app, &t, role).await);
    }

    let mut failures = Vec::new();
    let mut cells: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (i, (role, perms)) in ROLES.iter().enumerate() {
        let fx = Fixtures::create(&app, &t, i, policy_version).await;
        let token = &tokens[i];
        for (m, template, perm) in &ops {
            let path = fx.path(template).unwrap_or_else(|e| panic!("{e}"));
            let a: Answer = app
                .send(method(m), &path, Some(token), fx.body(m, template, i))
                .await;
            let status = a.status.as_u16();
            let allowed = holds(perms, perm);
            let what = format!("{m} {template} as {role} (needs {perm})");
            if status >= 500 {
                failures.push(format!("{what}: {status} {}", a.text));
            } else if status == 401 {
                failures.push(format!("{what}: 401, the token was refused: {}", a.text));
            } else if allowed && status == 403 {
                failures.push(format!(
                    "{what}: 403 although the role holds it: {}",
                    a.text
                ));
            } else if !allowed && status != 403 {
                failures.push(format!(
                    "{what}: {status} instead of 403 (if it is a 4xx, give the operation a body or path the handler accepts before authorizing): {}",
                    a.text
                ));
            }
            cells
                .entry((template.clone(), m.clone()))
                .or_default()
                .push(if status == 403 {
                    "403".to_owned()
                } else {
                    "✓".to_owned()
                });
        }
    }

    // The tenant registry refuses every user, whatever their role: 403 on a tenant's own
    // record. Without a tenant in the path (list, create) an access token is no credential at
    // all (the caller extractor judges anything but a tenant's JWT as an API key): 401.
    for (i, (role, _)) in ROLES.iter().enumerate() {
        for (m, template) in &platform {
            let path = template.replace("{t}", &t);
            let body = match (m.as_str(), template.as_str()) {
                ("POST", "/api/v1/tenants") => {
                    Some(json!({"slug": format!("x-{i}"), "display_name": "X"}))
                }
                ("PATCH", _) => Some(json!({"display_name": "X"})),
                _ => None,
            };
            let a = app.send(method(m), &path, Some(&tokens[i]), body).await;
            let want = if template.contains("{t}") { 403 } else { 401 };
            if a.status.as_u16() != want {
                failures.push(format!(
                    "{m} {template} as {role}: {} instead of {want}: {}",
                    a.status, a.text
                ));
            }
        }
    }

    print_matrix(&cells, platform.len());
    assert!(
        failures.is_empty(),
        "{} authorization failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Prints route × role: ✓ (authorized: any answer but 403) or 403.
fn print_matrix(cells: &BTreeMap<(String, String), Vec<String>>, platform: usize) {
    let short = |r: &str| -> String { r.chars().take(7).collect() };
    let mut rows: Vec<(String, &Vec<String>)> = cells
        .iter()
        .map(|((path, m), v)| (format!("{m:<6} {}", relative(path)), v))
        .collect();
    rows.sort_by(|a, b| a.0[7..].cmp(&b.0[7..]).then(a.0.cmp(&b.0)));
    let width = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(0);
    let mut out = format!(
        "{:width$}",
        "operation (path relative to /api/v1/tenants/{t})"
    );
    for (role, _) in ROLES {
        out.push_str(&format!(" {:>7}", short(role)));
    }
    out.push('\n');
    for (label, v) in rows {
        out.push_str(&format!("{label:width$}"));
        for c in v {
            out.push_str(&format!(" {c:>7}"));
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "{} operations × {} roles; the {platform} tenant-registry operations refuse every role\n",
        cells.len(),
        ROLES.len()
    ));
    println!("\n{out}");
}
