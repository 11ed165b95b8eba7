//! Two-step verification on the pages: from set-up to step-up, and the forced enrolment of
//! an administrator.

use super::*;

/// Signs in with the password; the answer (a second step may follow).
async fn password_sign_in(pages: &Pages, email: &str, jar: &mut Jar) -> Page {
    pages
        .post(
            "/t/acme/login",
            &[("identifier", email), ("password", PASSWORD)],
            jar,
        )
        .await
}

#[tokio::test]
async fn two_step_verification_from_set_up_to_step_up() {
    let mut settings = TenantSettings::default();
    settings.auth.mfa.step_up_secs = 60;
    let pages = Pages::with_settings(settings).await;
    let email = "twostep@example.com";
    let mut jar = pages.signed_in(email).await;

    // Set up the authenticator app: QR code, key, a wrong code, then the right one.
    let security = pages.get("/t/acme/account/security", &mut jar).await;
    assert_eq!(security.status, StatusCode::OK);
    assert!(
        security.body.contains("badge-warn\">Off"),
        "{}",
        security.body
    );
    let setup = pages.get("/t/acme/account/security/totp", &mut jar).await;
    assert_eq!(setup.status, StatusCode::OK, "{}", setup.body);
    assert!(setup.body.contains("src=\"data:image/svg+xml;base64,"));
    let key = setup.text_after("id=\"totp-secret\">").unwrap();
    let mut app = totp::Authenticator::new(&key);
    let secret = setup.hidden("secret").unwrap();
    let uri = setup.hidden("uri").unwrap();
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    let wrong = pages
        .post(
            "/t/acme/account/security/totp",
            &[("code", "000000"), ("secret", &secret), ("uri", &uri)],
            &mut jar,
        )
        .await;
    assert_eq!(
        wrong.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        wrong.body
    );
    assert!(wrong.body.contains("id=\"totp-code-error\""));
    assert_eq!(wrong.text_after("id=\"totp-secret\">"), Some(key.clone()));
    let code = app.next_code().await;
    let codes = pages
        .post(
            "/t/acme/account/security/totp",
            &[("code", &code), ("secret", &secret), ("uri", &uri)],
            &mut jar,
        )
        .await;
    assert_eq!(codes.status, StatusCode::OK, "{}", codes.body);
    let backup = codes.backup_codes();
    assert_eq!(backup.len(), 10, "{}", codes.body);
    assert!(
        codes
            .body
            .contains("/t/acme/account/security?notice=totp_enabled")
    );
    let security = pages.get("/t/acme/account/security", &mut jar).await;
    assert!(
        security.body.contains("10 of 10 codes left"),
        "{}",
        security.body
    );

    // Signing in now asks for the second step; the account waits for it.
    pages.post("/t/acme/logout", &[], &mut jar).await;
    let page = password_sign_in(&pages, email, &mut jar).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), "/t/acme/login/mfa");
    let account = pages.get("/t/acme/account", &mut jar).await;
    assert_eq!(account.status, StatusCode::SEE_OTHER);
    assert_eq!(
        account.location(),
        "/t/acme/login/mfa?return_to=%2Ft%2Facme%2Faccount"
    );
    let mfa = pages.get(account.location(), &mut jar).await;
    assert_eq!(mfa.status, StatusCode::OK);
    assert!(mfa.body.contains("id=\"mfa-code\""));
    assert!(mfa.body.contains("Remember this device for 30 days"));
    assert!(mfa.body.contains("Use a backup code"));
    let wrong = pages
        .post(
            "/t/acme/login/mfa",
            &[("method", "totp"), ("code", "000000")],
            &mut jar,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong.body.contains("id=\"mfa-code-error\""),
        "{}",
        wrong.body
    );
    // A backup code, once.
    let page = pages
        .post(
            "/t/acme/login/mfa",
            &[
                ("method", "backup"),
                ("code", &backup[0]),
                ("return_to", "/t/acme/account/security"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/t/acme/account/security");
    let security = pages.get("/t/acme/account/security", &mut jar).await;
    assert!(
        security.body.contains("9 of 10 codes left"),
        "{}",
        security.body
    );
    pages.post("/t/acme/logout", &[], &mut jar).await;
    password_sign_in(&pages, email, &mut jar).await;
    let reused = pages
        .post(
            "/t/acme/login/mfa",
            &[("method", "backup"), ("code", &backup[0])],
            &mut jar,
        )
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The authenticator's code, remembering this device: the next sign-in skips the step.
    let code = app.next_code().await;
    let page = pages
        .post(
            "/t/acme/login/mfa",
            &[("method", "totp"), ("code", &code), ("remember", "1")],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/t/acme/account");
    assert!(jar.get("tessera_device").is_some());
    pages.post("/t/acme/logout", &[], &mut jar).await;
    let page = password_sign_in(&pages, email, &mut jar).await;
    assert_eq!(page.location(), "/t/acme/account", "remembered");
    let security = pages.get("/t/acme/account/security", &mut jar).await;
    assert!(
        security.body.contains("Remembered</span> until"),
        "{}",
        security.body
    );

    // Later, a sensitive change asks to confirm it is you, then comes back.
    tokio::time::sleep(std::time::Duration::from_secs(61)).await;
    let page = pages
        .post("/t/acme/account/security/totp/remove", &[], &mut jar)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.location(),
        "/t/acme/step-up?return_to=%2Ft%2Facme%2Faccount%2Fsecurity"
    );
    let options = pages
        .post("/t/acme/account/security/passkeys/options", &[], &mut jar)
        .await;
    assert_eq!(options.status, StatusCode::FORBIDDEN);
    let json: serde_json::Value = serde_json::from_str(&options.body).unwrap();
    assert_eq!(
        json["redirect"],
        "/t/acme/step-up?return_to=%2Ft%2Facme%2Faccount%2Fsecurity%23passkeys"
    );
    let step_up = pages.get(page.location(), &mut jar).await;
    assert_eq!(step_up.status, StatusCode::OK);
    assert!(step_up.body.contains("Confirm it is you"));
    assert!(step_up.body.contains("id=\"step-up-code\""));
    // A session that passed two factors confirms with a factor, not the password.
    assert!(!step_up.body.contains("name=\"password\""));
    let refused = pages
        .post(
            "/t/acme/step-up",
            &[
                ("method", "password"),
                ("password", PASSWORD),
                ("return_to", "/t/acme/account/security"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let code = app.next_code().await;
    let page = pages
        .post(
            "/t/acme/step-up",
            &[
                ("method", "totp"),
                ("code", &code),
                ("return_to", "//evil.example/"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(
        page.location(),
        "/t/acme/account/security",
        "only local paths"
    );
    let page = pages
        .post("/t/acme/account/security/totp/remove", &[], &mut jar)
        .await;
    assert_eq!(
        page.location(),
        "/t/acme/account/security?notice=totp_removed"
    );
    let security = pages.get(page.location(), &mut jar).await;
    assert!(
        security
            .body
            .contains("Your authenticator app was removed.")
    );
    assert!(security.body.contains("badge-warn\">Off"));

    // Forgetting the devices.
    let page = pages
        .post(
            "/t/acme/account/security/devices/forget",
            &[("device", "")],
            &mut jar,
        )
        .await;
    assert_eq!(
        page.location(),
        "/t/acme/account/security?notice=devices_forgotten"
    );
}

#[tokio::test]
async fn an_administrator_without_a_second_factor_must_enrol_one() {
    let pages = Pages::start().await;
    let email = "admin.to.be@example.com";
    let mut jar = pages.signed_in(email).await;
    let me = pages
        .app
        .authenticate_session("acme", jar.get("tessera_session").unwrap())
        .await
        .unwrap();
    pages
        .app
        .set_user_role(
            &RequestContext::cli(),
            "acme",
            me.user.id,
            tessera_domain::authz::RoleRef::System(tessera_domain::role::SystemRole::Admin),
            tessera_domain::authz::AccessScope::Tenant,
            true,
        )
        .await
        .unwrap();
    // The open session now has to enrol first.
    let account = pages.get("/t/acme/account", &mut jar).await;
    assert_eq!(account.status, StatusCode::SEE_OTHER);
    assert_eq!(
        account.location(),
        "/t/acme/login/enrol?return_to=%2Ft%2Facme%2Faccount"
    );
    // And so does a new sign-in.
    pages.post("/t/acme/logout", &[], &mut jar).await;
    let page = password_sign_in(&pages, email, &mut jar).await;
    assert_eq!(page.location(), "/t/acme/login/enrol");
    let second = pages.get("/t/acme/login/mfa", &mut jar).await;
    assert_eq!(
        second.location(),
        "/t/acme/login/enrol",
        "no factor to pass"
    );
    let enrol = pages
        .get(
            "/t/acme/login/enrol?return_to=%2Ft%2Facme%2Faccount",
            &mut jar,
        )
        .await;
    assert_eq!(enrol.status, StatusCode::OK, "{}", enrol.body);
    assert!(enrol.body.contains("Your account requires a second factor"));
    assert!(enrol.body.contains("src=\"data:image/svg+xml;base64,"));
    assert!(enrol.body.contains("data-passkey=\"register\""));
    let key = enrol.text_after("id=\"totp-secret\">").unwrap();
    let mut app = totp::Authenticator::new(&key);
    let code = app.next_code().await;
    let page = pages
        .post(
            "/t/acme/login/enrol/totp",
            &[
                ("code", &code),
                ("secret", &enrol.hidden("secret").unwrap()),
                ("uri", &enrol.hidden("uri").unwrap()),
                ("return_to", "/t/acme/account"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.backup_codes().len(), 10);
    assert!(page.body.contains("href=\"/t/acme/account\""));
    let account = pages.get("/t/acme/account", &mut jar).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.location());
    // The last factor of an administrator stays.
    let page = pages
        .post("/t/acme/account/security/totp/remove", &[], &mut jar)
        .await;
    assert_eq!(page.status, StatusCode::CONFLICT, "{}", page.body);
    assert!(
        page.body
            .contains("add another one before removing this one")
    );
}
