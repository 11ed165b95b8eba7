//! The whole journey of a person in a real browser (Debian's chromium, headless, driven over
//! the DevTools protocol by chromiumoxide) against the real server: register → read the
//! code from the file outbox → verify → a wrong password → sign in → change the password →
//! sign out → sign in with the new password → forgot password → code → new password → sign
//! in. Every page is saved as a PNG under `<target>/test-screenshots/web-ui/` (the paths are
//! printed). Every page is also checked for Content-Security-Policy violations (none: the
//! pages have no inline script or style) and for its stylesheet being applied.
//!
//! Needs `/usr/bin/chromium` (or `TESSERA_CHROMIUM`); `.ci/run` installs it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::{Page, ScreenshotParams};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_testkit::TestApp;

const STEP: Duration = Duration::from_secs(20);

fn chromium() -> PathBuf {
    let path = std::env::var_os("TESSERA_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} is missing: install Debian's chromium (apt-get install chromium) or set TESSERA_CHROMIUM",
        path.display()
    );
    path
}

/// `<target>/test-screenshots/web-ui`, from the test binary's own path
/// (`<target>/<profile>/deps/browser-…`).
fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
    let dir = target.join("test-screenshots").join("web-ui");
    std::fs::create_dir_all(&dir).unwrap();
    // Only this run's pictures (and no failure picture of an earlier run).
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        if entry.path().extension().is_some_and(|e| e == "png") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    dir
}

/// Records CSP violations in every document (DevTools scripts are not subject to the page's
/// policy; the pages themselves run no script).
const WATCH_CSP: &str = "window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));";

struct Journey {
    page: Page,
    base: String,
    dir: PathBuf,
    shots: usize,
}

impl Journey {
    async fn eval<T: serde::de::DeserializeOwned>(&self, js: &str) -> T {
        self.page
            .evaluate(js)
            .await
            .unwrap_or_else(|e| panic!("evaluate {js}: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("value of {js}: {e}"))
    }

    async fn path(&self) -> String {
        self.eval("location.pathname + location.search").await
    }

    async fn text(&self) -> String {
        self.eval("document.body.innerText").await
    }

    /// Waits until a new document has loaded (the previous one was marked).
    async fn wait_for_new_document(&self) {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let fresh: Option<bool> = self
                .page
                .evaluate(
                    "document.readyState === 'complete' && !!document.body && !document.body.dataset.stale && !!document.querySelector('h1')",
                )
                .await
                .ok()
                .and_then(|r| r.into_value().ok());
            if fresh == Some(true) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no new page after {STEP:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn mark_stale(&self) {
        let _: bool = self.eval("document.body.dataset.stale = '1'; true").await;
    }

    async fn open(&self, path: &str) {
        self.mark_stale().await;
        self.page
            .goto(format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.wait_for_new_document().await;
    }

    async fn fill(&self, selector: &str, value: &str) {
        let el = self
            .page
            .find_element(selector)
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"));
        // Clear what the page pre-filled, then type as a person would.
        el.call_js_fn("function() { this.value = ''; }", false)
            .await
            .unwrap();
        el.click().await.unwrap();
        el.type_str(value).await.unwrap();
    }

    async fn click(&self, selector: &str) {
        self.mark_stale().await;
        self.page
            .find_element(selector)
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"))
            .click()
            .await
            .unwrap();
        self.wait_for_new_document().await;
    }

    /// Asserts the page's path and query start with `prefix` (on failure: what the page says,
    /// and its screenshot as `failure.png`).
    async fn expect_at(&self, prefix: &str) {
        let path = self.path().await;
        if !path.starts_with(prefix) {
            let shot = self.dir.join("failure.png");
            let _ = self
                .page
                .save_screenshot(ScreenshotParams::builder().full_page(true).build(), &shot)
                .await;
            panic!(
                "expected {prefix}, at {path} ({}):\n{}",
                shot.display(),
                self.text().await
            );
        }
    }

    /// Checks the page (no CSP violation, stylesheet applied) and saves its screenshot.
    async fn shot(&mut self, name: &str) -> PathBuf {
        let violations: Vec<String> = self.eval("window.__cspViolations || []").await;
        assert!(
            violations.is_empty(),
            "{name}: CSP violations {violations:?}"
        );
        let styled: bool = self
            .eval("getComputedStyle(document.querySelector('.card')).borderRadius !== '0px'")
            .await;
        assert!(styled, "{name}: the stylesheet is not applied");
        self.shots += 1;
        let path = self.dir.join(format!("{:02}-{name}.png", self.shots));
        self.page
            .save_screenshot(ScreenshotParams::builder().full_page(true).build(), &path)
            .await
            .unwrap();
        println!("screenshot: {}", path.display());
        path
    }
}

async fn code(app: &TestApp, to: &str) -> String {
    for _ in 0..100 {
        let code = app
            .outbox()
            .iter()
            .rev()
            .find(|m| m["to"].as_str().is_some_and(|t| t.contains(to)) && m["code"].is_string())
            .and_then(|m| m["code"].as_str().map(str::to_owned));
        if let Some(code) = code {
            return code;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no code was sent to {to}: {:?}", app.outbox());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_registers_verifies_signs_in_changes_and_recovers_the_password() {
    let app = TestApp::spawn().await;
    let slug = app.tenant().await;
    let profile = tempfile::tempdir().unwrap();
    let config = BrowserConfig::builder()
        .chrome_executable(chromium())
        .disable_default_args()
        .no_sandbox()
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--password-store=basic",
            "--hide-scrollbars",
            "--lang=en-GB",
        ])
        .user_data_dir(profile.path())
        .window_size(1280, 900)
        .viewport(Viewport {
            width: 1280,
            height: 900,
            device_scale_factor: Some(1.0),
            emulating_mobile: false,
            is_landscape: true,
            has_touch: false,
        })
        .launch_timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let (mut browser, mut handler) = Browser::launch(config).await.unwrap();
    let events = tokio::spawn(async move { while handler.next().await.is_some() {} });

    let result = tokio::time::timeout(Duration::from_secs(240), async {
        let page = browser.new_page("about:blank").await.unwrap();
        page.evaluate_on_new_document(WATCH_CSP).await.unwrap();
        let mut j = Journey {
            page,
            base: app.base.clone(),
            dir: screenshot_dir(),
            shots: 0,
        };
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

    browser.close().await.ok();
    browser.wait().await.ok();
    events.abort();
    let shots = result.expect("the journey took too long");
    assert!(shots >= 12);
}
