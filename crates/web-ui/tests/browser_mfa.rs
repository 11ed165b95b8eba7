//! Second factors and passkeys in a real browser (Debian's chromium, headless, over the
//! DevTools protocol) with a CDP virtual authenticator (CTAP2, internal transport, resident
//! keys, user verification) against the real server on `http://localhost:<port>`:
//!
//! - **passkeys**: sign in with the password → register a passkey on the security page
//!   (first factor: backup codes shown once) → sign out → the sign-in page's passkey autofill
//!   (conditional mediation) signs in at once → sign out in a browser without autofill → the
//!   "Sign in with a passkey" button → set up an authenticator app (QR code; the codes are
//!   computed from the key the page shows) → sign out → password, then the passkey as second
//!   factor → remove the passkey.
//! - **admin**: a user created through the admin API is granted `admin` (a key with `*`) →
//!   sets a password through "forgot password" → signs in → must enrol → authenticator app →
//!   backup codes → account.
//!
//! Every step is saved as `<target>/test-screenshots/web-ui/{passkeys,admin}-NN-<step>.png`
//! and checked for CSP violations. The two journeys take turns (one browser at a time).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/browser.rs"]
mod support;
#[path = "support/totp.rs"]
mod totp;

use axum::http::Method;
use chromiumoxide::cdp::browser_protocol::web_authn::{
    AddVirtualAuthenticatorParams, AuthenticatorId, AuthenticatorProtocol, AuthenticatorTransport,
    Credential, Ctap2Version, EnableParams, GetCredentialsParams, VirtualAuthenticatorOptions,
};
use chromiumoxide::page::Page;
use serde_json::json;
use std::time::Duration;
use support::{Chromium, Journey, code, spawn_on_localhost};
use tessera_testkit::TestApp;

const PASSWORD: &str = "correct horse battery staple";

/// One browser at a time on two cores.
static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A platform authenticator with a PIN or biometrics that always says yes.
async fn virtual_authenticator(page: &Page) -> AuthenticatorId {
    page.execute(EnableParams::builder().build()).await.unwrap();
    let options = VirtualAuthenticatorOptions::builder()
        .protocol(AuthenticatorProtocol::Ctap2)
        .ctap2_version(Ctap2Version::Ctap21)
        .transport(AuthenticatorTransport::Internal)
        .has_resident_key(true)
        .has_user_verification(true)
        .is_user_verified(true)
        .automatic_presence_simulation(true)
        .build()
        .unwrap();
    page.execute(AddVirtualAuthenticatorParams::new(options))
        .await
        .unwrap()
        .result
        .authenticator_id
}

async fn credentials(page: &Page, id: &AuthenticatorId) -> Vec<Credential> {
    page.execute(GetCredentialsParams::new(id.clone()))
        .await
        .unwrap()
        .result
        .credentials
}

/// Registers and verifies `email` with [`PASSWORD`] through the REST API.
async fn registered(app: &TestApp, t: &str, email: &str) {
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/register"),
        None,
        Some(json!({"email": email, "password": PASSWORD, "given_name": "Ada", "family_name": "Lovelace"})),
    )
    .await
    .expect(202);
    let code = code(app, email).await;
    app.send(
        Method::POST,
        &format!("/t/{t}/api/v1/verify"),
        None,
        Some(json!({"identifier": email, "code": code})),
    )
    .await
    .expect(204);
}

async fn password_sign_in(j: &Journey, t: &str, email: &str) {
    j.open(&format!("{t}/login")).await;
    j.fill("#login-identifier", email).await;
    j.fill("#login-password", PASSWORD).await;
    j.click("main form[action$='/login'] button.button-primary")
        .await;
}

