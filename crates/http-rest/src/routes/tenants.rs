use crate::caller::Caller;
use crate::convert::{tenant_response, tenant_settings};
use crate::errors::ApiResult;
use crate::paging;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_api_types::common::Page;
use tessera_api_types::tenants::{CreateTenantRequest, TenantResponse, UpdateTenantRequest};
use tessera_application::{NewTenant, TenantPatch};
use tessera_domain::OrganizationId;
use tessera_domain::tenant::{TenantSlug, TenantState};
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    /// Page size (1-500, default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Create a tenant (operator keys with `tenants:write`).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = CreateTenantRequest,
    responses((status = 201, body = TenantResponse), (status = 409, description = "slug taken"), (status = 422, description = "invalid input")),
    security(("api_key" = [])))]
pub async fn create(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    JsonBody(body): JsonBody<CreateTenantRequest>,
) -> ApiResult<(StatusCode, Json<TenantResponse>)> {
    let slug = TenantSlug::parse(&body.slug)?;
    let settings = body
        .settings
        .map(tenant_settings)
        .transpose()?
        .unwrap_or_default();
    let tenant = s
        .app
        .create_tenant(
            &ctx,
            NewTenant {
                slug,
                display_name: body.display_name,
                organization_id: body.organization_id.map(OrganizationId::from_uuid),
                organization_name: body.organization_name,
                settings,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(tenant_response(tenant, &s.public_url)),
    ))
}

/// List tenants, ordered by slug.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", params(ListParams),
    responses((status = 200, body = Page<TenantResponse>)), security(("api_key" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    QueryParams(p): QueryParams<ListParams>,
) -> ApiResult<Json<Page<TenantResponse>>> {
    let after = paging::cursor(p.cursor.as_deref())?;
    let page = s
        .app
        .list_tenants(&ctx, after, paging::limit(p.limit))
        .await?;
    Ok(Json(paging::page(page, |t| {
        tenant_response(t, &s.public_url)
    })))
}

/// Get a tenant.
#[utoipa::path(get, path = "/api/v1/tenants/{t}", tag = "tenants", params(("t" = String, Path, description = "tenant slug")),
    responses((status = 200, body = TenantResponse), (status = 404)), security(("api_key" = [])))]
pub async fn get(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<TenantResponse>> {
    Ok(Json(tenant_response(
        s.app.get_tenant(&ctx, &t).await?,
        &s.public_url,
    )))
}

/// Update a tenant's display name or settings.
#[utoipa::path(patch, path = "/api/v1/tenants/{t}", tag = "tenants", params(("t" = String, Path)), request_body = UpdateTenantRequest,
    responses((status = 200, body = TenantResponse), (status = 404), (status = 422)), security(("api_key" = [])))]
pub async fn update(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<UpdateTenantRequest>,
) -> ApiResult<Json<TenantResponse>> {
    let settings = body.settings.map(tenant_settings).transpose()?;
    let tenant = s
        .app
        .update_tenant(
            &ctx,
            &t,
            TenantPatch {
                display_name: body.display_name,
                settings,
            },
        )
        .await?;
    Ok(Json(tenant_response(tenant, &s.public_url)))
}

/// Disable a tenant: its own keys stop working; its data is kept.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/disable", tag = "tenants", params(("t" = String, Path)),
    responses((status = 200, body = TenantResponse)), security(("api_key" = [])))]
pub async fn disable(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<TenantResponse>> {
    Ok(Json(tenant_response(
        s.app
            .set_tenant_state(&ctx, &t, TenantState::Disabled)
            .await?,
        &s.public_url,
    )))
}

/// Enable a disabled tenant.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/enable", tag = "tenants", params(("t" = String, Path)),
    responses((status = 200, body = TenantResponse)), security(("api_key" = [])))]
pub async fn enable(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
) -> ApiResult<Json<TenantResponse>> {
    Ok(Json(tenant_response(
        s.app
            .set_tenant_state(&ctx, &t, TenantState::Active)
            .await?,
        &s.public_url,
    )))
}
