//! System roles of a user (admin API). Granting an administrative role needs a key holding
//! every scope (`*`); its holder must then pass a second factor at every sign-in.

use crate::caller::Caller;
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tessera_api_types::mfa::RolesResponse;
use tessera_domain::UserId;
use tessera_domain::role::SystemRole;
use tessera_http_kit::PathParam;
use uuid::Uuid;

/// The system roles a user holds.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/users/{id}/roles", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = RolesResponse), (status = 403), (status = 404)), security(("api_key" = [])))]
pub async fn roles(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Json<RolesResponse>> {
    let roles = s
        .app
        .user_system_roles(&ctx, &t, UserId::from_uuid(id))
        .await?;
    Ok(Json(RolesResponse {
        roles: roles.into_iter().map(|r| r.key().to_owned()).collect(),
    }))
}

/// Grant a system role (granting it twice is not an error).
#[utoipa::path(put, path = "/api/v1/tenants/{t}/users/{id}/roles/{role}", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 422)), security(("api_key" = [])))]
pub async fn grant_role(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id, role)): PathParam<(String, Uuid, String)>,
) -> ApiResult<StatusCode> {
    let role = SystemRole::parse(&role).map_err(tessera_application::Error::invalid)?;
    s.app
        .set_user_role(&ctx, &t, UserId::from_uuid(id), role, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a system role.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/users/{id}/roles/{role}", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 422)), security(("api_key" = [])))]
pub async fn revoke_role(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id, role)): PathParam<(String, Uuid, String)>,
) -> ApiResult<StatusCode> {
    let role = SystemRole::parse(&role).map_err(tessera_application::Error::invalid)?;
    s.app
        .set_user_role(&ctx, &t, UserId::from_uuid(id), role, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
