//! Permission templates (with the tenant's menu) and their grants to roles and users; the
//! permission catalogue and the resource types that register a tenant's own permissions.

use crate::authz_convert::{
    menu, permissions, resource_type, resource_type_response, template_response,
};
use crate::caller::Caller;
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use tessera_api_types::authz::{
    PermissionList, PermissionResponse, ResourceTypeBody, ResourceTypeList, ResourceTypeResponse,
    TemplateBody, TemplateList, TemplateResponse,
};
use tessera_application::{Error, TemplateInput};
use tessera_domain::UserId;
use tessera_domain::authz::{GrantTarget, RoleRef};
use tessera_http_kit::{JsonBody, PathParam};
use uuid::Uuid;

/// Every permission: Tessera's own and those the tenant's resource types register.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/permissions", tag = "roles", params(("t" = String, Path)),
    responses((status = 200, body = PermissionList), (status = 403)), security(("api_key" = []), ("user" = [])))]
pub async fn permission_list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<PermissionList>> {
    let list = s.app.list_permissions(&ctx, &t).await?;
    Ok(Json(PermissionList {
        permissions: list
            .into_iter()
            .map(|p| PermissionResponse {
                permission: p.permission,
                description: p.description,
                built_in: p.built_in,
            })
            .collect(),
    }))
}

/// The tenant's resource types.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/resource-types", tag = "roles", params(("t" = String, Path)),
    responses((status = 200, body = ResourceTypeList), (status = 403)), security(("api_key" = []), ("user" = [])))]
pub async fn resource_types(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<ResourceTypeList>> {
    let list = s.app.list_resource_types(&ctx, &t).await?;
    Ok(Json(ResourceTypeList {
        resource_types: list.into_iter().map(resource_type_response).collect(),
    }))
}

/// Register or replace a resource type (its actions become permissions `<type>:<action>`).
#[utoipa::path(put, path = "/api/v1/tenants/{t}/resource-types/{name}", tag = "roles", params(("t" = String, Path), ("name" = String, Path)), request_body = ResourceTypeBody,
    responses((status = 200, body = ResourceTypeResponse), (status = 403), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn put_resource_type(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, name)): PathParam<(String, String)>,
    JsonBody(body): JsonBody<ResourceTypeBody>,
) -> ApiResult<Json<ResourceTypeResponse>> {
    let rt = resource_type(name, body)?;
    let rt = s.app.put_resource_type(&ctx, &t, rt).await?;
    Ok(Json(resource_type_response(rt)))
}

/// Remove a resource type (refused while templates or policies use it).
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/resource-types/{name}", tag = "roles", params(("t" = String, Path), ("name" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn delete_resource_type(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, name)): PathParam<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_resource_type(&ctx, &t, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's templates.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/templates", tag = "roles", params(("t" = String, Path)),
    responses((status = 200, body = TemplateList), (status = 403)), security(("api_key" = []), ("user" = [])))]
pub async fn templates(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<TemplateList>> {
    let list = s.app.list_templates(&ctx, &t).await?;
    Ok(Json(TemplateList {
        templates: list
            .into_iter()
            .map(|t| template_response(t, vec![]))
            .collect(),
    }))
}

/// One template with its grants.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/templates/{key}", tag = "roles", params(("t" = String, Path), ("key" = String, Path)),
    responses((status = 200, body = TemplateResponse), (status = 403), (status = 404)), security(("api_key" = []), ("user" = [])))]
pub async fn template(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, key)): PathParam<(String, String)>,
) -> ApiResult<Json<TemplateResponse>> {
    let (tpl, grants) = s.app.get_template(&ctx, &t, &key).await?;
    Ok(Json(template_response(tpl, grants)))
}

/// Create or replace a template: 201 when created. You hand on only permissions you hold
/// for the whole tenant, and change no template held by a role at or above your priority.
#[utoipa::path(put, path = "/api/v1/tenants/{t}/templates/{key}", tag = "roles", params(("t" = String, Path), ("key" = String, Path)), request_body = TemplateBody,
    responses((status = 200, body = TemplateResponse), (status = 201, body = TemplateResponse), (status = 403), (status = 409), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn put_template(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    headers: HeaderMap,
    PathParam((t, key)): PathParam<(String, String)>,
    JsonBody(body): JsonBody<TemplateBody>,
) -> ApiResult<(StatusCode, Json<TemplateResponse>)> {
    let input = TemplateInput {
        key,
        name: body.name,
        description: body.description,
        permissions: permissions(&body.permissions, "permissions")?,
        menu: menu(body.menu)?,
    };
    let if_match = crate::routes::users::if_match(&headers)?;
    let (tpl, created) = s.app.put_template(&ctx, &t, input, if_match).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(template_response(tpl, vec![]))))
}

/// Delete a template and its grants.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/templates/{key}", tag = "roles", params(("t" = String, Path), ("key" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("api_key" = []), ("user" = [])))]
pub async fn delete_template(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, key)): PathParam<(String, String)>,
) -> ApiResult<StatusCode> {
    s.app.delete_template(&ctx, &t, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn role_target(raw: &str) -> Result<GrantTarget, Error> {
    RoleRef::parse(raw)
        .map(GrantTarget::Role)
        .map_err(Error::invalid)
}

/// Grant a template to a role (below your priority).
#[utoipa::path(put, path = "/api/v1/tenants/{t}/templates/{key}/roles/{role}", tag = "roles", params(("t" = String, Path), ("key" = String, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn grant_to_role(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, key, role)): PathParam<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.app
        .set_template_grant(&ctx, &t, &key, role_target(&role)?, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a template back from a role.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/templates/{key}/roles/{role}", tag = "roles", params(("t" = String, Path), ("key" = String, Path), ("role" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 422)), security(("api_key" = []), ("user" = [])))]
pub async fn revoke_from_role(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, key, role)): PathParam<(String, String, String)>,
) -> ApiResult<StatusCode> {
    s.app
        .set_template_grant(&ctx, &t, &key, role_target(&role)?, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Grant a template directly to a user (tenant-wide).
#[utoipa::path(put, path = "/api/v1/tenants/{t}/templates/{key}/users/{id}", tag = "roles", params(("t" = String, Path), ("key" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("api_key" = []), ("user" = [])))]
pub async fn grant_to_user(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, key, id)): PathParam<(String, String, Uuid)>,
) -> ApiResult<StatusCode> {
    let target = GrantTarget::User(UserId::from_uuid(id));
    s.app
        .set_template_grant(&ctx, &t, &key, target, true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take a template back from a user.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/templates/{key}/users/{id}", tag = "roles", params(("t" = String, Path), ("key" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403), (status = 404)), security(("api_key" = []), ("user" = [])))]
pub async fn revoke_from_user(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, key, id)): PathParam<(String, String, Uuid)>,
) -> ApiResult<StatusCode> {
    let target = GrantTarget::User(UserId::from_uuid(id));
    s.app
        .set_template_grant(&ctx, &t, &key, target, false)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
