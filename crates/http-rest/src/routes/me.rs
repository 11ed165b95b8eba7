//! The signed-in user's own account: `/t/{t}/api/v1/me/...`, authenticated by an access
//! token (`Authorization: Bearer`) or the session cookie.

use super::auth::me_response;
use crate::caller::Me;
use crate::convert::audit_response;
use crate::errors::ApiResult;
use crate::paging;
use crate::routes::org_units::PageParams;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_api_types::audit::AuditEventResponse;
use tessera_api_types::auth::{
    ChangePasswordRequest, CodeSentResponse, IdentifierRequest, SessionResponse, SessionsEnded,
    VerifyCodeRequest,
};
use tessera_api_types::common::Page;
use tessera_api_types::users::UserResponse;
use tessera_application::SessionInfo;
use tessera_domain::SessionId;
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use utoipa::IntoParams;
use uuid::Uuid;

pub(crate) fn session_response(s: SessionInfo) -> SessionResponse {
    let SessionInfo { session, current } = s;
    SessionResponse {
        id: session.id.into_uuid(),
        user_id: session.user_id.into_uuid(),
        created_at: session.created_at,
        last_seen_at: session.last_seen_at,
        expires_at: session.expires_at,
        ip: session.ip,
        user_agent: session.user_agent,
        device: session.device,
        amr: session.amr,
        current,
    }
}

/// The signed-in user.
#[utoipa::path(get, path = "/t/{t}/api/v1/me", tag = "me", params(("t" = String, Path)),
    responses((status = 200, body = UserResponse), (status = 401)), security(("user" = [])))]
pub async fn get(Me(me, _): Me) -> ApiResult<Json<UserResponse>> {
    Ok(me_response(me.user))
}

/// Change the password (the current one is required).
#[utoipa::path(post, path = "/t/{t}/api/v1/me/password", tag = "me", params(("t" = String, Path)), request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401), (status = 422), (status = 429)), security(("user" = [])))]
pub async fn change_password(
    State(s): State<RestState>,
    Me(me, origin): Me,
    JsonBody(body): JsonBody<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    s.app
        .change_password(
            &me,
            origin,
            &body.current_password,
            &body.new_password,
            body.sign_out_other_sessions,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's live sessions, newest first.
#[utoipa::path(get, path = "/t/{t}/api/v1/me/sessions", tag = "me", params(("t" = String, Path)),
    responses((status = 200, body = Vec<SessionResponse>), (status = 401)), security(("user" = [])))]
pub async fn sessions(
    State(s): State<RestState>,
    Me(me, _): Me,
) -> ApiResult<Json<Vec<SessionResponse>>> {
    Ok(Json(
        s.app
            .my_sessions(&me)
            .await?
            .into_iter()
            .map(session_response)
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EndAllParams {
    /// Keep the session of this request (default true).
    pub keep_current: Option<bool>,
}

/// End the user's sessions: all others (default), or all including this one.
#[utoipa::path(delete, path = "/t/{t}/api/v1/me/sessions", tag = "me", params(("t" = String, Path), EndAllParams),
    responses((status = 200, body = SessionsEnded), (status = 401)), security(("user" = [])))]
pub async fn end_sessions(
    State(s): State<RestState>,
    Me(me, origin): Me,
    QueryParams(p): QueryParams<EndAllParams>,
) -> ApiResult<Json<SessionsEnded>> {
    let ended = s
        .app
        .end_my_sessions(&me, origin, p.keep_current.unwrap_or(true))
        .await?;
    Ok(Json(SessionsEnded { ended }))
}

/// End one of the user's sessions.
#[utoipa::path(delete, path = "/t/{t}/api/v1/me/sessions/{id}", tag = "me", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 401), (status = 404)), security(("user" = [])))]
pub async fn end_session(
    State(s): State<RestState>,
    Me(me, origin): Me,
    PathParam((_t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    s.app
        .end_my_session(&me, origin, SessionId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Link another email or phone: a code is sent to it; verify with
/// `POST /t/{t}/api/v1/me/identifiers/verify`.
#[utoipa::path(post, path = "/t/{t}/api/v1/me/identifiers", tag = "me", params(("t" = String, Path)), request_body = IdentifierRequest,
    responses((status = 202, body = CodeSentResponse), (status = 401), (status = 409), (status = 422)), security(("user" = [])))]
pub async fn add_identifier(
    State(s): State<RestState>,
    Me(me, origin): Me,
    JsonBody(body): JsonBody<IdentifierRequest>,
) -> ApiResult<(StatusCode, Json<CodeSentResponse>)> {
    let sent_to = s.app.add_identifier(&me, origin, &body.identifier).await?;
    Ok((StatusCode::ACCEPTED, Json(CodeSentResponse { sent_to })))
}

/// Verify an identifier being linked, with its code.
#[utoipa::path(post, path = "/t/{t}/api/v1/me/identifiers/verify", tag = "me", params(("t" = String, Path)), request_body = VerifyCodeRequest,
    responses((status = 200, body = UserResponse), (status = 401), (status = 422)), security(("user" = [])))]
pub async fn verify_identifier(
    State(s): State<RestState>,
    Me(me, origin): Me,
    JsonBody(body): JsonBody<VerifyCodeRequest>,
) -> ApiResult<Json<UserResponse>> {
    let ctx = me.context(origin);
    let user = s
        .app
        .verify_identifier(&ctx, me.tenant.slug.as_str(), &body.identifier, &body.code)
        .await?;
    Ok(me_response(user))
}

/// Remove an email or phone (never the last verified one).
#[utoipa::path(post, path = "/t/{t}/api/v1/me/identifiers/remove", tag = "me", params(("t" = String, Path)), request_body = IdentifierRequest,
    responses((status = 200, body = UserResponse), (status = 401), (status = 404), (status = 409)), security(("user" = [])))]
pub async fn remove_identifier(
    State(s): State<RestState>,
    Me(me, origin): Me,
    JsonBody(body): JsonBody<IdentifierRequest>,
) -> ApiResult<Json<UserResponse>> {
    Ok(me_response(
        s.app
            .remove_identifier(&me, origin, &body.identifier)
            .await?,
    ))
}

/// The user's login history (sign-ins, failures with their reason, sign-outs), newest
/// first.
#[utoipa::path(get, path = "/t/{t}/api/v1/me/login-history", tag = "me", params(("t" = String, Path), PageParams),
    responses((status = 200, body = Page<AuditEventResponse>), (status = 401)), security(("user" = [])))]
pub async fn login_history(
    State(s): State<RestState>,
    Me(me, _): Me,
    QueryParams(p): QueryParams<PageParams>,
) -> ApiResult<Json<Page<AuditEventResponse>>> {
    let page = s
        .app
        .my_login_history(&me, paging::cursor(p.cursor.as_deref())?, p.limit)
        .await?;
    Ok(Json(paging::page(page, audit_response)))
}
