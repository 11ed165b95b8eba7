//! The passwordless pages: every new form refuses a foreign origin or a missing token;
//! sign-in links and codes work only as the browser that asked (or after a confirmation);
//! passkey options come as JSON bound to a flow cookie.

use super::*;

#[tokio::test]
async fn the_new_forms_refuse_a_foreign_origin_or_a_missing_token() {
    let pages = Pages::start().await;
    let email = "careful@example.com";
    let mut jar = pages.signed_in(email).await;
    let token = jar.get("tessera_csrf").unwrap().to_owned();
    let before = pages.get("/t/acme/account/security", &mut jar).await;
    assert_eq!(before.status, StatusCode::OK);
    let paths = [
        "/t/acme/login/mfa",
        "/t/acme/login/mfa/passkey/options",
        "/t/acme/login/enrol/totp",
        "/t/acme/login/enrol/passkey/options",
        "/t/acme/login/enrol/passkey",
        "/t/acme/login/passkey/options",
        "/t/acme/login/passkey",
        "/t/acme/login/code",
        "/t/acme/login/code/verify",
        "/t/acme/login/email-link",
        "/t/acme/login/link",
        "/t/acme/step-up",
        "/t/acme/step-up/passkey/options",
        "/t/acme/account/security/totp",
        "/t/acme/account/security/totp/remove",
        "/t/acme/account/security/backup-codes",
        "/t/acme/account/security/passkeys/options",
        "/t/acme/account/security/passkeys",
        "/t/acme/account/security/passkeys/rename",
        "/t/acme/account/security/passkeys/remove",
        "/t/acme/account/security/devices/forget",
    ];
    let body = |csrf: &str| encode(&[("csrf", csrf), ("identifier", email), ("device", "")]);
    for path in paths {
        // The right token from another site.
        let page = pages
            .post_raw(path, &body(&token), &mut jar, Some("https://evil.example"))
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("another site"), "{path}");
        // Our origin, another token (what a forging page would guess).
        let page = pages
            .post_raw(path, &body(&"A".repeat(43)), &mut jar, Some(PUBLIC_URL))
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("This form has expired"), "{path}");
        // No token at all.
        let page = pages
            .post_raw(path, &encode(&[("identifier", email)]), &mut jar, None)
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        // A sandboxed frame of another site.
        let req = Request::post(path)
            .header(header::COOKIE, jar.header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ORIGIN, "null")
            .header("sec-fetch-site", "cross-site")
            .body(Body::from(body(&token)))
            .unwrap();
        assert_eq!(
            pages.send(req, &mut jar).await.status,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    // Nothing was sent and the session lives on.
    let sent = std::fs::read_to_string(&pages.outbox).unwrap_or_default();
    assert_eq!(sent.matches("sign_in").count(), 0, "{sent}");
    let after = pages.get("/t/acme/account/security", &mut jar).await;
    assert_eq!(after.status, StatusCode::OK);
}

