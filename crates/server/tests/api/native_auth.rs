//! Native authentication over REST: sign-up → code from the outbox → verify → sign-in →
//! change password → sign-out; recovery; throttling; enumeration; sessions.

use reqwest::Method;
use serde_json::{Value, json};
use tessera_testkit::{Answer, TestApp};

const PW: &str = "correct horse battery staple";

/// Registers `email` with `password` and verifies it with the code from the outbox.
pub async fn registered(app: &TestApp, t: &str, email: &str, password: &str) {
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/register"),
        None,
        Some(json!({"email": email, "password": password, "given_name": "Ada"})),
    )
    .await
    .expect(202);
    let code = app.last_code(email);
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/verify"),
        None,
        Some(json!({"identifier": email, "code": code})),
    )
    .await
    .expect(204);
}

pub async fn login(app: &TestApp, t: &str, identifier: &str, password: &str) -> Answer {
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/login"),
        None,
        Some(json!({"identifier": identifier, "password": password})),
    )
    .await
}

pub async fn login_from(
    app: &TestApp,
    t: &str,
    ip: &str,
    identifier: &str,
    password: &str,
) -> Answer {
    let res = app
        .client
        .post(app.url(&format!("/t/{t}/api/v1/login")))
        .header("x-forwarded-for", ip)
        .json(&json!({"identifier": identifier, "password": password}))
        .send()
        .await
        .unwrap();
    TestApp::answer(res).await
}

pub fn token(a: &Answer) -> String {
    a.json["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn register_verify_sign_in_change_password_sign_out() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = "ada@example.com";
    let reg = app
        .send(
            Method::POST,
            &format!("/t/{t}/api/v1/register"),
            None,
            Some(json!({"email": email, "password": PW})),
        )
        .await;
    assert_eq!(reg.expect(202)["next"], "verify");
    // Not verified yet: the right password says so, nothing else does.
    login(&app, &t, email, PW)
        .await
        .expect_problem(403, "verification_required");
    let code = app.last_code(email);
    assert_eq!(code.len(), 6);
    // A wrong code, then the right one; the right one works once.
    let wrong = if code == "000000" { "000001" } else { "000000" };
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/verify"),
        None,
        Some(json!({"identifier": email, "code": wrong})),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/verify"),
        None,
        Some(json!({"identifier": email, "code": code})),
    )
    .await
    .expect(204);
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/verify"),
        None,
        Some(json!({"identifier": email, "code": code})),
    )
    .await
    .expect_problem(422, "validation_failed");

    let signed_in = login(&app, &t, email, PW).await;
    let body = signed_in.expect(200).clone();
    assert_eq!(body["token_type"], "Bearer");
    let cookie = signed_in.header("set-cookie").unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let at = token(&signed_in);
    let me = app
        .send(Method::GET, &format!("/t/{t}/api/v1/me"), Some(&at), None)
        .await;
    assert_eq!(me.expect(200)["state"], "active");
    assert_eq!(me.json["emails"][0]["verified"], true);

    // The session cookie authenticates too.
    let cookie_pair = cookie.split(';').next().unwrap().to_owned();
    let by_cookie = app
        .client
        .get(app.url(&format!("/t/{t}/api/v1/me/sessions")))
        .header("cookie", &cookie_pair)
        .send()
        .await
        .unwrap();
    let sessions = TestApp::answer(by_cookie).await;
    assert_eq!(sessions.expect(200).as_array().unwrap().len(), 1);
    assert_eq!(sessions.json[0]["current"], true);

    // Change password: the current one is required.
    let new_pw = "an entirely different passphrase";
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/me/password"),
        Some(&at),
        Some(json!({"current_password": "wrong wrong wrong", "new_password": new_pw})),
    )
    .await
    .expect_problem(422, "validation_failed");
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/me/password"),
        Some(&at),
        Some(json!({"current_password": PW, "new_password": new_pw})),
    )
    .await
    .expect(204);
    login(&app, &t, email, PW)
        .await
        .expect_problem(401, "invalid_credentials");
    let again = login(&app, &t, email, new_pw).await;
    again.expect(200);
    // Reusing the previous password is refused (history).
    let a = app
        .send(
            Method::POST,
            &format!("/t/{t}/api/v1/me/password"),
            Some(&token(&again)),
            Some(json!({"current_password": new_pw, "new_password": PW})),
        )
        .await;
    assert_eq!(a.expect(422)["errors"][0]["code"], "password_reused");
    assert!(app.outbox().iter().any(|m| m["kind"] == "password_changed"));

    // Sign out: the token's session is over.
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/logout"),
        Some(&at),
        None,
    )
    .await
    .expect(204);
    app.send(Method::GET, &format!("/t/{t}/api/v1/me"), Some(&at), None)
        .await
        .expect(401);

    // The login history has the successes and the failure with its reason.
    let history = app
        .send(
            Method::GET,
            &format!("/t/{t}/api/v1/me/login-history"),
            Some(&token(&again)),
            None,
        )
        .await;
    let actions: Vec<&str> = history.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"auth.login.succeeded"), "{actions:?}");
    assert!(actions.contains(&"auth.login.failed"), "{actions:?}");
}

