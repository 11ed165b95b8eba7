//! The authenticated caller of a request: its API key and where the request came from.

use crate::errors::ApiError;
use crate::state::RestState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::{AUTHORIZATION, USER_AGENT};
use axum::http::request::Parts;
use std::net::SocketAddr;
use tessera_application::{AuthFailure, Error, RequestContext};
use tessera_domain::audit::Origin;
use tessera_http_kit::layers::REQUEST_ID;

/// The request context of an authenticated caller.
pub struct Caller(pub RequestContext);

fn header(parts: &Parts, name: impl axum::http::header::AsHeaderName) -> Option<String> {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(512).collect())
}

impl FromRequestParts<RestState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &RestState,
    ) -> Result<Self, Self::Rejection> {
        let token = match header(parts, AUTHORIZATION) {
            None => return Err(Error::Unauthenticated(AuthFailure::Missing).into()),
            Some(value) => match value.split_once(' ') {
                Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => {
                    token.trim().to_owned()
                }
                _ => return Err(Error::Unauthenticated(AuthFailure::Malformed).into()),
            },
        };
        let principal = state.app.authenticate_api_key(&token).await?;
        let origin = Origin {
            ip: parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip().to_string()),
            user_agent: header(parts, USER_AGENT),
            request_id: header(parts, REQUEST_ID),
        };
        Ok(Self(RequestContext { principal, origin }))
    }
}
