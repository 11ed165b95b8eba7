//! Router-level tests of the pages (no socket: `tower::ServiceExt::oneshot`) on the real
//! application, composed as the server composes it, with a fresh SQLite database.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/totp.rs"]
mod totp;

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
            tessera_domain::role::SystemRole::Admin,
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
