//! What the browser journeys share: Debian's chromium (headless, over the DevTools protocol
//! with chromiumoxide), a page that records Content-Security-Policy violations, the steps a
//! person takes (open, fill, click, wait for the next page), screenshots under
//! `<target>/test-screenshots/web-ui/<journey>-NN-<step>.png`, and a server whose public URL
//! is `http://localhost:<port>` (WebAuthn relying parties are domains, never addresses).
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

use chromiumoxide::browser::{Browser, BrowserConfig};
use chromiumoxide::handler::viewport::Viewport;
use chromiumoxide::page::{Page, ScreenshotParams};
use futures::StreamExt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tessera_testkit::TestApp;
use tokio::task::JoinHandle;

pub const STEP: Duration = Duration::from_secs(20);

pub fn chromium() -> PathBuf {
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
/// (`<target>/<profile>/deps/<test>-…`), without the pictures an earlier run of `journey`
/// left (the other journeys' pictures stay).
pub fn screenshot_dir(journey: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
    let dir = target.join("test-screenshots").join("web-ui");
    std::fs::create_dir_all(&dir).unwrap();
    let prefix = format!("{journey}-");
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(&prefix) && name.ends_with(".png") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    dir
}

/// Records CSP violations in every document (DevTools scripts are not subject to the page's
/// policy).
pub const WATCH_CSP: &str = "window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));";

/// A headless chromium with its own profile, and the task that drives its events.
pub struct Chromium {
    pub browser: Browser,
    events: JoinHandle<()>,
    _profile: tempfile::TempDir,
}

impl Chromium {
    pub async fn launch() -> Self {
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
                "--host-resolver-rules=MAP localhost 127.0.0.1",
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
        let (browser, mut handler) = Browser::launch(config).await.unwrap();
        let events = tokio::spawn(async move { while handler.next().await.is_some() {} });
        Self {
            browser,
            events,
            _profile: profile,
        }
    }

    /// A new tab on `base`, watching for CSP violations, for the journey `name`.
    pub async fn journey(&self, base: &str, name: &str) -> Journey {
        let page = self.browser.new_page("about:blank").await.unwrap();
        page.evaluate_on_new_document(WATCH_CSP).await.unwrap();
        Journey {
            page,
            base: base.to_owned(),
            dir: screenshot_dir(name),
            name: name.to_owned(),
            shots: 0,
        }
    }

    pub async fn close(mut self) {
        self.browser.close().await.ok();
        self.browser.wait().await.ok();
        self.events.abort();
    }
}

pub struct Journey {
    pub page: Page,
    pub base: String,
    pub dir: PathBuf,
    pub name: String,
    pub shots: usize,
}

impl Journey {
    pub async fn eval<T: serde::de::DeserializeOwned>(&self, js: &str) -> T {
        self.page
            .evaluate(js)
            .await
            .unwrap_or_else(|e| panic!("evaluate {js}: {e}"))
            .into_value()
            .unwrap_or_else(|e| panic!("value of {js}: {e}"))
    }

    pub async fn path(&self) -> String {
        self.eval("location.pathname + location.search").await
    }

    pub async fn text(&self) -> String {
        self.eval("document.body.innerText").await
    }

    /// Waits until a new document has loaded (the previous one was marked).
    pub async fn wait_for_new_document(&self) {
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
            if tokio::time::Instant::now() >= deadline {
                let shot = self.dir.join(format!("{}-failure.png", self.name));
                let _ = self
                    .page
                    .save_screenshot(ScreenshotParams::builder().full_page(true).build(), &shot)
                    .await;
                panic!("no new page after {STEP:?} ({})", shot.display());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn mark_stale(&self) {
        let _: bool = self.eval("document.body.dataset.stale = '1'; true").await;
    }

    pub async fn open(&self, path: &str) {
        self.mark_stale().await;
        self.page
            .goto(format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
        self.wait_for_new_document().await;
    }

    pub async fn fill(&self, selector: &str, value: &str) {
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

    /// Clicks what `selector` finds and waits for the page it leads to (also when a script
    /// submits the form later, as the passkey buttons do).
    pub async fn click(&self, selector: &str) {
        self.mark_stale().await;
        self.page
            .find_element(selector)
            .await
            .unwrap_or_else(|e| panic!("{selector}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {selector}: {e}"));
        self.wait_for_new_document().await;
    }

    /// Asserts the page's path and query start with `prefix` (on failure: what the page says,
    /// and its screenshot as `<journey>-failure.png`).
    pub async fn expect_at(&self, prefix: &str) {
        let path = self.path().await;
        if !path.starts_with(prefix) {
            let shot = self.dir.join(format!("{}-failure.png", self.name));
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

    /// Waits until the page is at `prefix` (a page that moves on by itself, as a passkey
    /// picked through autofill does).
    pub async fn wait_until_at(&self, prefix: &str) {
        let deadline = tokio::time::Instant::now() + STEP;
        loop {
            let here: Option<String> = self
                .page
                .evaluate(
                    "document.readyState === 'complete' && document.querySelector('h1') ? location.pathname + location.search : ''",
                )
                .await
                .ok()
                .and_then(|r| r.into_value().ok());
            if here.is_some_and(|p| p.starts_with(prefix)) {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                self.expect_at(prefix).await;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Checks the page (no CSP violation, stylesheet applied) and saves its screenshot.
    pub async fn shot(&mut self, step: &str) -> PathBuf {
        let violations: Vec<String> = self.eval("window.__cspViolations || []").await;
        assert!(
            violations.is_empty(),
            "{step}: CSP violations {violations:?}"
        );
        let styled: bool = self
            .eval("getComputedStyle(document.querySelector('.card')).borderRadius !== '0px'")
            .await;
        assert!(styled, "{step}: the stylesheet is not applied");
        self.shots += 1;
        let path = self
            .dir
            .join(format!("{}-{:02}-{step}.png", self.name, self.shots));
        self.page
            .save_screenshot(ScreenshotParams::builder().full_page(true).build(), &path)
            .await
            .unwrap();
        println!("screenshot: {}", path.display());
        path
    }
}

/// The last message sent to `to` with a code.
pub async fn code(app: &TestApp, to: &str) -> String {
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

/// A bootstrapped server answering as `http://localhost:<port>` (bound on 127.0.0.1; the
/// browser maps `localhost` there).
pub async fn spawn_on_localhost() -> TestApp {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let mut settings = tessera_testkit::test_settings(&dir, None);
    settings.server.listen = format!("127.0.0.1:{port}");
    settings.server.public_url = Some(format!("http://localhost:{port}"));
    let mut app = TestApp::start_with(settings, dir, None).await;
    let out = tessera_server::cli::bootstrap::bootstrap(
        &app.settings,
        "admin",
        Some("admin@example.com"),
    )
    .await
    .unwrap();
    app.operator_key = out.api_key;
    app.base = format!("http://localhost:{port}");
    app
}
