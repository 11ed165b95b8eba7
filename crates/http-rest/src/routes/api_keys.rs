use crate::caller::Caller;
use crate::convert::{Check, api_key_response};
use crate::errors::ApiResult;
use crate::paging;
use crate::routes::org_units::PageParams;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use tessera_api_types::api_keys::{ApiKeyCreatedResponse, ApiKeyResponse, CreateApiKeyRequest};
use tessera_api_types::common::Page;
use tessera_application::NewApiKey;
use tessera_domain::ApiKeyId;
use tessera_domain::api_key::Scope;
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use uuid::Uuid;

/// Create an API key. The secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/api-keys", tag = "api-keys", params(("t" = String, Path)), request_body = CreateApiKeyRequest,
    responses((status = 201, body = ApiKeyCreatedResponse), (status = 403), (status = 422)), security(("api_key" = [])))]
pub async fn create(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<CreateApiKeyRequest>,
) -> ApiResult<(StatusCode, Json<ApiKeyCreatedResponse>)> {
    let mut check = Check::default();
    let scopes: Vec<Scope> = body
        .scopes
        .iter()
        .filter_map(|s| check.field("scopes", Scope::parse(s)))
        .collect();
    let scopes = check.finish(scopes)?;
    let created = s
        .app
        .create_api_key(
            &ctx,
            &t,
            NewApiKey {
                name: body.name,
                scopes,
                expires_at: body.expires_at,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ApiKeyCreatedResponse {
            secret: created.secret,
            key: api_key_response(created.key),
        }),
    ))
}

/// List API keys (secrets are never shown again).
#[utoipa::path(get, path = "/api/v1/tenants/{t}/api-keys", tag = "api-keys", params(("t" = String, Path), PageParams),
    responses((status = 200, body = Page<ApiKeyResponse>)), security(("api_key" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(p): QueryParams<PageParams>,
) -> ApiResult<Json<Page<ApiKeyResponse>>> {
    let page = s
        .app
        .list_api_keys(
            &ctx,
            &t,
            paging::cursor(p.cursor.as_deref())?,
            paging::limit(p.limit),
        )
        .await?;
    Ok(Json(paging::page(page, api_key_response)))
}

/// Revoke an API key at once.
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/api-keys/{id}", tag = "api-keys", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = ApiKeyResponse), (status = 404)), security(("api_key" = [])))]
pub async fn revoke(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Json<ApiKeyResponse>> {
    Ok(Json(api_key_response(
        s.app
            .revoke_api_key(&ctx, &t, ApiKeyId::from_uuid(id))
            .await?,
    )))
}
