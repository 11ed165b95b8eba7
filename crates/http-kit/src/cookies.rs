//! The session cookie, shared by the pages and the REST API: `__Host-`-prefixed, Secure,
//! HttpOnly, SameSite=Lax, Path=/. Secure (and with it the `__Host-` prefix, which requires
//! it) is relaxed only for plain-http development on localhost.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The cookie's name over HTTPS.
pub const SECURE_SESSION_COOKIE: &str = "__Host-tessera_session";
/// The cookie's name on `http://localhost` / `http://127.0.0.1` during development.
pub const DEV_SESSION_COOKIE: &str = "tessera_session";

/// How session cookies are written for this deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookiePolicy {
    pub secure: bool,
}

impl CookiePolicy {
    /// Secure unless the public URL is plain http on a loopback host.
    pub fn for_public_url(public_url: &str) -> Self {
        let lower = public_url.to_ascii_lowercase();
        let dev = ["http://localhost", "http://127.", "http://[::1]"]
            .iter()
            .any(|p| lower.starts_with(p));
        Self { secure: !dev }
    }

    pub fn session_name(self) -> &'static str {
        if self.secure {
            SECURE_SESSION_COOKIE
        } else {
            DEV_SESSION_COOKIE
        }
    }

    fn attributes(self) -> &'static str {
        if self.secure {
            "Path=/; Secure; HttpOnly; SameSite=Lax"
        } else {
            "Path=/; HttpOnly; SameSite=Lax"
        }
    }

    /// `Set-Cookie` value for a session cookie (a browser-session cookie: the server
    /// enforces the idle and absolute timeouts).
    pub fn set_session(self, value: &str) -> String {
        format!("{}={value}; {}", self.session_name(), self.attributes())
    }

    /// `Set-Cookie` value that removes the session cookie.
    pub fn clear_session(self) -> String {
        format!("{}=; Max-Age=0; {}", self.session_name(), self.attributes())
    }

    /// The session cookie's value in a request.
    pub fn session_from(self, headers: &HeaderMap) -> Option<String> {
        cookie(headers, self.session_name())
    }

    fn named(self, base: &str) -> String {
        if self.secure {
            format!("__Host-{base}")
        } else {
            base.to_owned()
        }
    }

    /// `Set-Cookie` value of the long-lived device cookie (recognises the browser at its next
    /// sign-in; remembered devices skip the second factor).
    pub fn set_device(self, value: &str) -> String {
        format!(
            "{}={value}; Max-Age={}; {}",
            self.named(DEVICE_COOKIE),
            400 * 24 * 3600,
            self.attributes()
        )
    }

    pub fn device_from(self, headers: &HeaderMap) -> Option<String> {
        cookie(headers, &self.named(DEVICE_COOKIE))
    }

    /// `Set-Cookie` value of the flow cookie, which binds passwordless ceremonies (passkey
    /// sign-in, codes, links) to the browser that started them. Lives a day.
    pub fn set_flow(self, value: &str) -> String {
        format!(
            "{}={value}; Max-Age={}; {}",
            self.named(FLOW_COOKIE),
            24 * 3600,
            self.attributes()
        )
    }

    pub fn flow_from(self, headers: &HeaderMap) -> Option<String> {
        cookie(headers, &self.named(FLOW_COOKIE))
    }
}

/// Base name of the device cookie (`__Host-` prefixed over HTTPS).
pub const DEVICE_COOKIE: &str = "tessera_device";
/// Base name of the flow cookie (`__Host-` prefixed over HTTPS).
pub const FLOW_COOKIE: &str = "tessera_flow";

/// The value of cookie `name` in a request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_except_on_localhost_http() {
        assert!(CookiePolicy::for_public_url("https://id.example.com").secure);
        assert!(CookiePolicy::for_public_url("http://id.example.com").secure);
        let dev = CookiePolicy::for_public_url("http://127.0.0.1:8080");
        assert!(!dev.secure);
        assert_eq!(dev.session_name(), "tessera_session");
        let prod = CookiePolicy { secure: true };
        let set = prod.set_session("abc");
        assert!(set.starts_with("__Host-tessera_session=abc;"));
        assert!(set.contains("Secure") && set.contains("HttpOnly") && set.contains("SameSite=Lax"));
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            "a=1; __Host-tessera_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(prod.session_from(&h).as_deref(), Some("xyz"));
        assert!(
            prod.set_device("d")
                .starts_with("__Host-tessera_device=d; Max-Age=")
        );
        assert!(
            dev.set_flow("f")
                .starts_with("tessera_flow=f; Max-Age=86400;")
        );
        h.insert(COOKIE, "__Host-tessera_flow=q".parse().unwrap());
        assert_eq!(prod.flow_from(&h).as_deref(), Some("q"));
    }
}