#[tokio::test]
async fn unknown_user_and_wrong_password_look_the_same_and_registration_does_not_enumerate() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    registered(&app, &t, "bob@example.com", PW).await;
    let unknown = login(&app, &t, "nobody@example.com", PW).await;
    let wrong = login(&app, &t, "bob@example.com", "not the password at all").await;
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.json, wrong.json);
    wrong.expect_problem(401, "invalid_credentials");

    // Registering a taken email answers exactly like a fresh one; the holder is told.
    let taken = app
        .send(
            Method::POST,
            &format!("/t/{t}/api/v1/register"),
            None,
            Some(json!({"email": "bob@example.com", "password": "yet another passphrase"})),
        )
        .await;
    let fresh = app
        .send(
            Method::POST,
            &format!("/t/{t}/api/v1/register"),
            None,
            Some(json!({"email": "carol@example.com", "password": "yet another passphrase"})),
        )
        .await;
    assert_eq!(taken.status, fresh.status);
    assert_eq!(taken.json["next"], fresh.json["next"]);
    assert!(
        app.outbox()
            .iter()
            .any(|m| m["to"] == "bob@example.com" && m["kind"] == "account_exists")
    );

    // Recovery answers the same for both.
    for who in ["bob@example.com", "nobody@example.com"] {
        app.send(
            Method::POST,
            &format!("/t/{t}/api/v1/recover"),
            None,
            Some(json!({"identifier": who})),
        )
        .await
        .expect(202);
    }
}

#[tokio::test]
async fn password_rules_no_truncation_and_normalisation() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let reg = |body: Value| {
        let app = &app;
        let t = t.clone();
        async move {
            app.send(
                Method::POST,
                &format!("/t/{t}/api/v1/register"),
                None,
                Some(body),
            )
            .await
        }
    };
    for (pw, code) in [
        ("", "password_required"),
        ("short", "password_too_short"),
        ("password1234", "password_common"),
    ] {
        let a = reg(json!({"email": "x@example.com", "password": pw})).await;
        assert_eq!(a.expect(422)["errors"][0]["code"], code, "{pw}");
    }
    let huge = "x".repeat(5000);
    let a = reg(json!({"email": "x@example.com", "password": huge})).await;
    assert_eq!(a.expect(422)["errors"][0]["code"], "password_too_long");
    // A 100-byte password: its 72-byte prefix does not sign in; the full one does.
    let long: String = "Tr0ub4dor&3-".repeat(9);
    assert!(long.len() > 72);
    registered(&app, &t, "long@example.com", &long).await;
    login(&app, &t, "long@example.com", &long[..72])
        .await
        .expect(401);
    login(&app, &t, "long@example.com", &long).await.expect(200);
    login(&app, &t, "long@example.com", &long.to_uppercase())
        .await
        .expect(401);
    // NFKC: full-width letters are the same password.
    registered(
        &app,
        &t,
        "wide@example.com",
        "ｗｉｄｅ ｐａｓｓｐｈｒａｓｅ ok",
    )
    .await;
    login(&app, &t, "wide@example.com", "wide passphrase ok")
        .await
        .expect(200);
}

