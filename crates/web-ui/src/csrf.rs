//! Cross-site request forgery defence for the pages' POST forms, in two independent layers:
//!
//! 1. **Double submit**: a random token lives in the CSRF cookie (`__Host-tessera_csrf`, or
//!    `tessera_csrf` on plain-http localhost like the session cookie; HttpOnly, SameSite=Lax)
//!    and in a hidden `csrf` field of every form. A POST is accepted only when both are
//!    present and equal (compared in constant time). Another site can make a browser send
//!    the cookie but can neither read it nor set it (the `__Host-` prefix also keeps sibling
//!    subdomains from planting one).
//! 2. **Origin**: a POST whose `Origin` header names another origin than the public URL's
//!    is refused (browsers send it on every cross-site form post). Browsers send
//!    `Origin: null` for our own forms, because the pages are served with
//!    `Referrer-Policy: no-referrer` (Fetch: "serializing a request origin"); a `null` origin
//!    is accepted only when the fetch metadata does not say the request comes from another
//!    site (`Sec-Fetch-Site: cross-site` or `same-site` is always refused).
//!
//! The token is drawn from the application's random port (`App::random_token`).

use axum::http::HeaderMap;
use axum::http::header::ORIGIN;
use subtle::ConstantTimeEq;
use tessera_http_kit::cookies::{CookiePolicy, cookie};

/// The hidden form field that carries the token.
pub(crate) const FIELD: &str = "csrf";
const SECURE_NAME: &str = "__Host-tessera_csrf";
const DEV_NAME: &str = "tessera_csrf";
/// 32 random bytes, base64url without padding.
const TOKEN_LEN: usize = 43;

/// The CSRF token of a visit: the one of its cookie, or a new one to be set.
#[derive(Clone, Debug)]
pub(crate) struct CsrfToken {
    pub value: String,
    /// Not in the request's cookie: the response must set it.
    pub fresh: bool,
}

fn name(policy: CookiePolicy) -> &'static str {
    if policy.secure { SECURE_NAME } else { DEV_NAME }
}

fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl CsrfToken {
    /// The token of the request's cookie, or a fresh one.
    /// `fresh` draws a new token (32 random bytes, URL-safe) when the request has none.
    pub(crate) fn of(
        headers: &HeaderMap,
        policy: CookiePolicy,
        fresh: impl FnOnce() -> String,
    ) -> Self {
        match cookie(headers, name(policy)).filter(|t| well_formed(t)) {
            Some(value) => Self {
                value,
                fresh: false,
            },
            None => Self {
                value: fresh(),
                fresh: true,
            },
        }
    }

    /// Whether `submitted` (the form's field) proves the request comes from our own page.
    pub(crate) fn accepts(&self, submitted: &str) -> bool {
        !self.fresh
            && well_formed(submitted)
            && bool::from(self.value.as_bytes().ct_eq(submitted.as_bytes()))
    }

    /// The `Set-Cookie` value that stores this token.
    pub(crate) fn set_cookie(&self, policy: CookiePolicy) -> String {
        let secure = if policy.secure { "; Secure" } else { "" };
        format!(
            "{}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
            name(policy),
            self.value
        )
    }
}

/// The origin (`scheme://host[:port]`) of the public URL, lowercased.
pub(crate) fn public_origin(public_url: &str) -> Option<String> {
    let url = url::Url::parse(public_url).ok()?;
    let origin = url.origin();
    origin
        .is_tuple()
        .then(|| origin.ascii_serialization().to_ascii_lowercase())
}

/// Whether the request may come from our own pages: its `Origin` header, if any, is the
/// public URL's origin (or `null`, see the module doc), and its `Sec-Fetch-Site`, if any, is
/// neither `cross-site` nor `same-site`.
pub(crate) fn origin_allowed(headers: &HeaderMap, public_url: &str) -> bool {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase);
    if matches!(fetch_site.as_deref(), Some("cross-site" | "same-site")) {
        return false;
    }
    let mut values = headers.get_all(ORIGIN).iter();
    let Some(first) = values.next() else {
        return true;
    };
    if values.next().is_some() {
        return false;
    }
    let Ok(sent) = first.to_str() else {
        return false;
    };
    if sent.trim() == "null" {
        return true;
    }
    public_origin(public_url).is_some_and(|ours| {
        sent.trim()
            .trim_end_matches('/')
            .eq_ignore_ascii_case(&ours)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_token() -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 32])
    }
    use axum::http::HeaderValue;
    use axum::http::header::COOKIE;

    fn with(name: axum::http::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn the_cookie_token_must_match_the_field() {
        let dev = CookiePolicy { secure: false };
        let fresh = CsrfToken::of(&HeaderMap::new(), dev, test_token);
        assert!(fresh.fresh && well_formed(&fresh.value));
        assert!(
            !fresh.accepts(&fresh.value),
            "a token the browser does not hold"
        );
        let headers = with(COOKIE, &format!("tessera_csrf={}", fresh.value));
        let known = CsrfToken::of(&headers, dev, test_token);
        assert!(!known.fresh);
        assert!(known.accepts(&fresh.value));
        let other = {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([9u8; 32])
        };
        assert!(!known.accepts(&other));
        assert!(!known.accepts(""));
        assert!(!known.accepts(&fresh.value[..42]));
        // The secure deployment reads only the __Host- cookie.
        let secure = CsrfToken::of(&headers, CookiePolicy { secure: true }, test_token);
        assert!(secure.fresh);
        let set = secure.set_cookie(CookiePolicy { secure: true });
        assert!(set.starts_with("__Host-tessera_csrf="));
        assert!(set.contains("Secure") && set.contains("HttpOnly") && set.contains("Path=/"));
        // A malformed cookie is replaced.
        assert!(CsrfToken::of(&with(COOKIE, "tessera_csrf=short"), dev, test_token).fresh);
    }

    #[test]
    fn a_foreign_origin_is_refused() {
        let ours = "https://id.example.com";
        assert!(origin_allowed(&HeaderMap::new(), ours));
        assert!(origin_allowed(
            &with(ORIGIN, "https://id.example.com"),
            ours
        ));
        assert!(origin_allowed(
            &with(ORIGIN, "https://ID.example.com"),
            ours
        ));
        assert!(!origin_allowed(&with(ORIGIN, "https://evil.example"), ours));
        assert!(!origin_allowed(
            &with(ORIGIN, "http://id.example.com"),
            ours
        ));
        assert!(!origin_allowed(
            &with(ORIGIN, "https://id.example.com:8443"),
            ours
        ));
        // Our own forms under `Referrer-Policy: no-referrer`.
        assert!(origin_allowed(&with(ORIGIN, "null"), ours));
        let mut same = with(ORIGIN, "null");
        same.insert("sec-fetch-site", HeaderValue::from_static("same-origin"));
        assert!(origin_allowed(&same, ours));
        for site in ["cross-site", "same-site"] {
            let mut foreign = with(ORIGIN, "null");
            foreign.insert("sec-fetch-site", HeaderValue::from_static(site));
            assert!(!origin_allowed(&foreign, ours), "{site}");
            let mut named = with(ORIGIN, ours);
            named.insert("sec-fetch-site", HeaderValue::from_static(site));
            assert!(!origin_allowed(&named, ours), "{site}");
        }
        assert!(origin_allowed(
            &with(ORIGIN, "http://127.0.0.1:8080"),
            "http://127.0.0.1:8080/"
        ));
        assert_eq!(
            public_origin("https://id.example.com:443/base/").as_deref(),
            Some("https://id.example.com")
        );
    }
}
