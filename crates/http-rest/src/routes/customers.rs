use crate::caller::Caller;
use crate::convert::{new_customer, user_response};
use crate::errors::ApiResult;
use crate::paging;
use crate::routes::users::{UserListParams, user_query, with_etag};
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use tessera_api_types::common::Page;
use tessera_api_types::users::{CreateCustomerRequest, UserResponse};
use tessera_domain::UserId;
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use uuid::Uuid;

/// Create a customer: no credentials; optionally linked to a unit (merchant).
#[utoipa::path(post, path = "/api/v1/tenants/{t}/customers", tag = "customers", params(("t" = String, Path)), request_body = CreateCustomerRequest,
    responses((status = 201, body = UserResponse), (status = 409), (status = 422)), security(("api_key" = [])))]
pub async fn create(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<CreateCustomerRequest>,
) -> ApiResult<Response> {
    let customer = s.app.create_customer(&ctx, &t, new_customer(body)?).await?;
    Ok(with_etag(customer, StatusCode::CREATED))
}

/// List customers (same filters as users; `kind` is forced to `customer`).
#[utoipa::path(get, path = "/api/v1/tenants/{t}/customers", tag = "customers", params(("t" = String, Path), UserListParams),
    responses((status = 200, body = Page<UserResponse>)), security(("api_key" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(p): QueryParams<UserListParams>,
) -> ApiResult<Json<Page<UserResponse>>> {
    let page = s.app.list_customers(&ctx, &t, user_query(p)?).await?;
    Ok(Json(paging::page(page, user_response)))
}

/// Get a customer.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/customers/{id}", tag = "customers", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = UserResponse), (status = 404)), security(("api_key" = [])))]
pub async fn get(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Response> {
    Ok(with_etag(
        s.app.get_customer(&ctx, &t, UserId::from_uuid(id)).await?,
        StatusCode::OK,
    ))
}

/// Promote a customer to a full user with the same id (history kept).
#[utoipa::path(post, path = "/api/v1/tenants/{t}/customers/{id}/promote", tag = "customers", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = UserResponse), (status = 409), (status = 422)), security(("api_key" = [])))]
pub async fn promote(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Response> {
    Ok(with_etag(
        s.app
            .promote_customer(&ctx, &t, UserId::from_uuid(id))
            .await?,
        StatusCode::OK,
    ))
}