#[tokio::test]
async fn failed_sign_ins_back_off_per_address_and_the_victim_signs_in_from_elsewhere() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    registered(&app, &t, "victim@example.com", PW).await;
    let mut throttled = None;
    for _ in 0..8 {
        let a = login_from(
            &app,
            &t,
            "203.0.113.66",
            "victim@example.com",
            "guess guess guess",
        )
        .await;
        if a.status == 429 {
            throttled = Some(a);
            break;
        }
        a.expect(401);
    }
    let throttled = throttled.expect("the attacker's address was never throttled");
    throttled.expect_problem(429, "too_many_attempts");
    assert!(
        throttled
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    // Even the right password is refused from the attacking address while throttled...
    login_from(&app, &t, "203.0.113.66", "victim@example.com", PW)
        .await
        .expect(429);
    // ...but the victim signs in from their own address.
    login_from(&app, &t, "198.51.100.7", "victim@example.com", PW)
        .await
        .expect(200);
    // X-Forwarded-For from an untrusted peer is ignored: not applicable here (127.0.0.1 is
    // trusted in tests), see the unit tests of tessera_http_kit::client.
}

#[tokio::test]
async fn recovery_resets_the_password_ends_sessions_and_never_signs_in() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = "rec@example.com";
    registered(&app, &t, email, PW).await;
    let before = token(&login(&app, &t, email, PW).await);
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/recover"),
        None,
        Some(json!({"identifier": email})),
    )
    .await
    .expect(202);
    let code = app.last_code(email);
    let wrong = if code == "111111" { "222222" } else { "111111" };
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/recover/verify"),
        None,
        Some(json!({"identifier": email, "code": wrong})),
    )
    .await
    .expect(422);
    let ticket = app
        .send(
            Method::POST,
            &format!("/t/{t}/api/v1/recover/verify"),
            None,
            Some(json!({"identifier": email, "code": code})),
        )
        .await
        .expect(200)["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    // The code is used up.
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/recover/verify"),
        None,
        Some(json!({"identifier": email, "code": code})),
    )
    .await
    .expect(422);
    // A refused new password does not use the ticket up.
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/recover/reset"),
        None,
        Some(json!({"ticket": ticket, "new_password": "short"})),
    )
    .await
    .expect(422);
    let reset = app
        .send(
            Method::POST,
            &format!("/t/{t}/api/v1/recover/reset"),
            None,
            Some(json!({"ticket": ticket, "new_password": "a brand new passphrase"})),
        )
        .await;
    reset.expect(204);
    assert!(
        reset.header("set-cookie").is_none(),
        "a reset must not sign in"
    );
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/recover/reset"),
        None,
        Some(json!({"ticket": ticket, "new_password": "another brand new one"})),
    )
    .await
    .expect(422);
    app.send(
        Method::GET,
        &format!("/t/{t}/api/v1/me"),
        Some(&before),
        None,
    )
    .await
    .expect(401);
    login(&app, &t, email, "a brand new passphrase")
        .await
        .expect(200);
}

#[tokio::test]
async fn concurrent_uses_of_one_code_succeed_once() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = "race@example.com";
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/register"),
        None,
        Some(json!({"email": email, "password": PW})),
    )
    .await
    .expect(202);
    let code = app.last_code(email);
    let recover_path = format!("/t/{t}/api/v1/recover/verify");
    let tries = (0..6).map(|_| {
        app.send(
            Method::POST,
            &recover_path,
            None,
            Some(json!({"identifier": email, "code": code})),
        )
    });
    // (recovery codes are never sent to unverified accounts: all fail) — then verify races.
    for a in futures::future::join_all(tries).await {
        a.expect(422);
    }
    let verify_path = format!("/t/{t}/api/v1/verify");
    let tries = (0..6).map(|_| {
        app.send(
            Method::POST,
            &verify_path,
            None,
            Some(json!({"identifier": email, "code": code})),
        )
    });
    let answers = futures::future::join_all(tries).await;
    let ok = answers.iter().filter(|a| a.status == 204).count();
    assert_eq!(
        ok,
        1,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn sessions_are_listed_and_revoked_by_the_user_and_by_an_admin_and_suspension_ends_them() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = "sess@example.com";
    registered(&app, &t, email, PW).await;
    let a = login(&app, &t, email, PW).await;
    let b = login(&app, &t, email, PW).await;
    let (ta, tb) = (token(&a), token(&b));
    let user_id = a.json["user_id"].as_str().unwrap().to_owned();
    let list = app
        .send(
            Method::GET,
            &format!("/t/{t}/api/v1/me/sessions"),
            Some(&ta),
            None,
        )
        .await;
    assert_eq!(list.expect(200).as_array().unwrap().len(), 2);
    // The user ends session b.
    let sid_b = b.json["session_id"].as_str().unwrap();
    app.send(
        Method::DELETE,
        &format!("/t/{t}/api/v1/me/sessions/{sid_b}"),
        Some(&ta),
        None,
    )
    .await
    .expect(204);
    app.send(Method::GET, &format!("/t/{t}/api/v1/me"), Some(&tb), None)
        .await
        .expect(401);
    // A session of another user is not found.
    registered(&app, &t, "other@example.com", PW).await;
    let other = login(&app, &t, "other@example.com", PW).await;
    let other_sid = other.json["session_id"].as_str().unwrap();
    app.send(
        Method::DELETE,
        &format!("/t/{t}/api/v1/me/sessions/{other_sid}"),
        Some(&ta),
        None,
    )
    .await
    .expect(404);
    // The admin lists and ends them.
    let admin = app
        .get(&format!("/api/v1/tenants/{t}/users/{user_id}/sessions"))
        .await;
    assert_eq!(admin.expect(200).as_array().unwrap().len(), 1);
    let c = login(&app, &t, email, PW).await;
    let refresh = c.json["refresh_token"].as_str().unwrap().to_owned();
    // Suspension revokes every session and refresh token at once.
    app.post(
        &format!("/api/v1/tenants/{t}/users/{user_id}/state"),
        json!({"state": "suspended"}),
    )
    .await
    .expect(200);
    app.send(Method::GET, &format!("/t/{t}/api/v1/me"), Some(&ta), None)
        .await
        .expect(401);
    app.send(
        Method::GET,
        &format!("/t/{t}/api/v1/me"),
        Some(&token(&c)),
        None,
    )
    .await
    .expect(401);
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/token/refresh"),
        None,
        Some(json!({"refresh_token": refresh})),
    )
    .await
    .expect(401);
    login(&app, &t, email, PW)
        .await
        .expect_problem(403, "account_disabled");
    let history = app
        .get(&format!(
            "/api/v1/tenants/{t}/users/{user_id}/login-history"
        ))
        .await;
    assert!(history.expect(200)["items"].as_array().unwrap().len() >= 4);
}

