//! A tenant's token signing keys (public halves and dates only).

use crate::caller::Caller;
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use tessera_api_types::auth::{RotatedResponse, SigningKeyResponse};
use tessera_http_kit::PathParam;

/// The tenant's signing keys, newest first.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/signing-keys", tag = "signing-keys", params(("t" = String, Path)),
    responses((status = 200, body = Vec<SigningKeyResponse>)), security(("api_key" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<Vec<SigningKeyResponse>>> {
    Ok(Json(
        s.app
            .list_signing_keys(&ctx, &t)
            .await?
            .into_iter()
            .map(|k| SigningKeyResponse {
                kid: k.kid,
                alg: k.alg.as_str().to_owned(),
                current: k.current,
                created_at: k.created_at,
                retired_at: k.retired_at,
                publish_until: k.publish_until,
            })
            .collect(),
    ))
}

/// Rotate: a new key signs from now on; the previous one stays in the JWKS until every
/// token it signed has expired.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/signing-keys/rotate", tag = "signing-keys", params(("t" = String, Path)),
    responses((status = 200, body = RotatedResponse), (status = 409)), security(("api_key" = [])))]
pub async fn rotate(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<RotatedResponse>> {
    let kid = s.app.rotate_signing_keys(&ctx, &t).await?;
    Ok(Json(RotatedResponse { kid }))
}