#[tokio::test]
async fn a_sign_in_link_opened_in_another_browser_asks_before_signing_in() {
    let pages = Pages::start().await;
    let email = "linked@example.com";
    let mut asker = pages.verified_user(email).await;
    // The link request page gives the browser its flow cookie.
    let page = pages.get("/t/acme/login/email-link", &mut asker).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(asker.get("tessera_flow").is_some());
    let page = pages
        .post(
            "/t/acme/login/email-link",
            &[("identifier", email)],
            &mut asker,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert!(page.location().starts_with("/t/acme/login/link-sent?to="));
    let sent = pages.get(page.location(), &mut asker).await;
    assert!(sent.body.contains("Check your email"), "{}", sent.body);
    assert!(
        sent.body.contains("l\u{2022}\u{2022}\u{2022}@example.com"),
        "{}",
        sent.body
    );
    // Other text in its URL is not shown.
    let spoofed = pages
        .get(
            "/t/acme/login/link-sent?to=Call%20%2B1%20555%200100",
            &mut asker,
        )
        .await;
    assert!(!spoofed.body.contains("555"), "{}", spoofed.body);
    let token = pages.link_token_for(email).await;
    let link = format!("/t/acme/login/link?token={token}");

    // Another browser (or a mail scanner): a confirmation page, nothing used up, no session.
    let mut other = Jar::default();
    for _ in 0..2 {
        let page = pages.get(&link, &mut other).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(page.body.contains("Sign in on this device?"));
        assert!(page.body.contains("Yes, sign me in here"));
        // It says whose account it is: nobody is signed into someone else's by surprise.
        assert!(
            page.body.contains("l\u{2022}\u{2022}\u{2022}@example.com"),
            "{}",
            page.body
        );
        assert_eq!(page.hidden("token").as_deref(), Some(token.as_str()));
        assert!(other.get("tessera_session").is_none());
    }
    // A forged confirmation is refused.
    let forged = pages
        .post_raw(
            "/t/acme/login/link",
            &encode(&[
                ("csrf", other.get("tessera_csrf").unwrap()),
                ("token", &token),
            ]),
            &mut other,
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(other.get("tessera_session").is_none());

    // The browser that asked signs in at once, and the link is used up.
    let page = pages.get(&link, &mut asker).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/t/acme/account");
    assert!(asker.get("tessera_session").is_some());
    let late = pages
        .post("/t/acme/login/link", &[("token", &token)], &mut other)
        .await;
    assert_eq!(late.status, StatusCode::GONE, "{}", late.body);
    assert!(late.body.contains("expired or was already used"));
    assert!(other.get("tessera_session").is_none());

    // A second link, confirmed in the other browser.
    pages.post("/t/acme/logout", &[], &mut asker).await;
    let page = pages
        .post(
            "/t/acme/login/email-link",
            &[("identifier", email)],
            &mut asker,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    let second = loop {
        let t = pages.link_token_for(email).await;
        if t != token {
            break t;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let page = pages
        .get(&format!("/t/acme/login/link?token={second}"), &mut other)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let page = pages
        .post("/t/acme/login/link", &[("token", &second)], &mut other)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/t/acme/account");
    let account = pages.get("/t/acme/account", &mut other).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains(email));
    // An unknown token.
    let page = pages
        .get("/t/acme/login/link?token=nothing-like-it", &mut other)
        .await;
    assert_eq!(page.status, StatusCode::GONE);
}

#[tokio::test]
async fn a_sign_in_code_works_only_in_the_browser_that_asked_for_it() {
    let pages = Pages::start().await;
    let email = "coded@example.com";
    let mut asker = pages.verified_user(email).await;
    let page = pages
        .get(
            "/t/acme/login/code?return_to=%2Ft%2Facme%2Faccount%3Fx%3D1",
            &mut asker,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(
        page.hidden("return_to").as_deref(),
        Some("/t/acme/account?x=1")
    );
    let page = pages
        .post(
            "/t/acme/login/code",
            &[("identifier", email), ("return_to", "/t/acme/account?x=1")],
            &mut asker,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let form = pages.get(page.location(), &mut asker).await;
    assert!(form.body.contains("id=\"code-code\""), "{}", form.body);
    assert!(form.body.contains("we sent it a code"));
    let code = pages.code_for(email).await;

    let mut other = Jar::default();
    pages.get("/t/acme/login/code", &mut other).await;
    let page = pages
        .post(
            "/t/acme/login/code/verify",
            &[("identifier", email), ("code", &code)],
            &mut other,
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("id=\"code-code-error\""),
        "{}",
        page.body
    );
    assert!(other.get("tessera_session").is_none());

    let page = pages
        .post(
            "/t/acme/login/code/verify",
            &[
                ("identifier", email),
                ("code", &code),
                ("return_to", "/t/acme/account?x=1"),
            ],
            &mut asker,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/t/acme/account?x=1");
    // Single use.
    pages.post("/t/acme/logout", &[], &mut asker).await;
    let again = pages
        .post(
            "/t/acme/login/code/verify",
            &[("identifier", email), ("code", &code)],
            &mut asker,
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn the_passkey_options_are_json_bound_to_a_flow_cookie() {
    let pages = Pages::start().await;
    let mut jar = Jar::default();
    let login = pages.get("/t/acme/login", &mut jar).await;
    assert!(login.body.contains("autocomplete=\"username webauthn\""));
    assert!(login.body.contains("data-conditional"));
    assert!(login.body.contains("Sign in with a passkey"));
    assert!(login.body.contains("Sign in with a code"));
    assert!(login.body.contains("Email me a sign-in link"));
    let flow = jar.get("tessera_flow").unwrap().to_owned();
    let page = pages
        .post("/t/acme/login/passkey/options", &[], &mut jar)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.header("content-type").starts_with("application/json"));
    let json: serde_json::Value = serde_json::from_str(&page.body).unwrap();
    assert!(json["challenge_id"].as_str().unwrap().len() == 36);
    let challenge = json["options"]["publicKey"]["challenge"].as_str().unwrap();
    assert!(
        challenge.len() >= 43 && !challenge.contains('='),
        "{challenge}"
    );
    assert_eq!(
        jar.get("tessera_flow"),
        Some(flow.as_str()),
        "the same flow"
    );
    // A browser without a flow cookie gets one with its options.
    let mut fresh = Jar::default();
    pages.get("/t/acme/register", &mut fresh).await;
    assert!(fresh.get("tessera_flow").is_none());
    let page = pages
        .post("/t/acme/login/passkey/options", &[], &mut fresh)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(fresh.get("tessera_flow").is_some());
    // A made-up answer is refused on the sign-in page.
    let page = pages
        .post(
            "/t/acme/login/passkey",
            &[
                ("challenge_id", json["challenge_id"].as_str().unwrap()),
                ("credential", r#"{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"AAAA","authenticatorData":"AAAA","signature":"AAAA","userHandle":null}}"#),
            ],
            &mut jar,
        )
        .await;
    assert!(page.status.is_client_error(), "{}", page.status);
    assert!(
        page.body.contains("class=\"error-summary\""),
        "{}",
        page.body
    );
    assert!(jar.get("tessera_session").is_none());
    // The second step's options need a session waiting for it.
    let page = pages
        .post("/t/acme/login/mfa/passkey/options", &[], &mut jar)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(page.location().starts_with("/t/acme/login?"));
}
