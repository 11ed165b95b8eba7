//! Router-level tests of the pages (no socket: `tower::ServiceExt::oneshot`) on the real
//! application, composed as the server composes it, with a fresh SQLite database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/totp.rs"]
mod totp;

#[path = "pages/passwordless.rs"]
mod passwordless;
#[path = "pages/two_step.rs"]
mod two_step;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use std::collections::BTreeMap;
use std::sync::Arc;
use tempfile::TempDir;
use tessera_application::{App, NewTenant, RequestContext};
use tessera_domain::tenant::{TenantSettings, TenantSlug};
use tessera_http_kit::cookies::CookiePolicy;
use tessera_web_ui::{WebState, router};
use tower::ServiceExt;

/// A host name, not an address: WebAuthn relying parties are domains.
const PUBLIC_URL: &str = "http://localhost:8080";
const PASSWORD: &str = "correct horse battery staple";

struct Pages {
    router: Router,
    app: App,
    outbox: std::path::PathBuf,
    _dir: TempDir,
}

/// An answer: status, headers and body.
struct Page {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Page {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    fn location(&self) -> &str {
        self.header("location")
    }
    /// The text of the element whose opening tag ends with `opening` (up to the next `<`).
    fn text_after(&self, opening: &str) -> Option<String> {
        let start = self.body.find(opening)? + opening.len();
        let end = self.body[start..].find('<')?;
        Some(self.body[start..start + end].to_owned())
    }
    /// The backup codes a page lists.
    fn backup_codes(&self) -> Vec<String> {
        let list = self
            .body
            .split("class=\"backup-codes\"")
            .nth(1)
            .unwrap_or("");
        let list = &list[..list.find("</ol>").unwrap_or(0)];
        list.split("<code>")
            .skip(1)
            .filter_map(|c| c.split("</code>").next())
            .map(str::to_owned)
            .collect()
    }
    /// The value of the first hidden input `name`.
    fn hidden(&self, name: &str) -> Option<String> {
        let needle = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&needle)? + needle.len();
        let end = self.body[start..].find('"')?;
        Some(self.body[start..start + end].to_owned())
    }
}

/// The cookies a browser would hold.
#[derive(Default, Clone)]
struct Jar(BTreeMap<String, String>);

impl Jar {
    fn absorb(&mut self, page: &Page) {
        for set in page.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }
    fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

fn encode(form: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in form {
        s.append_pair(k, v);
    }
    s.finish()
}

impl Pages {
    async fn start() -> Self {
        Self::with_settings(TenantSettings::default()).await
    }

    async fn with_settings(settings: TenantSettings) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = tessera_testkit::test_settings(&dir, None);
        let outbox = config.outbox_dir().join("outbox.jsonl");
        let app = tessera_server::compose::build(&config)
            .await
            .unwrap()
            .with_public_url(PUBLIC_URL);
        app.create_tenant(
            &RequestContext::cli(),
            NewTenant {
                slug: TenantSlug::parse("acme").unwrap(),
                display_name: "Acme".to_owned(),
                organization_id: None,
                organization_name: Some("Acme".to_owned()),
                settings,
            },
        )
        .await
        .unwrap();
        let router = router(WebState {
            app: app.clone(),
            trusted_proxies: Arc::new(vec![]),
            cookies: CookiePolicy::for_public_url(PUBLIC_URL),
            public_url: PUBLIC_URL.to_owned(),
        });
        Self {
            router,
            app,
            outbox,
            _dir: dir,
        }
    }

