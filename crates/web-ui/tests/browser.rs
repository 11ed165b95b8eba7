//! The whole journey of a person in a real browser (Debian's chromium, headless, driven over
//! the DevTools protocol by chromiumoxide) against the real server: register → read the
//! code from the file outbox → verify → a wrong password → sign in → change the password →
//! sign out → sign in with the new password → forgot password → code → new password → sign
//! in. Every page is saved as a PNG under `<target>/test-screenshots/web-ui/account-*.png`
//! (the paths are printed). Every page is also checked for Content-Security-Policy violations
//! (none: the pages have no inline script or style) and for its stylesheet being applied.
//!
//! Needs `/usr/bin/chromium` (or `TESSERA_CHROMIUM`); `.ci/run` installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/browser.rs"]
mod support;

use std::time::Duration;
use support::{Chromium, code, spawn_on_localhost};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_registers_verifies_signs_in_changes_and_recovers_the_password() {
    let app = spawn_on_localhost().await;
    let slug = app.tenant().await;
    let chromium = Chromium::launch().await;

    let result = tokio::time::timeout(Duration::from_secs(240), async {
        let mut j = chromium.journey(&app.base, "account").await;
        let t = format!("/t/{slug}");
        let email = format!("ada.{slug}@example.com");
        let first = "correct horse battery staple";
        let second = "a brand new passphrase, 2026";
        let third = "recovered passphrase of mine";

        // Register.
        j.open(&format!("{t}/register")).await;
        assert!(j.text().await.contains("Create an account"));
        j.shot("register").await;
        j.fill("#reg-given-name", "Ada").await;
        j.fill("#reg-family-name", "Lovelace").await;
        j.fill("#reg-email", &email).await;
        j.fill("#reg-password", first).await;
        j.fill("#reg-password-confirm", first).await;
        j.click("main button[type=submit]").await;

        // Verify with the code from the outbox.
        j.expect_at(&format!("{t}/verify?")).await;
        let text = j.text().await;
        assert!(text.contains("We sent a code"), "{text}");
        j.shot("verify").await;
        let code = code(&app, &email).await;
        j.fill("#verify-code", &code).await;
        j.click("main button.button-primary").await;
        assert!(
            j.path()
                .await
                .starts_with(&format!("{t}/login?notice=verified"))
        );
        assert!(j.text().await.contains("your account is verified"));
        let prefilled: String = j
            .eval("document.querySelector('#login-identifier').value")
            .await;
        assert_eq!(prefilled, email);
        j.shot("login-verified").await;

        // A wrong password: the error is announced and the identifier kept.
        j.fill("#login-password", "not the password").await;
        j.click("main button.button-primary").await;
        let text = j.text().await;
        assert!(text.contains("There is a problem"), "{text}");
        assert!(
            text.contains("The identifier or the password is wrong."),
            "{text}"
        );
        j.shot("login-wrong-password").await;

        // Sign in.
        j.fill("#login-identifier", &email).await;
        j.fill("#login-password", first).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/account")).await;
        let text = j.text().await;
        assert!(
            text.contains("Your account") && text.contains(&email),
            "{text}"
        );
        assert!(
            text.contains("Ada Lovelace") && text.contains("Verified"),
            "{text}"
        );
        assert!(text.contains("Signed in"), "{text}");
        j.shot("account").await;

        // Change the password (a mismatch first).
        j.fill("#cp-current", first).await;
        j.fill("#cp-new", second).await;
        j.fill("#cp-confirm", "typo").await;
        j.click("form[action$='/account/password'] button[type=submit]")
            .await;
        let invalid: String = j
            .eval("document.querySelector('#cp-confirm').getAttribute('aria-invalid') || ''")
            .await;
        assert_eq!(invalid, "true");
        j.shot("account-password-mismatch").await;
        j.fill("#cp-current", first).await;
        j.fill("#cp-new", second).await;
        j.fill("#cp-confirm", second).await;
        j.click("form[action$='/account/password'] button[type=submit]")
            .await;
        assert_eq!(
            j.path().await,
            format!("{t}/account?notice=password_changed")
        );
        assert!(j.text().await.contains("Your password was changed."));
        j.shot("password-changed").await;

        // Sign out.
        j.click(".header-signout button").await;
        j.expect_at(&format!("{t}/login?notice=signed_out")).await;
        assert!(j.text().await.contains("You are signed out."));
        j.shot("signed-out").await;
        j.open(&format!("{t}/account")).await;
        j.expect_at(&format!("{t}/login?return_to=")).await;

        // The old password no longer works; the new one does.
        j.fill("#login-identifier", &email).await;
        j.fill("#login-password", first).await;
        j.click("main button.button-primary").await;
        assert!(
            j.text()
                .await
                .contains("The identifier or the password is wrong.")
        );
        j.fill("#login-password", second).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/account")).await;
        j.click(".header-signout button").await;

        // Forgot password: code, then a new password carried by a hidden ticket.
        j.open(&format!("{t}/recover")).await;
        j.shot("recover").await;
        j.fill("#recover-identifier", &email).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/recover/code?")).await;
        j.shot("recover-code").await;
        // Wait for the recovery code (a newer message than the verification code).
        let mut recovery = String::new();
        for _ in 0..100 {
            let sent = app.outbox();
            let codes: Vec<&str> = sent
                .iter()
                .filter(|m| m["to"].as_str().is_some_and(|t| t.contains(&email)))
                .filter_map(|m| m["code"].as_str())
                .collect();
            if codes.len() >= 2 {
                recovery = codes[codes.len() - 1].to_owned();
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(!recovery.is_empty(), "no recovery code: {:?}", app.outbox());
        j.fill("#recover-code", &recovery).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/recover/reset")).await;
        let ticket: String = j
            .eval("document.querySelector('input[name=ticket]').value")
            .await;
        assert!(!ticket.is_empty());
        j.shot("recover-reset").await;
        j.fill("#reset-password", third).await;
        j.fill("#reset-password-confirm", third).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/login?notice=password_reset"))
            .await;
        assert!(j.text().await.contains("Sign in with your new password"));
        j.shot("login-after-reset").await;
        j.fill("#login-identifier", &email).await;
        j.fill("#login-password", third).await;
        j.click("main button.button-primary").await;
        j.expect_at(&format!("{t}/account")).await;
        let text = j.text().await;
        assert!(text.contains("Recovery code confirmed"), "{text}");
        j.shot("account-after-reset").await;
        j.shots
    })
    .await;

    chromium.close().await;
    let shots = result.expect("the journey took too long");
    assert!(shots >= 12);
}