#[tokio::test]
async fn a_session_cookie_of_another_tenant_is_not_a_session_here() {
    let app = TestApp::spawn().await;
    let t1 = app.tenant().await;
    let t2 = app.tenant().await;
    registered(&app, &t1, "x@example.com", PW).await;
    let a = login(&app, &t1, "x@example.com", PW).await;
    let cookie = a
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let res = app
        .client
        .get(app.url(&format!("/t/{t2}/api/v1/me")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // And a cookie-authenticated change from a foreign Origin is refused.
    let res = app
        .client
        .delete(app.url(&format!("/t/{t1}/api/v1/me/sessions")))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
}

#[tokio::test]
async fn imported_bcrypt_hashes_sign_in_and_are_upgraded() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let hash = bcrypt::hash("imported passphrase 1", 4).unwrap();
    let report = app
        .post(
            &format!("/api/v1/tenants/{t}/users/import"),
            json!({"users": [
                {"email": "imp@example.com", "password_hash": hash},
                {"email": "imp@example.com", "password_hash": hash},
                {"email": "bad", "password_hash": hash},
                {"email": "plain@example.com", "password_hash": "plaintext"},
            ]}),
        )
        .await;
    let body = report.expect(200);
    assert_eq!(body["imported"], 1);
    assert_eq!(body["skipped"].as_array().unwrap().len(), 3);
    login(&app, &t, "imp@example.com", "imported passphrase 2")
        .await
        .expect(401);
    let ok = login(&app, &t, "imp@example.com", "imported passphrase 1").await;
    let user_id = ok.expect(200)["user_id"].as_str().unwrap().to_owned();
    login(&app, &t, "imp@example.com", "imported passphrase 1")
        .await
        .expect(200);
    let audit = app
        .get(&format!(
            "/api/v1/tenants/{t}/audit?action=credential.password_rehashed&subject_id={user_id}"
        ))
        .await;
    assert_eq!(
        audit.expect(200)["items"].as_array().unwrap().len(),
        1,
        "upgraded exactly once"
    );
}

#[tokio::test]
async fn usernames_with_control_characters_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    for name in ["evil\r\nadmin", "a\u{1b}[31mred", "tab\tname"] {
        let a = app
            .send(
                Method::POST,
                &format!("/t/{t}/api/v1/register"),
                None,
                Some(json!({"username": name, "email": "u@example.com", "password": PW})),
            )
            .await;
        a.expect(422);
        let a = login(&app, &t, name, PW).await;
        a.expect(401);
    }
}
