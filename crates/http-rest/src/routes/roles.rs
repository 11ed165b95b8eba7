//! Roles (admin API): the eight system roles and the tenant's custom roles, and the roles a
//! user holds within a scope. Nobody creates, grants, edits or revokes a role at or above
//! their own priority.

use crate::authz_convert::{role_response, roles_response, scope};
use crate::caller::Caller;
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use tessera_api_types::authz::{
    CreateRoleRequest, RoleList, RoleResponse, RolesResponse, UpdateRoleRequest,
};
use tessera_application::{Error, NewRole, RolePatch};
use tessera_domain::UserId;
use tessera_domain::authz::{RoleKey, RoleRef};
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ScopeParams {
    /// `tenant` (default), `self` or `unit:<organization unit id>`.
    pub scope: Option<String>,
}

fn parent(raw: Option<String>) -> Result<Option<RoleRef>, Error> {
    raw.map(|p| RoleRef::parse(&p).map_err(|e| Error::invalid(e.at("parent"))))
        .transpose()
}

/// Every role of the tenant, highest priority first (system roles included).
#[utoipa::path(get, path = "/api/v1/tenants/{t}/roles", tag = "roles", params(("t" = String, Path)),
    responses((status = 200, body = RoleList), (status = 403)), security(("api_key" = []), ("user" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<RoleList>> {
    let roles = s.app.list_roles(&ctx, &t).await?;
    Ok(Json(RoleList {
        roles: roles.into_iter().map(role_response).collect(),
    }))
}

/// Create a custom role (its priority below yours; a parent at or below its priority).
#[utoipa::path(post, path = "/api/v1/tenants/{t}/roles", tag = "roles", params(("t" = String, Path)), request_body = CreateRoleRequest,
    responses((status = 201, body = RoleResponse), (status = 403), (status = 409), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn create(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<CreateRoleRequest>,
) -> ApiResult<(StatusCode, Json<RoleResponse>)> {
    let new = NewRole {
        key: RoleKey::parse(&body.key).map_err(Error::invalid)?,
        name: body.name,
        description: body.description,
        priority: body.priority,
        parent: parent(body.parent)?,
    };
    let role = s.app.create_role(&ctx, &t, new).await?;
    Ok((StatusCode::CREATED, Json(role_response(role))))
}

/// One role.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/roles/{role}", tag = "roles", params(("t" = String, Path), ("role" = String, Path)),
    responses((status = 200, body = RoleResponse), (status = 403), (status = 404)), security(("api_key" = []), ("user" = [])))]
pub async fn get(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, role)): PathParam<(String, String)>,
) -> ApiResult<Json<RoleResponse>> {
    Ok(Json(role_response(s.app.get_role(&ctx, &t, &role).await?)))
}

/// Change a custom role (`If-Match: "<version>"` guards concurrent edits).
#[utoipa::path(patch, path = "/api/v1/tenants/{t}/roles/{role}", tag = "roles", params(("t" = String, Path), ("role" = String, Path)), request_body = UpdateRoleRequest,
    responses((status = 200, body = RoleResponse), (status = 403), (status = 404), (status = 409), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn update(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    PathParam((t, role)): PathParam<(String, String)>,
    JsonBody(body): JsonBody<UpdateRoleRequest>,
) -> ApiResult<Json<RoleResponse>> {
    let patch = RolePatch {
        name: body.name,
        description: body.description,
        priority: body.priority,
        parent: body.parent.map(parent).transpose()?,
    };
    let if_match = crate::routes::users::if_match(&headers)?;
    let role = s.app.update_role(&ctx, &t, &role, patch, if_match).await?;
    Ok(Json(role_response(role)))
}

/// Delete a custom role, with its assignments and template grants.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/roles/{role}", tag = "roles", params(("t" = String, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)), security(("api_key" = []), ("user" = [])))]
pub async fn delete(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, role)): PathParam<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_role(&ctx, &t, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The roles a user holds, with their scopes.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/users/{id}/roles", tag = "roles", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = RolesResponse), (status = 403), (status = 404)), security(("api_key" = []), ("user" = [])))]
pub async fn user_roles(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Json<RolesResponse>> {
    let a = s
        .app
        .user_role_assignments(&ctx, &t, UserId::from_uuid(id))
        .await?;
    Ok(Json(roles_response(a)))
}

fn role_param(raw: &str) -> Result<RoleRef, Error> {
    RoleRef::parse(raw).map_err(Error::invalid)
}

/// Grant a role within a scope (granting it twice is not an error).
#[utoipa::path(put, path = "/api/v1/tenants/{t}/users/{id}/roles/{role}", tag = "roles", params(("t" = String, Path), ("id" = Uuid, Path), ("role" = String, Path), ScopeParams),
    responses((status = 204), (status = 403), (status = 404), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn grant_role(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id, role)): PathParam<(String, Uuid, String)>,
    QueryParams(q): QueryParams<ScopeParams>,
) -> ApiResult<StatusCode> {
    let scope = scope(q.scope.as_deref())?;
    s.app
        .set_user_role(
            &ctx,
            &t,
            UserId::from_uuid(id),
            role_param(&role)?,
            scope,
            true,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Revoke a role held within a scope.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/users/{id}/roles/{role}", tag = "roles", params(("t" = String, Path), ("id" = Uuid, Path), ("role" = String, Path), ScopeParams),
    responses((status = 204), (status = 403), (status = 404), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn revoke_role(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id, role)): PathParam<(String, Uuid, String)>,
    QueryParams(q): QueryParams<ScopeParams>,
) -> ApiResult<StatusCode> {
    let scope = scope(q.scope.as_deref())?;
    s.app
        .set_user_role(
            &ctx,
            &t,
            UserId::from_uuid(id),
            role_param(&role)?,
            scope,
            false,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
