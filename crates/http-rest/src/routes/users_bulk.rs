//! `POST /api/v1/tenants/{t}/users/bulk`: many users in one call, all or nothing.

use crate::caller::Caller;
use crate::convert::{new_user, user_response};
use crate::errors::{ApiError, ApiResult, problem};
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_api_types::users::{BulkCreateUsersRequest, BulkCreateUsersResponse};
use tessera_application::{App, Error, NewUser};
use tessera_domain::ValidationError;
use tessera_domain::identifiers::{Email, Username};
use tessera_http_kit::{JsonBody, PathParam};

/// The identifiers of one item, normalised as uniqueness compares them.
struct Keys {
    username: Option<String>,
    emails: Vec<String>,
    phones: Vec<String>,
}

impl Keys {
    fn of(user: &NewUser) -> Self {
        Self {
            username: user.username.as_ref().map(|u| u.key().to_owned()),
            emails: user
                .emails
                .iter()
                .map(|e| e.address.key().to_owned())
                .collect(),
            phones: user
                .phones
                .iter()
                .map(|p| p.number.as_str().to_owned())
                .collect(),
        }
    }

    fn holds(&self, field: &str, key: &str) -> bool {
        match field {
            "username" => self.username.as_deref() == Some(key),
            "email" => self.emails.iter().any(|e| e == key),
            "phone" => self.phones.iter().any(|p| p == key),
            _ => false,
        }
    }
}

/// The item a duplicate `value` of `field` belongs to: the second item holding it when it
/// is repeated within the batch, else the only one (taken by a user already there).
fn offending_index(keys: &[Keys], field: &str, value: &str) -> Option<usize> {
    let key = match field {
        "username" => {
            Username::parse(value).map_or_else(|_| value.to_lowercase(), |u| u.key().to_owned())
        }
        "email" => {
            Email::parse(value).map_or_else(|_| value.to_lowercase(), |e| e.key().to_owned())
        }
        _ => value.to_owned(),
    };
    let mut holders = keys
        .iter()
        .enumerate()
        .filter(|(_, k)| k.holds(field, &key))
        .map(|(i, _)| i);
    let first = holders.next();
    holders.next().or(first)
}

/// Create up to 1000 users in one call, all or nothing, each validated like a single create
/// and recorded by its own `user.created` audit event. Answers the users in the order sent.
///
/// 422 lists every error, fields prefixed with the item's index
/// (`users[3].emails[0].address`); 409 when an identifier is taken or repeated within the
/// batch, with `index` naming the offending item when it is known (nothing is written).
///
/// Body size: requests are limited to `server.max_body_bytes` (1 MiB by default; 413 above).
/// 1000 users with a username, an email address and a few profile fields take about
/// 150-250 KiB, so a full batch of small users fits; users with large custom attributes
/// need smaller batches or a higher limit.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/users/bulk", tag = "users", operation_id = "create_bulk", params(("t" = String, Path)), request_body = BulkCreateUsersRequest,
    responses((status = 201, body = BulkCreateUsersResponse),
        (status = 409, description = "an identifier is taken or repeated within the batch; `index` names the item when known"),
        (status = 413, description = "the body exceeds server.max_body_bytes"),
        (status = 422, description = "every validation error, fields prefixed with users[i].")),
    security(("api_key" = [])))]
pub async fn create(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<BulkCreateUsersRequest>,
) -> ApiResult<Response> {
    let count = body.users.len();
    if count == 0 || count > App::MAX_BULK_USERS {
        return Err(ValidationError::new(
            "users",
            "invalid_batch_size",
            format!(
                "send between 1 and {} users per call (got {count})",
                App::MAX_BULK_USERS
            ),
        )
        .into());
    }
    let mut news = Vec::with_capacity(count);
    let mut errors = Vec::new();
    for (i, item) in body.users.into_iter().enumerate() {
        match new_user(item) {
            Ok(new) => news.push(new),
            Err(ApiError(Error::Invalid(found))) => errors.extend(found.into_iter().map(|e| {
                let field = format!("users[{i}].{}", e.field);
                e.at(field)
            })),
            Err(other) => return Err(other),
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors).into());
    }
    let keys: Vec<Keys> = news.iter().map(Keys::of).collect();
    match s.app.create_users_bulk(&ctx, &t, news).await {
        Ok(users) => {
            let items = users.into_iter().map(user_response).collect();
            Ok((StatusCode::CREATED, Json(BulkCreateUsersResponse { items })).into_response())
        }
        Err(Error::Duplicate { field, value }) => {
            let index = value
                .as_deref()
                .and_then(|v| offending_index(&keys, field, v));
            let mut answer = problem(Error::Duplicate { field, value });
            if let Some(index) = index {
                answer = answer.with("index", json!(index));
            }
            Ok(answer.into_response())
        }
        Err(other) => Err(other.into()),
    }
}
