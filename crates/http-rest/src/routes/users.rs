use crate::caller::Caller;
use crate::convert::{new_user, parse_state, settings_body, user_patch, user_response};
use crate::errors::{ApiError, ApiResult};
use crate::paging;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_api_types::common::Page;
use tessera_api_types::users::{
    CreateUserRequest, TransitionRequest, UpdateUserRequest, UserResponse, UserSettingsBody,
};
use tessera_application::{Error, SettingsPatch};
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::paging::SortOrder;
use tessera_domain::ports::{UserQuery, UserSort};
use tessera_domain::user::{User, UserKind};
use tessera_domain::{OrgUnitId, UserId, ValidationError};
use tessera_http_kit::{JsonBody, PathParam, QueryParams};
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserListParams {
    /// Page size (1-500, default 50).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Exact email address (case-insensitive).
    pub email: Option<String>,
    /// Exact phone number (E.164).
    pub phone: Option<String>,
    /// Exact username (case-insensitive).
    pub username: Option<String>,
    /// Lifecycle state; deleted users are listed only with `state=deleted`.
    pub state: Option<String>,
    /// `user` or `customer`.
    pub kind: Option<String>,
    /// Customers linked to this unit.
    pub org_unit_id: Option<Uuid>,
    /// `created_at` (default), `updated_at` or `username`; prefix `-` for descending.
    pub sort: Option<String>,
}

/// Turns list parameters into a store query; filter values are parsed (and thereby
/// normalised) like the identifiers they are compared with.
pub fn user_query(p: UserListParams) -> Result<UserQuery, ApiError> {
    let invalid = |field: &str, code: &'static str, msg: &str| {
        Error::invalid(ValidationError::new(field, code, msg))
    };
    let (order, sort_key) = match p.sort.as_deref() {
        Some(s) if s.starts_with('-') => (SortOrder::Desc, &s[1..]),
        Some(s) => (SortOrder::Asc, s),
        None => (SortOrder::Asc, "created_at"),
    };
    let sort = match sort_key {
        "created_at" => UserSort::CreatedAt,
        "updated_at" => UserSort::UpdatedAt,
        "username" => UserSort::Username,
        _ => {
            return Err(invalid(
                "sort",
                "invalid_sort",
                "sort by created_at, updated_at or username (prefix - for descending)",
            )
            .into());
        }
    };
    // A filter value that is not even a valid identifier matches nobody: answer with an
    // empty page rather than an error, as a search would (but never build SQL from it).
    let email = p.email.map(|e| {
        Email::parse(&e)
            .map(|e| e.key().to_owned())
            .unwrap_or_else(|_| e.to_lowercase())
    });
    let username = p.username.map(|u| {
        Username::parse(&u)
            .map(|u| u.key().to_owned())
            .unwrap_or_else(|_| u.to_lowercase())
    });
    let phone = match p.phone {
        None => None,
        Some(raw) => Some(PhoneNumber::parse(&raw).map_err(|e| Error::invalid(e.at("phone")))?),
    };
    let state = p.state.as_deref().map(parse_state).transpose()?;
    let kind = match p.kind.as_deref() {
        None => None,
        Some(k) => Some(
            UserKind::parse(k)
                .ok_or_else(|| invalid("kind", "invalid_kind", "kind is user or customer"))?,
        ),
    };
    Ok(UserQuery {
        email,
        phone,
        username,
        state,
        kind,
        org_unit_id: p.org_unit_id.map(OrgUnitId::from_uuid),
        within: None,
        sort,
        order,
        after: paging::cursor(p.cursor.as_deref())?,
        limit: paging::limit(p.limit),
    })
}

/// A user with its `ETag` (the version), for `If-Match` on updates.
pub fn with_etag(user: User, status: StatusCode) -> Response {
    let etag = HeaderValue::from_str(&format!("\"{}\"", user.version)).ok();
    let mut response = (status, Json(user_response(user))).into_response();
    if let Some(etag) = etag {
        response.headers_mut().insert(header::ETAG, etag);
    }
    response
}

/// Reads `If-Match: "<version>"`; `*` or absence means no precondition.
pub(crate) fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let raw = raw.to_str().unwrap_or_default().trim();
    if raw == "*" {
        return Ok(None);
    }
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map(Some)
        .map_err(|_| {
            Error::invalid(ValidationError::new(
                "If-Match",
                "invalid_etag",
                "If-Match takes the ETag a GET returned",
            ))
            .into()
        })
}

type UserPath = PathParam<(String, Uuid)>;

/// Create a user: identifiers, profile and custom attributes; settings come from the tenant's
/// defaults.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/users", tag = "users", params(("t" = String, Path)), request_body = CreateUserRequest,
    responses((status = 201, body = UserResponse), (status = 409, description = "an identifier is taken"), (status = 422)), security(("api_key" = [])))]
