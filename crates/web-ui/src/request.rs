//! What a page handler knows about the request: where it comes from (for audit records,
//! sessions and throttling), its session cookie, its CSRF token and its query; and the
//! checked body of a POST form.

use crate::csrf::{self, CsrfToken};
use crate::state::WebState;
use crate::view;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE, USER_AGENT};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::convert::Infallible;
use tessera_application::Browser;
use tessera_domain::audit::Origin;
use tessera_http_kit::client::client_ip;
use tessera_http_kit::cookies::CookiePolicy;
use tessera_http_kit::layers::REQUEST_ID;

/// A visit to a page.
#[derive(Clone, Debug)]
pub(crate) struct Visit {
    pub origin: Origin,
    pub session: Option<String>,
    /// The device cookie (recognises the browser at sign-in).
    pub device: Option<String>,
    /// The flow cookie (binds passwordless ceremonies to this browser).
    pub flow: Option<String>,
    /// `flow` is new: the response must set it.
    flow_fresh: bool,
    pub csrf: CsrfToken,
    pub cookies: CookiePolicy,
    query: Option<String>,
}

fn header(parts: &Parts, name: impl axum::http::header::AsHeaderName) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(512).collect())
}

impl Visit {
    fn from_parts(parts: &Parts, state: &WebState) -> Self {
        Self {
            origin: Origin {
                ip: client_ip(parts, &state.trusted_proxies).map(|ip| ip.to_string()),
                user_agent: header(parts, USER_AGENT),
                request_id: header(parts, REQUEST_ID),
            },
            session: state
                .cookies
                .session_from(&parts.headers)
                .filter(|s| !s.is_empty()),
            device: state
                .cookies
                .device_from(&parts.headers)
                .filter(|s| !s.is_empty()),
            flow: state
                .cookies
                .flow_from(&parts.headers)
                .filter(|s| !s.is_empty() && s.len() <= 128),
            flow_fresh: false,
            csrf: CsrfToken::of(&parts.headers, state.cookies, || state.app.random_token(32)),
            cookies: state.cookies,
            query: parts.uri.query().map(str::to_owned),
        }
    }

    /// The query string as `T` (every field defaulted when absent or malformed: a page
    /// never fails on a bad query).
    pub(crate) fn query<T: DeserializeOwned + Default>(&self) -> T {
        self.query
            .as_deref()
            .and_then(|q| serde_urlencoded::from_str(q).ok())
            .unwrap_or_default()
    }

    /// What the browser presents to a sign-in: its session, device and flow cookies.
    pub(crate) fn browser(&self) -> Browser {
        Browser {
            session: self.session.clone(),
            device: self.device.clone(),
            flow: self.flow.clone(),
        }
    }

    /// Gives the visit a flow cookie when the browser has none (`fresh` draws one); the
    /// response sets it ([`Self::finish`]).
    pub(crate) fn ensure_flow(&mut self, fresh: impl FnOnce() -> String) {
        if self.flow.is_none() {
            self.flow = Some(fresh());
            self.flow_fresh = true;
        }
    }

    /// Adds the CSRF cookie (and a new flow cookie) to a response when the browser does not
    /// hold it yet.
    pub(crate) fn finish(&self, mut response: Response) -> Response {
        if self.csrf.fresh
            && let Ok(v) = HeaderValue::from_str(&self.csrf.set_cookie(self.cookies))
        {
            response.headers_mut().append(SET_COOKIE, v);
        }
        if self.flow_fresh
            && let Some(flow) = &self.flow
            && let Ok(v) = HeaderValue::from_str(&self.cookies.set_flow(flow))
        {
            response.headers_mut().append(SET_COOKIE, v);
        }
        response
    }
}

#[cfg(test)]
impl Visit {
    /// A visit without cookies, from 203.0.113.7.
    pub(crate) fn sample() -> Self {
        Self {
            origin: Origin {
                ip: Some("203.0.113.7".to_owned()),
                user_agent: None,
                request_id: None,
            },
            session: None,
            device: None,
            flow: None,
            flow_fresh: false,
            csrf: CsrfToken::of(
                &axum::http::HeaderMap::new(),
                CookiePolicy { secure: true },
                || "sample-csrf-token-sample-csrf-token-sample".to_owned(),
            ),
            cookies: CookiePolicy { secure: true },
            query: None,
        }
    }
}

impl FromRequestParts<WebState> for Visit {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::from_parts(parts, state))
    }
}

/// A POST form whose CSRF token and origin were checked, parsed as `T` (fields absent from
/// the body take their default).
pub(crate) struct Posted<T> {
    pub visit: Visit,
    pub form: T,
}

/// Why a POST was not even looked at.
pub(crate) struct Refused {
    visit: Visit,
    status: StatusCode,
    title: &'static str,
    message: &'static str,
    back: String,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let page = view::ErrorPage::bare(self.title, self.message, &self.back, &self.visit);
        self.visit.finish(view::render(self.status, &page))
    }
}

/// Where to send someone whose POST to `path` was refused: the page of that form.
fn back_to(path: &str) -> String {
    let mut parts = path.trim_start_matches('/').split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("t"), Some(slug), Some(page))
            if slug
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            let page = match page {
                "login" | "register" | "verify" | "recover" => page,
                _ => "account",
            };
            format!("/t/{slug}/{page}")
        }
        _ => "/".to_owned(),
    }
}

impl<T> FromRequest<WebState> for Posted<T>
where
    T: DeserializeOwned,
{
    type Rejection = Refused;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let visit = Visit::from_parts(&parts, state);
        let refuse = |visit: Visit, status, title, message| Refused {
            back: back_to(parts.uri.path()),
            visit,
            status,
            title,
            message,
        };
        if !csrf::origin_allowed(&parts.headers, &state.public_url) {
            return Err(refuse(
                visit,
                StatusCode::FORBIDDEN,
                "Request refused",
                "This form was sent from another site. Open the page here and try again.",
            ));
        }
        let form_type = parts
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        if !form_type {
            return Err(refuse(
                visit,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Request refused",
                "This address accepts only forms sent from its own pages.",
            ));
        }
        let req = Request::from_parts(parts.clone(), body);
        let Ok(bytes) = Bytes::from_request(req, state).await else {
            return Err(refuse(
                visit,
                StatusCode::PAYLOAD_TOO_LARGE,
                "Request refused",
                "The form is too large.",
            ));
        };
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
        let token = pairs
            .iter()
            .find(|(k, _)| k == csrf::FIELD)
            .map_or("", |(_, v)| v.as_str());
        if !visit.csrf.accepts(token) {
            return Err(refuse(
                visit,
                StatusCode::FORBIDDEN,
                "This form has expired",
                "For your security the form could not be accepted. Open the page again and resend it.",
            ));
        }
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(form) => Ok(Self { visit, form }),
            Err(_) => Err(refuse(
                visit,
                StatusCode::BAD_REQUEST,
                "Request refused",
                "The form could not be read. Open the page again and resend it.",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn refused_posts_lead_back_to_their_page() {
        use super::back_to;
        assert_eq!(back_to("/t/acme/login"), "/t/acme/login");
        assert_eq!(back_to("/t/acme/verify/resend"), "/t/acme/verify");
        assert_eq!(back_to("/t/acme/recover/reset"), "/t/acme/recover");
        assert_eq!(back_to("/t/acme/logout"), "/t/acme/account");
        assert_eq!(back_to("/t/acme/account/password"), "/t/acme/account");
        assert_eq!(back_to("/t/a\"b/login"), "/");
    }
}
