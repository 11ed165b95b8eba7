//! Admin views of a user's authentication: sessions, password reset, login history.

use super::me::session_response;
use crate::caller::Caller;
use crate::convert::audit_response;
use crate::errors::ApiResult;
use crate::paging;
use crate::routes::org_units::PageParams;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tessera_api_types::audit::AuditEventResponse;
use tessera_api_types::auth::{AdminSetPasswordRequest, SessionResponse, SessionsEnded};
use tessera_api_types::common::Page;
use tessera_application::SessionInfo;
use tessera_domain::{SessionId, UserId};
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use uuid::Uuid;

/// A user's live sessions.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/users/{id}/sessions", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Vec<SessionResponse>), (status = 404)), security(("api_key" = [])))]
pub async fn sessions(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Json<Vec<SessionResponse>>> {
    let list = s.app.user_sessions(&ctx, &t, UserId::from_uuid(id)).await?;
    Ok(Json(
        list.into_iter()
            .map(|session| {
                session_response(SessionInfo {
                    session,
                    current: false,
                })
            })
            .collect(),
    ))
}

/// End every session of a user (and revoke their refresh tokens).
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/users/{id}/sessions", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = SessionsEnded), (status = 404)), security(("api_key" = [])))]
pub async fn end_sessions(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Json<SessionsEnded>> {
    let ended = s
        .app
        .end_user_sessions(&ctx, &t, UserId::from_uuid(id), None)
        .await?;
    Ok(Json(SessionsEnded { ended }))
}

/// End one session of a user.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/users/{id}/sessions/{session_id}", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path), ("session_id" = Uuid, Path)),
    responses((status = 204), (status = 404)), security(("api_key" = [])))]
pub async fn end_session(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id, sid)): PathParam<(String, Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    s.app
        .end_user_sessions(
            &ctx,
            &t,
            UserId::from_uuid(id),
            Some(SessionId::from_uuid(sid)),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a user's password (checked against the tenant's policy and the common-password
/// list). Every session of the user ends unless `keep_sessions`.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/users/{id}/password", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)), request_body = AdminSetPasswordRequest,
    responses((status = 204), (status = 404), (status = 422)), security(("api_key" = [])))]
pub async fn set_password(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
    JsonBody(body): JsonBody<AdminSetPasswordRequest>,
) -> ApiResult<StatusCode> {
    s.app
        .set_user_password(
            &ctx,
            &t,
            UserId::from_uuid(id),
            &body.password,
            body.keep_sessions,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's login history, newest first.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/users/{id}/login-history", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path), PageParams),
    responses((status = 200, body = Page<AuditEventResponse>), (status = 404)), security(("api_key" = [])))]
pub async fn login_history(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
    QueryParams(p): QueryParams<PageParams>,
) -> ApiResult<Json<Page<AuditEventResponse>>> {
    let page = s
        .app
        .user_login_history(
            &ctx,
            &t,
            UserId::from_uuid(id),
            paging::cursor(p.cursor.as_deref())?,
            p.limit,
        )
        .await?;
    Ok(Json(paging::page(page, audit_response)))
}