    async fn send(&self, req: Request<Body>, jar: &mut Jar) -> Page {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 1 << 20)
            .await
            .unwrap();
        let page = Page {
            status,
            headers,
            body: String::from_utf8(bytes.to_vec()).unwrap(),
        };
        jar.absorb(&page);
        page
    }

    async fn get(&self, path: &str, jar: &mut Jar) -> Page {
        let req = Request::get(path)
            .header(header::COOKIE, jar.header())
            .body(Body::empty())
            .unwrap();
        self.send(req, jar).await
    }

    /// Posts `form` with the jar's CSRF token, as the page's own form would.
    async fn post(&self, path: &str, form: &[(&str, &str)], jar: &mut Jar) -> Page {
        if jar.get("tessera_csrf").is_none() {
            self.get("/t/acme/login", jar).await;
        }
        let token = jar.get("tessera_csrf").unwrap().to_owned();
        let mut fields = vec![("csrf", token.as_str())];
        fields.extend_from_slice(form);
        self.post_raw(path, &encode(&fields), jar, Some(PUBLIC_URL))
            .await
    }

    async fn post_raw(&self, path: &str, body: &str, jar: &mut Jar, origin: Option<&str>) -> Page {
        let mut req = Request::post(path)
            .header(header::COOKIE, jar.header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(origin) = origin {
            req = req.header(header::ORIGIN, origin);
        }
        self.send(req.body(Body::from(body.to_owned())).unwrap(), jar)
            .await
    }

    /// The token of the last sign-in link sent to `to`.
    async fn link_token_for(&self, to: &str) -> String {
        for _ in 0..50 {
            let text = std::fs::read_to_string(&self.outbox).unwrap_or_default();
            let link = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|m| m["to"].as_str().is_some_and(|t| t.contains(to)))
                .filter_map(|m| m["link"].as_str().map(str::to_owned))
                .next_back();
            if let Some(link) = link {
                return link.split("token=").nth(1).unwrap().to_owned();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no link was sent to {to}");
    }

    /// Registers, verifies and signs in `email`; returns the browser's jar.
    async fn signed_in(&self, email: &str) -> Jar {
        let mut jar = self.verified_user(email).await;
        let page = self
            .post(
                "/t/acme/login",
                &[("identifier", email), ("password", PASSWORD)],
                &mut jar,
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), "/t/acme/account");
        jar
    }

    /// The last code sent to `to`.
    async fn code_for(&self, to: &str) -> String {
        for _ in 0..50 {
            let text = std::fs::read_to_string(&self.outbox).unwrap_or_default();
            let code = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter(|m| m["to"].as_str().is_some_and(|t| t.contains(to)))
                .filter_map(|m| m["code"].as_str().map(str::to_owned))
                .next_back();
            if let Some(code) = code {
                return code;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no code was sent to {to}");
    }

    /// Registers and verifies `email`; returns the browser's jar.
    async fn verified_user(&self, email: &str) -> Jar {
        let mut jar = Jar::default();
        let page = self
            .post(
                "/t/acme/register",
                &[
                    ("given_name", "Ada"),
                    ("email", email),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
                &mut jar,
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let code = self.code_for(email).await;
        let page = self
            .post(
                "/t/acme/verify",
                &[("identifier", email), ("code", &code)],
                &mut jar,
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        jar
    }
}

#[tokio::test]
async fn pages_carry_the_security_headers_and_the_stylesheet_is_cached() {
    let pages = Pages::start().await;
    let mut jar = Jar::default();
    for path in [
        "/t/acme/login",
        "/t/acme/register",
        "/t/acme/verify",
        "/t/acme/recover",
        "/t/acme/recover/code",
        "/t/acme/recover/reset",
    ] {
        let page = pages.get(path, &mut jar).await;
        assert_eq!(page.status, StatusCode::OK, "{path}");
        assert_eq!(
            page.header("content-security-policy"),
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        );
        assert_eq!(page.header("x-frame-options"), "DENY");
        assert_eq!(page.header("referrer-policy"), "no-referrer");
        assert_eq!(page.header("cache-control"), "no-store");
        assert!(page.header("content-type").starts_with("text/html"));
        assert!(page.body.contains("<title>"), "{path}");
        // No inline script: at most the passkey script, from this server.
        assert_eq!(
            page.body.matches("<script").count(),
            page.body
                .matches("<script src=\"/assets/webauthn.js?v=")
                .count(),
            "{path}"
        );
        assert!(
            page.body.contains("href=\"/assets/tessera.css?v="),
            "{path}"
        );
        assert!(page.body.contains("Acme"), "{path}: the tenant's name");
        // The CSRF token of the cookie is the one of the forms.
        let token = jar.get("tessera_csrf").unwrap();
        if page.body.contains("method=\"post\"") {
            assert_eq!(page.hidden("csrf").as_deref(), Some(token), "{path}");
        }
    }
    let css = pages.get("/assets/tessera.css", &mut jar).await;
    assert_eq!(css.status, StatusCode::OK);
    assert_eq!(css.header("content-type"), "text/css; charset=utf-8");
    assert!(css.header("cache-control").contains("max-age=31536000"));
    assert!(css.body.contains(".button-primary"));
    let js = pages.get("/assets/webauthn.js", &mut jar).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.header("content-type"), "text/javascript; charset=utf-8");
    assert_eq!(js.header("x-content-type-options"), "nosniff");
    assert!(js.body.contains("navigator.credentials"));

    let missing = pages.get("/t/nobody/login", &mut jar).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.body.contains("Page not found"));
}

#[tokio::test]
async fn a_post_without_a_matching_csrf_token_or_from_another_origin_changes_nothing() {
    let pages = Pages::start().await;
    let email = "mallory-target@example.com";
    let fields = |csrf: &str| {
        encode(&[
            ("csrf", csrf),
            ("email", email),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
    };
    // No cookie at all: refused, and a token is handed out for the next try.
    let mut jar = Jar::default();
    let page = pages
        .post_raw("/t/acme/register", &fields("x"), &mut jar, None)
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("This form has expired"));
    assert!(jar.get("tessera_csrf").is_some());
    let token = jar.get("tessera_csrf").unwrap().to_owned();
    // A cookie, but another token in the form (what a forging site would send).
    let other = "A".repeat(43);
    let page = pages
        .post_raw(
            "/t/acme/register",
            &fields(&other),
            &mut jar,
            Some(PUBLIC_URL),
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The right token, no token field.
    let page = pages
        .post_raw(
            "/t/acme/register",
            &encode(&[("email", email)]),
            &mut jar,
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    // The right token, from another origin.
    for origin in [
        "https://evil.example",
        "http://127.0.0.1:9999",
        "http://127.0.0.1:8080",
    ] {
        let page = pages
            .post_raw("/t/acme/register", &fields(&token), &mut jar, Some(origin))
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{origin}");
        assert!(page.body.contains("another site"), "{origin}");
    }
    // An opaque origin (`null`) from another site, as a sandboxed frame would send it.
    let req = Request::post("/t/acme/register")
        .header(header::COOKIE, jar.header())
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "null")
        .header("sec-fetch-site", "cross-site")
        .body(Body::from(fields(&token)))
        .unwrap();
    assert_eq!(
        pages.send(req, &mut jar).await.status,
        StatusCode::FORBIDDEN
    );
    // Not a form.
    let req = Request::post("/t/acme/register")
        .header(header::COOKIE, jar.header())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(
        pages.send(req, &mut jar).await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    // Nothing was registered: no code was sent.
    let sent = std::fs::read_to_string(&pages.outbox).unwrap_or_default();
    assert!(!sent.contains(email), "{sent}");
    // Logout is protected too: a forged logout does not end the session.
    let mut victim = pages.verified_user("victim@example.com").await;
    let signed_in = pages
        .post(
            "/t/acme/login",
            &[("identifier", "victim@example.com"), ("password", PASSWORD)],
            &mut victim,
        )
        .await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let forged = pages
        .post_raw(
            "/t/acme/logout",
            "",
            &mut victim,
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(victim.get("tessera_session").is_some());
    let account = pages.get("/t/acme/account", &mut victim).await;
    assert_eq!(account.status, StatusCode::OK);
}

#[tokio::test]
async fn sign_in_rotates_the_session_and_honours_only_local_return_paths() {
    let pages = Pages::start().await;
    let email = "ada@example.com";
    let mut jar = pages.verified_user(email).await;
    let creds = [("identifier", email), ("password", PASSWORD)];

    // The hidden return path is rendered only when it is local.
    let page = pages
        .get("/t/acme/login?return_to=%2F%2Fevil.example", &mut jar)
        .await;
    assert_eq!(page.hidden("return_to"), None);
    let page = pages
        .get(
            "/t/acme/login?return_to=%2Ft%2Facme%2Faccount%3Fa%3D1",
            &mut jar,
        )
        .await;
    assert_eq!(
        page.hidden("return_to").as_deref(),
        Some("/t/acme/account?a=1")
    );

    let mut sessions = Vec::new();
    for (return_to, expected) in [
        ("", "/t/acme/account"),
        ("//evil.example/", "/t/acme/account"),
        ("/\\evil.example", "/t/acme/account"),
        ("https://evil.example/", "/t/acme/account"),
        ("/t/acme/account\r\nSet-Cookie: x=1", "/t/acme/account"),
        (
            "/t/acme/account?tab=sessions",
            "/t/acme/account?tab=sessions",
        ),
    ] {
        let mut form = creds.to_vec();
        form.push(("return_to", return_to));
        let page = pages.post("/t/acme/login", &form, &mut jar).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), expected, "{return_to:?}");
        let cookie = page.header("set-cookie");
        assert!(
            page.headers
                .get_all(header::SET_COOKIE)
                .iter()
                .any(|v| v.to_str().unwrap().contains("HttpOnly")),
            "{cookie}"
        );
        sessions.push(jar.get("tessera_session").unwrap().to_owned());
    }
    // A new session at every sign-in; the one the browser held before is ended.
    let unique: std::collections::BTreeSet<_> = sessions.iter().collect();
    assert_eq!(unique.len(), sessions.len());
    for old in &sessions[..sessions.len() - 1] {
        assert!(pages.app.authenticate_session("acme", old).await.is_err());
    }
    let me = pages
        .app
        .authenticate_session("acme", sessions.last().unwrap())
        .await
        .unwrap();
    assert_eq!(pages.app.my_sessions(&me).await.unwrap().len(), 1);

    // The account page shows the user and is not cached.
    let account = pages.get("/t/acme/account", &mut jar).await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains(email));
    assert!(account.body.contains("Signed in as"));
    assert_eq!(account.header("cache-control"), "no-store");

    // Sign out: the session ends and the account page sends to sign-in.
    let out = pages.post("/t/acme/logout", &[], &mut jar).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/t/acme/login?notice=signed_out");
    assert!(jar.get("tessera_session").is_none());
    assert!(
        pages
            .app
            .authenticate_session("acme", sessions.last().unwrap())
            .await
            .is_err()
    );
    let account = pages.get("/t/acme/account", &mut jar).await;
    assert_eq!(account.status, StatusCode::SEE_OTHER);
    assert_eq!(
        account.location(),
        "/t/acme/login?return_to=%2Ft%2Facme%2Faccount"
    );
}

#[tokio::test]
async fn errors_are_shown_next_to_their_field_and_in_the_summary() {
    let pages = Pages::start().await;
    let mut jar = Jar::default();
    let page = pages
        .post(
            "/t/acme/register",
            &[
                ("email", "not an email"),
                ("password", PASSWORD),
                ("password_confirm", "something else entirely"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("class=\"error-summary\""));
    assert!(page.body.contains("<title>Error: "));
    assert!(page.body.contains("href=\"#reg-email\""));
    assert!(page.body.contains("id=\"reg-email-error\""));
    assert!(
        page.body
            .contains("aria-describedby=\"reg-email-hint reg-email-error\"")
    );
    assert!(page.body.contains("href=\"#reg-password-confirm\""));
    assert!(
        page.body.contains("value=\"not an email\""),
        "the input is kept"
    );
    assert!(
        !page.body.contains(PASSWORD),
        "a password is never sent back"
    );

    // A password the policy refuses comes back from the application on its field.
    let page = pages
        .post(
            "/t/acme/register",
            &[
                ("email", "short@example.com"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("id=\"reg-password-error\""),
        "{}",
        page.body
    );

    // A wrong code.
    let page = pages
        .post(
            "/t/acme/verify",
            &[("identifier", "nobody@example.com"), ("code", "000000")],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("id=\"verify-code-error\""),
        "{}",
        page.body
    );
}

#[tokio::test]
async fn repeated_failures_show_a_429_page_with_the_wait() {
    let pages = Pages::start().await;
    let mut jar = pages.verified_user("target@example.com").await;
    let mut throttled = None;
    for _ in 0..12 {
        let page = pages
            .post(
                "/t/acme/login",
                &[
                    ("identifier", "target@example.com"),
                    ("password", "wrong password, wrong"),
                ],
                &mut jar,
            )
            .await;
        if page.status == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(page);
            break;
        }
        assert_eq!(page.status, StatusCode::UNAUTHORIZED);
        assert!(
            page.body
                .contains("The identifier or the password is wrong.")
        );
    }
    let page = throttled.expect("throttled after repeated failures");
    let wait: u64 = page.header("retry-after").parse().unwrap();
    assert!(wait >= 1);
    assert!(
        page.body.contains("Too many attempts. Try again in"),
        "{}",
        page.body
    );
    assert!(!page.header("content-security-policy").is_empty());
}

#[tokio::test]
async fn recovery_keeps_codes_and_tickets_out_of_urls() {
    let pages = Pages::start().await;
    let email = "forgetful@example.com";
    let mut jar = pages.verified_user(email).await;

    let page = pages
        .post("/t/acme/recover", &[("identifier", email)], &mut jar)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        "/t/acme/recover/code?identifier=forgetful%40example.com&notice=recovery_sent"
    );
    let code = pages.code_for(email).await;
    let page = pages
        .post(
            "/t/acme/recover/code",
            &[("identifier", email), ("code", &code)],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/t/acme/recover/reset");
    let ticket = jar.get("tessera_reset").unwrap().to_owned();
    assert!(!page.location().contains(&code));

    let form = pages.get("/t/acme/recover/reset", &mut jar).await;
    assert_eq!(form.hidden("ticket").as_deref(), Some(ticket.as_str()));

    // The two passwords differ: shown again, the ticket kept.
    let new = "an entirely new passphrase";
    let page = pages
        .post(
            "/t/acme/recover/reset",
            &[
                ("ticket", &ticket),
                ("new_password", new),
                ("new_password_confirm", "typo"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(page.hidden("ticket").as_deref(), Some(ticket.as_str()));

    let page = pages
        .post(
            "/t/acme/recover/reset",
            &[
                ("ticket", &ticket),
                ("new_password", new),
                ("new_password_confirm", new),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/t/acme/login?notice=password_reset");
    assert!(
        jar.get("tessera_reset").is_none(),
        "the ticket cookie is gone"
    );
    let login = pages.get(page.location(), &mut jar).await;
    assert!(login.body.contains("Your password was changed."));

    // The ticket is single-use.
    let again = pages
        .post(
            "/t/acme/recover/reset",
            &[
                ("ticket", &ticket),
                ("new_password", "yet another passphrase"),
                ("new_password_confirm", "yet another passphrase"),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains("Start again"));

    let old = pages
        .post(
            "/t/acme/login",
            &[("identifier", email), ("password", PASSWORD)],
            &mut jar,
        )
        .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let fresh = pages
        .post(
            "/t/acme/login",
            &[("identifier", email), ("password", new)],
            &mut jar,
        )
        .await;
    assert_eq!(fresh.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_account_page_changes_the_password_and_ends_sessions() {
    let pages = Pages::start().await;
    let email = "grace@example.com";
    let creds = [("identifier", email), ("password", PASSWORD)];
    let mut laptop = pages.verified_user(email).await;
    let mut phone = Jar::default();
    pages.post("/t/acme/login", &creds, &mut laptop).await;
    pages.post("/t/acme/login", &creds, &mut phone).await;

    let account = pages.get("/t/acme/account", &mut laptop).await;
    assert_eq!(account.status, StatusCode::OK);
    assert_eq!(account.body.matches("name=\"session\"").count(), 2);
    assert!(account.body.contains("This device"));

    // Wrong current password: an error on that field.
    let new = "a much better passphrase";
    let page = pages
        .post(
            "/t/acme/account/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", new),
                ("new_password_confirm", new),
                ("sign_out_others", "1"),
            ],
            &mut laptop,
        )
        .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("id=\"cp-current-error\""),
        "{}",
        page.body
    );

    let page = pages
        .post(
            "/t/acme/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", new),
                ("new_password_confirm", new),
                ("sign_out_others", "1"),
            ],
            &mut laptop,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(page.location(), "/t/acme/account?notice=password_changed");
    // The other session ended, this one lives.
    let other = pages.get("/t/acme/account", &mut phone).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER);
    let here = pages.get(page.location(), &mut laptop).await;
    assert_eq!(here.status, StatusCode::OK);
    assert!(here.body.contains("Your password was changed."));

    // Add a phone number: a code is sent, then it is linked.
    let phone_number = "+447700900123";
    let page = pages
        .post(
            "/t/acme/account/identifiers",
            &[("identifier", phone_number)],
            &mut laptop,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let code = pages.code_for(phone_number).await;
    let page = pages
        .post(
            "/t/acme/account/identifiers/verify",
            &[("identifier", phone_number), ("code", &code)],
            &mut laptop,
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let account = pages.get("/t/acme/account", &mut laptop).await;
    assert!(account.body.contains(phone_number));

    // Sign out everywhere.
    let page = pages
        .post("/t/acme/account/sessions/end-all", &[], &mut laptop)
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        "/t/acme/login?notice=signed_out_everywhere"
    );
    let gone = pages.get("/t/acme/account", &mut laptop).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_closed_tenant_says_so_on_its_sign_up_page() {
    let mut settings = TenantSettings::default();
    settings.auth.self_registration = false;
    let pages = Pages::with_settings(settings).await;
    let mut jar = Jar::default();
    let page = pages.get("/t/acme/register", &mut jar).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("does not accept new sign-ups"));
    assert!(!page.body.contains("name=\"password\""));
    let login = pages.get("/t/acme/login", &mut jar).await;
    assert!(!login.body.contains("Create an account"));
    let page = pages
        .post(
            "/t/acme/register",
            &[
                ("email", "x@example.com"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
            &mut jar,
        )
        .await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
}
