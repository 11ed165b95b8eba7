//! Who is calling: an admin API key ([`Caller`]), a signed-in user by access token or
//! session cookie ([`Me`]), or nobody yet ([`Anonymous`], for sign-in and recovery).

use crate::errors::ApiError;
use crate::state::RestState;
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, ORIGIN, USER_AGENT};
use axum::http::request::Parts;
use tessera_application::{AuthFailure, Error, RequestContext, SignedIn};
use tessera_domain::audit::Origin;
use tessera_http_kit::client::client_ip;
use tessera_http_kit::layers::REQUEST_ID;

/// The request context of an authenticated caller.
pub struct Caller(pub RequestContext);

/// A signed-in user and where the request came from.
pub struct Me(pub SignedIn, pub Origin);

/// An unauthenticated request's context.
pub struct Anonymous(pub RequestContext);

/// A user whose sign-in may still wait for a second factor (or its enrolment): by access
/// token, by the `X-MFA-Token` header (the `mfa_token` of the sign-in answer) or by the
/// session cookie. `me.session.restriction` says what remains; `.2` is the session secret
/// when the request presented one.
pub struct Pending(pub SignedIn, pub Origin, pub Option<String>);

/// Header carrying the `mfa_token` of a sign-in that waits for its second factor.
pub const MFA_TOKEN_HEADER: &str = "x-mfa-token";

fn header(parts: &Parts, name: impl axum::http::header::AsHeaderName) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(512).collect())
}

pub(crate) fn origin(parts: &Parts, state: &RestState) -> Origin {
    Origin {
        ip: client_ip(parts, &state.trusted_proxies).map(|ip| ip.to_string()),
        user_agent: header(parts, USER_AGENT),
        request_id: header(parts, REQUEST_ID),
    }
}

/// The bearer token of the request, if it has an `Authorization` header.
fn bearer(parts: &Parts) -> Result<Option<String>, Error> {
    // Not `header()`: that truncates for logging, and a JWT is longer than it keeps.
    let raw = parts
        .headers
        .get(AUTHORIZATION)
        .map(|v| v.to_str().map(str::to_owned));
    let value = match raw {
        None => None,
        Some(Ok(v)) if v.len() <= 8192 => Some(v),
        Some(_) => return Err(Error::Unauthenticated(AuthFailure::Malformed)),
    };
    match value {
        None => Ok(None),
        Some(value) => match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                Ok(Some(token.trim().to_owned()))
            }
            _ => Err(Error::Unauthenticated(AuthFailure::Malformed)),
        },
    }
}

impl FromRequestParts<RestState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RestState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?.ok_or(Error::Unauthenticated(AuthFailure::Missing))?;
        let origin = origin(parts, state);
        // An API key, or a signed-in user's access token (a JWT) for the tenant of the path,
        // whose permissions the use case then checks. Anything else is judged as a key.
        if !token.starts_with(API_KEY_PREFIX)
            && token.split('.').count() == 3
            && let Some(slug) = tenant_of(parts).or_else(|| admin_tenant_of(parts))
        {
            let me = state.app.authenticate_access_token(&slug, &token).await?;
            return Ok(Self(me.context(origin)));
        }
        let principal = state.app.authenticate_api_key(&token).await?;
        Ok(Self(RequestContext { principal, origin }))
    }
}

impl FromRequestParts<RestState> for Anonymous {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RestState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(RequestContext::anonymous(origin(parts, state))))
    }
}

/// The tenant slug of a `/t/{t}/...` path.
fn tenant_of(parts: &Parts) -> Option<String> {
    let mut segments = parts.uri.path().split('/').skip(1);
    match (segments.next(), segments.next()) {
        (Some("t"), Some(slug)) if !slug.is_empty() => Some(slug.to_owned()),
        _ => None,
    }
}

/// How every API key starts.
const API_KEY_PREFIX: &str = "tsk_";

/// The tenant slug of an `/api/v1/tenants/{t}/...` path.
fn admin_tenant_of(parts: &Parts) -> Option<String> {
    let mut segments = parts.uri.path().split('/').skip(1);
    match (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) {
        (Some("api"), Some("v1"), Some("tenants"), Some(slug)) if !slug.is_empty() => {
            Some(slug.to_owned())
        }
        _ => None,
    }
}

/// Whether an `Origin` header (when present) is this server's.
fn same_origin(parts: &Parts, public_url: &str) -> bool {
    let Some(origin) = header(parts, ORIGIN) else {
        return true;
    };
    let public = public_url.trim_end_matches('/');
    let public_origin = match public.find("://") {
        Some(i) => match public[i + 3..].find('/') {
            Some(j) => &public[..i + 3 + j],
            None => public,
        },
        None => public,
    };
    origin.eq_ignore_ascii_case(public_origin)
}

impl FromRequestParts<RestState> for Me {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RestState,
    ) -> Result<Self, Self::Rejection> {
        let slug = tenant_of(parts).ok_or(Error::NotFound("tenant"))?;
        let origin = origin(parts, state);
        if let Some(token) = bearer(parts)? {
            let me = state.app.authenticate_access_token(&slug, &token).await?;
            return Ok(Self(me, origin));
        }
        let Some(secret) = state.cookies.session_from(&parts.headers) else {
            return Err(Error::Unauthenticated(AuthFailure::NoSession).into());
        };
        // A cookie rides along with cross-site requests: changes need this site's Origin.
        if !parts.method.is_safe() && !same_origin(parts, &state.public_url) {
            return Err(Error::Forbidden(
                "a cross-origin request cannot use the session cookie".to_owned(),
            )
            .into());
        }
        let me = state.app.authenticate_session(&slug, &secret).await?;
        Ok(Self(me, origin))
    }
}

impl FromRequestParts<RestState> for Pending {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RestState,
    ) -> Result<Self, Self::Rejection> {
        let slug = tenant_of(parts).ok_or(Error::NotFound("tenant"))?;
        let origin = origin(parts, state);
        if let Some(token) = bearer(parts)? {
            let me = state.app.authenticate_access_token(&slug, &token).await?;
            return Ok(Self(me, origin, None));
        }
        let header_token = parts
            .headers
            .get(MFA_TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let secret = match header_token {
            Some(t) => t,
            None => {
                let Some(secret) = state.cookies.session_from(&parts.headers) else {
                    return Err(Error::Unauthenticated(AuthFailure::NoSession).into());
                };
                if !parts.method.is_safe() && !same_origin(parts, &state.public_url) {
                    return Err(Error::Forbidden(
                        "a cross-origin request cannot use the session cookie".to_owned(),
                    )
                    .into());
                }
                secret
            }
        };
        let me = state
            .app
            .authenticate_pending_session(&slug, &secret)
            .await?;
        Ok(Self(me, origin, Some(secret)))
    }
}