pub async fn create(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<CreateUserRequest>,
) -> ApiResult<Response> {
    let user = s.app.create_user(&ctx, &t, new_user(body)?).await?;
    Ok(with_etag(user, StatusCode::CREATED))
}

/// List users with filters, sorting and cursor pagination.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/users", tag = "users", params(("t" = String, Path), UserListParams),
    responses((status = 200, body = Page<UserResponse>)), security(("api_key" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(p): QueryParams<UserListParams>,
) -> ApiResult<Json<Page<UserResponse>>> {
    let page = s.app.list_users(&ctx, &t, user_query(p)?).await?;
    Ok(Json(paging::page(page, user_response)))
}

/// Get a user.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/users/{id}", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = UserResponse), (status = 404)), security(("api_key" = [])))]
pub async fn get(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UserPath,
) -> ApiResult<Response> {
    Ok(with_etag(
        s.app.get_user(&ctx, &t, UserId::from_uuid(id)).await?,
        StatusCode::OK,
    ))
}

/// Update a user. Honors `If-Match` (412 when the user changed meanwhile).
#[utoipa::path(patch, path = "/api/v1/tenants/{t}/users/{id}", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)), request_body = UpdateUserRequest,
    responses((status = 200, body = UserResponse), (status = 404), (status = 409), (status = 412), (status = 422)), security(("api_key" = [])))]
pub async fn update(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UserPath,
    headers: HeaderMap,
    JsonBody(body): JsonBody<UpdateUserRequest>,
) -> ApiResult<Response> {
    let expected = if_match(&headers)?;
    let user = s
        .app
        .update_user(&ctx, &t, UserId::from_uuid(id), user_patch(body)?, expected)
        .await?;
    Ok(with_etag(user, StatusCode::OK))
}

/// Move a user to another lifecycle state; 409 lists the allowed transitions.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/users/{id}/state", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)), request_body = TransitionRequest,
    responses((status = 200, body = UserResponse), (status = 409, description = "illegal transition")), security(("api_key" = [])))]
pub async fn transition(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UserPath,
    JsonBody(body): JsonBody<TransitionRequest>,
) -> ApiResult<Response> {
    let to = parse_state(&body.state)?;
    Ok(with_etag(
        s.app
            .transition_user(&ctx, &t, UserId::from_uuid(id), to)
            .await?,
        StatusCode::OK,
    ))
}

/// Soft-delete a user (restorable).
#[utoipa::path(delete, path = "/api/v1/tenants/{t}/users/{id}", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = UserResponse), (status = 409)), security(("api_key" = [])))]
pub async fn delete(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UserPath,
) -> ApiResult<Response> {
    let user = s
        .app
        .transition_user(
            &ctx,
            &t,
            UserId::from_uuid(id),
            tessera_domain::lifecycle::LifecycleState::Deleted,
        )
        .await?;
    Ok(with_etag(user, StatusCode::OK))
}

/// Restore a soft-deleted user to the state they had before.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/users/{id}/restore", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = UserResponse), (status = 409)), security(("api_key" = [])))]
pub async fn restore(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UserPath,
) -> ApiResult<Response> {
    Ok(with_etag(
        s.app.restore_user(&ctx, &t, UserId::from_uuid(id)).await?,
        StatusCode::OK,
    ))
}

/// Erase a deleted user for good: the record and its identifiers go (the identifiers are
/// free again). The erase event records what was removed with personal data masked; earlier
/// audit events keep what they recorded (set `mask_pii_in_audit` on the tenant to keep personal
/// data out of them).
#[utoipa::path(post, path = "/api/v1/tenants/{t}/users/{id}/erase", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 409, description = "not deleted first")), security(("api_key" = [])))]
pub async fn erase(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UserPath,
) -> ApiResult<StatusCode> {
    s.app.erase_user(&ctx, &t, UserId::from_uuid(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's settings.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/users/{id}/settings", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = UserSettingsBody)), security(("api_key" = [])))]
pub async fn settings(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UserPath,
) -> ApiResult<Json<UserSettingsBody>> {
    Ok(Json(settings_body(
        &s.app.user_settings(&ctx, &t, UserId::from_uuid(id)).await?,
    )))
}

/// Change some of a user's settings (unknown keys are refused).
#[utoipa::path(patch, path = "/api/v1/tenants/{t}/users/{id}/settings", tag = "users", params(("t" = String, Path), ("id" = Uuid, Path)),
    request_body(content = Object, description = "the settings to change"),
    responses((status = 200, body = UserSettingsBody), (status = 422)), security(("api_key" = [])))]
pub async fn update_settings(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam((t, id)): UserPath,
    JsonBody(body): JsonBody<serde_json::Map<String, serde_json::Value>>,
) -> ApiResult<Json<UserSettingsBody>> {
    let settings = s
        .app
        .update_user_settings(&ctx, &t, UserId::from_uuid(id), SettingsPatch(body))
        .await?;
    Ok(Json(settings_body(&settings)))
}
