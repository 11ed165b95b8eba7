//! Passwordless sign-in over REST: codes and links are single use, bound to the browser
//! that asked, refused once expired, and each method can be switched off.

use super::*;

/// The last sign-in link sent to `email`.
fn last_link(app: &TestApp, email: &str) -> String {
    app.outbox()
        .iter()
        .rev()
        .find(|m| m["to"] == email && m["kind"] == "sign_in_link")
        .and_then(|m| m["link"].as_str().map(str::to_owned))
        .unwrap()
}

#[tokio::test]
async fn sign_in_codes_and_links_are_single_use_and_bound_to_the_browser() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = "ada@example.com";
    registered(&app, &t, email, PW).await;
    let a_browser = "tessera_flow=browser-a-flow-cookie-value";
    let b_browser = "tessera_flow=browser-b-flow-cookie-value";

    // A code: unknown in another browser, single use in the one that asked.
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/code"),
        &[("cookie", a_browser)],
        Some(json!({"identifier": email})),
    )
    .await
    .expect(202);
    let code = app.last_code(email);
    let verify = |cookie: &'static str, code: String| {
        let app = &app;
        let t = t.clone();
        async move {
            call(
                app,
                Method::POST,
                &format!("/t/{t}/api/v1/login/code/verify"),
                &[("cookie", cookie)],
                Some(json!({"identifier": email, "code": code})),
            )
            .await
        }
    };
    verify(b_browser, code.clone())
        .await
        .expect_invalid("invalid_code");
    let ok = verify(a_browser, code.clone()).await;
    assert_eq!(ok.expect(200)["status"], "signed_in");
    assert_eq!(
        claims(ok.json["access_token"].as_str().unwrap())["amr"],
        json!(["otp"])
    );
    verify(a_browser, code).await.expect_invalid("invalid_code");
    // Same answer for an address nobody holds.
    let unknown = call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/code"),
        &[("cookie", a_browser)],
        Some(json!({"identifier": "nobody@example.com"})),
    )
    .await;
    assert_eq!(unknown.expect(202)["sent_to"], "n•••@example.com");

    // A link: another browser must confirm; it works once.
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/link"),
        &[("cookie", a_browser)],
        Some(json!({"identifier": email})),
    )
    .await
    .expect(202);
    let link = last_link(&app, email);
    assert!(
        link.contains(&format!("/t/{t}/login/link?token=")),
        "{link}"
    );
    let token = link.split("token=").nth(1).unwrap().to_owned();
    let open = |cookie: &'static str, confirm: bool| {
        let app = &app;
        let t = t.clone();
        let token = token.clone();
        async move {
            call(
                app,
                Method::POST,
                &format!("/t/{t}/api/v1/login/link/verify"),
                &[("cookie", cookie)],
                Some(json!({"token": token, "confirm": confirm})),
            )
            .await
        }
    };
    open(b_browser, false)
        .await
        .expect_problem(403, "confirmation_required");
    assert_eq!(
        open(b_browser, true).await.expect(200)["status"],
        "signed_in"
    );
    open(a_browser, false)
        .await
        .expect_problem(403, "invalid_link");
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/link/verify"),
        &[("cookie", a_browser)],
        Some(json!({"token": "forged-token"})),
    )
    .await
    .expect_problem(403, "invalid_link");

    // Each method can be switched off.
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"auth": {"passwordless": {"email_link": false, "email_code": false}}}}),
    )
    .await
    .expect(200);
    for path in ["login/link", "login/code"] {
        call(
            &app,
            Method::POST,
            &format!("/t/{t}/api/v1/{path}"),
            &[("cookie", a_browser)],
            Some(json!({"identifier": email})),
        )
        .await
        .expect_problem(403, "method_disabled");
    }
}

/// Expired sign-in links and codes are refused like used ones (the records are aged in the
/// database rather than waited for).
#[tokio::test]
async fn expired_sign_in_links_and_codes_are_refused() {
    let app = TestApp::spawn().await;
    let t = app.tenant().await;
    let email = "ada@example.com";
    registered(&app, &t, email, PW).await;
    let browser = "tessera_flow=the-browser-that-asked";
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/link"),
        &[("cookie", browser)],
        Some(json!({"identifier": email})),
    )
    .await
    .expect(202);
    let link = last_link(&app, email);
    let token = link.split("token=").nth(1).unwrap().to_owned();
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/code"),
        &[("cookie", browser)],
        Some(json!({"identifier": email})),
    )
    .await
    .expect(202);
    let code = app.last_code(email);
    assert_eq!(
        app.sql("UPDATE challenges SET expires_at = created_at WHERE kind = 'sign_in_link'")
            .await,
        1
    );
    assert_eq!(
        app.sql("UPDATE one_time_codes SET expires_at = created_at WHERE purpose = 'sign_in'")
            .await,
        1
    );
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/link/verify"),
        &[("cookie", browser)],
        Some(json!({"token": token})),
    )
    .await
    .expect_problem(403, "invalid_link");
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/code/verify"),
        &[("cookie", browser)],
        Some(json!({"identifier": email, "code": code})),
    )
    .await
    .expect_invalid("invalid_code");
}