/// The authenticator key the page shows.
async fn shown_key(j: &Journey) -> String {
    j.eval("document.querySelector('#totp-secret').textContent")
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkeys_register_sign_in_alone_serve_as_second_factor_and_are_removed() {
    let _turn = TURN.lock().await;
    let app = spawn_on_localhost().await;
    let slug = app.tenant().await;
    let t = format!("/t/{slug}");
    let email = format!("ada.{slug}@example.com");
    registered(&app, &slug, &email).await;
    let chromium = Chromium::launch().await;

    let result = tokio::time::timeout(Duration::from_secs(300), async {
        let mut j = chromium.journey(&app.base, "passkeys").await;
        let authenticator = virtual_authenticator(&j.page).await;

        // Password sign-in, then the security page.
        password_sign_in(&j, &t, &email).await;
        j.expect_at(&format!("{t}/account")).await;
        let text = j.text().await;
        assert!(text.contains("Sign-in security"), "{text}");
        j.shot("account").await;
        j.click("a[href$='/account/security']").await;
        j.expect_at(&format!("{t}/account/security")).await;
        let text = j.text().await;
        assert!(text.contains("You have no passkey yet."), "{text}");
        j.shot("security").await;

        // Register a passkey: the first factor, so backup codes are shown once.
        j.fill("#new-passkey-name", "Virtual authenticator").await;
        j.click("form[data-passkey='register'] [data-passkey-start]")
            .await;
        let text = j.text().await;
        assert!(text.contains("Save your backup codes"), "{text}");
        let codes: usize = j
            .eval("document.querySelectorAll('.backup-codes li').length")
            .await;
        assert_eq!(codes, 10);
        j.shot("passkey-backup-codes").await;
        let stored = credentials(&j.page, &authenticator).await;
        assert_eq!(stored.len(), 1);
        assert!(stored[0].is_resident_credential);
        j.click(".actions a.button-primary").await;
        j.expect_at(&format!("{t}/account/security?notice=passkey_added"))
            .await;
        let text = j.text().await;
        assert!(
            text.contains("Virtual authenticator") && text.contains("Your passkey was added."),
            "{text}"
        );
        j.shot("passkey-added").await;

        // Sign out: on the sign-in page, passkey autofill (conditional mediation) offers the
        // passkey in the identifier field; the virtual authenticator picks it at once.
        j.click(".header-signout button").await;
        j.wait_until_at(&format!("{t}/account")).await;
        let text = j.text().await;
        assert!(text.contains("Ada Lovelace"), "{text}");
        j.shot("signed-in-by-passkey-autofill").await;

        // From here on, a browser without autofill for passkeys: the button signs in.
        j.page
            .evaluate_on_new_document(
                "if (window.PublicKeyCredential) { PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false); }",
            )
            .await
            .unwrap();
        j.click(".header-signout button").await;
        j.expect_at(&format!("{t}/login?notice=signed_out")).await;
        let autocomplete: String = j
            .eval("document.querySelector('#login-identifier').autocomplete")
            .await;
        assert_eq!(autocomplete, "username webauthn");
        j.shot("login-with-passkey-offered").await;
        j.click("form[data-passkey='authenticate'] [data-passkey-start]")
            .await;
        j.expect_at(&format!("{t}/account")).await;
        let text = j.text().await;
        assert!(text.contains("Ada Lovelace"), "{text}");
        j.shot("signed-in-with-passkey").await;

        // Set up an authenticator app as well (the passkey sign-in is recent enough).
        j.open(&format!("{t}/account/security")).await;
        j.click("a[href$='/account/security/totp']").await;
        j.expect_at(&format!("{t}/account/security/totp")).await;
        let qr: bool = j
            .eval("document.querySelector('img.qr').naturalWidth > 0")
            .await;
        assert!(qr, "the QR code is drawn");
        let mut authenticator_app = totp::Authenticator::new(&shown_key(&j).await);
        j.shot("totp-setup").await;
        j.fill("#totp-code", &authenticator_app.next_code().await)
            .await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/account/security?notice=totp_enabled"))
            .await;
        let text = j.text().await;
        assert!(text.contains("Your authenticator app is set up."), "{text}");
        j.shot("totp-enabled").await;

        // Password, then the passkey as the second factor.
        j.click(".header-signout button").await;
        password_sign_in(&j, &t, &email).await;
        j.expect_at(&format!("{t}/login/mfa")).await;
        let text = j.text().await;
        assert!(
            text.contains("Two-step verification") && text.contains("Use a passkey"),
            "{text}"
        );
        j.shot("second-step").await;
        j.click("main [data-passkey-start]").await;
        j.expect_at(&format!("{t}/account")).await;
        j.shot("signed-in-with-password-and-passkey").await;

        // Remove the passkey (the authenticator app remains).
        j.open(&format!("{t}/account/security#passkeys")).await;
        j.click("form[action$='/passkeys/remove'] button").await;
        j.expect_at(&format!("{t}/account/security?notice=passkey_removed"))
            .await;
        let text = j.text().await;
        assert!(
            text.contains("The passkey was removed.") && text.contains("You have no passkey yet."),
            "{text}"
        );
        j.shot("passkey-removed").await;
        j.shots
    })
    .await;

    chromium.close().await;
    let shots = result.expect("the journey took too long");
    assert!(shots >= 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_created_by_the_api_must_enrol_at_sign_in() {
    let _turn = TURN.lock().await;
    let app = spawn_on_localhost().await;
    let slug = app.tenant().await;
    let t = format!("/t/{slug}");
    let email = format!("grace.{slug}@example.com");
    let user = app
        .user(
            &slug,
            json!({
                "emails": [{"address": email, "verified": true}],
                "given_name": "Grace",
                "family_name": "Hopper",
                "state": "active",
            }),
        )
        .await;
    let id = user["id"].as_str().unwrap();
    let key = app.key(&slug, &["*"]).await;
    app.send(
        Method::PUT,
        &format!("/api/v1/tenants/{slug}/users/{id}/roles/admin"),
        Some(&key),
        None,
    )
    .await
    .expect(204);
    let chromium = Chromium::launch().await;

    let result = tokio::time::timeout(Duration::from_secs(300), async {
        let mut j = chromium.journey(&app.base, "admin").await;

        // The new administrator chooses a password through "forgot password".
        j.open(&format!("{t}/recover")).await;
        j.fill("#recover-identifier", &email).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/recover/code?")).await;
        j.fill("#recover-code", &code(&app, &email).await).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/recover/reset")).await;
        j.fill("#reset-password", PASSWORD).await;
        j.fill("#reset-password-confirm", PASSWORD).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/login?notice=password_reset"))
            .await;

        // Signing in leads to the enrolment.
        j.fill("#login-identifier", &email).await;
        j.fill("#login-password", PASSWORD).await;
        j.click("main form[action$='/login'] button.button-primary")
            .await;
        j.expect_at(&format!("{t}/login/enrol")).await;
        let text = j.text().await;
        assert!(
            text.contains("Your account requires a second factor"),
            "{text}"
        );
        let qr: bool = j
            .eval("document.querySelector('img.qr').naturalWidth > 0")
            .await;
        assert!(qr, "the QR code is drawn");
        j.shot("enrol").await;
        // Nothing else is open before enrolling.
        j.open(&format!("{t}/account")).await;
        j.expect_at(&format!("{t}/login/enrol?return_to=")).await;

        // A wrong code, then the right one.
        let mut authenticator_app = totp::Authenticator::new(&shown_key(&j).await);
        j.fill("#enrol-code", "000000").await;
        j.click("main form[action$='/login/enrol/totp'] button.button-primary")
            .await;
        let text = j.text().await;
        assert!(text.contains("There is a problem"), "{text}");
        j.shot("enrol-wrong-code").await;
        j.fill("#enrol-code", &authenticator_app.next_code().await)
            .await;
        j.click("main form[action$='/login/enrol/totp'] button.button-primary")
            .await;
        let text = j.text().await;
        assert!(text.contains("Save your backup codes"), "{text}");
        let codes: Vec<String> = j
            .eval("[...document.querySelectorAll('.backup-codes code')].map(c => c.textContent)")
            .await;
        assert_eq!(codes.len(), 10);
        j.shot("backup-codes").await;
        j.click(".actions a.button-primary").await;
        j.expect_at(&format!("{t}/account")).await;
        let text = j.text().await;
        assert!(
            text.contains("Grace Hopper") && text.contains("On"),
            "{text}"
        );
        j.shot("account").await;

        // The next sign-in asks for the code.
        j.click(".header-signout button").await;
        j.fill("#login-identifier", &email).await;
        j.fill("#login-password", PASSWORD).await;
        j.click("main form[action$='/login'] button.button-primary")
            .await;
        j.expect_at(&format!("{t}/login/mfa")).await;
        j.fill("#mfa-code", &authenticator_app.next_code().await)
            .await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/account")).await;
        j.shot("signed-in-with-code").await;
        j.shots
    })
    .await;

    chromium.close().await;
    let shots = result.expect("the journey took too long");
    assert!(shots >= 5);
}
