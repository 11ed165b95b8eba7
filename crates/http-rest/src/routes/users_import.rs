//! Import users with their existing password hashes.

use crate::caller::Caller;
use crate::convert::Check;
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use tessera_api_types::auth::{ImportRequest, ImportResponse, ImportSkipped, ImportUser};
use tessera_application::{ImportItem, NewUser};
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::profile::{Profile, parse_name};
use tessera_domain::user::{EmailEntry, PhoneEntry};
use tessera_http_kit::{JsonBody, PathParam};

/// Parses one import record; the errors, joined, are the reason it is skipped.
pub fn import_item(index: usize, u: ImportUser) -> Result<ImportItem, String> {
    let mut check = Check::default();
    let user = NewUser {
        username: check.opt("username", u.username.as_deref(), Username::parse),
        emails: check
            .opt("email", u.email.as_deref(), Email::parse)
            .map(|address| EmailEntry {
                address,
                verified: u.email_verified.unwrap_or(true),
                primary: true,
            })
            .into_iter()
            .collect(),
        phones: check
            .opt("phone", u.phone.as_deref(), PhoneNumber::parse)
            .map(|number| PhoneEntry {
                number,
                verified: u.phone_verified.unwrap_or(true),
                primary: true,
            })
            .into_iter()
            .collect(),
        profile: Profile {
            given_name: check.opt("given_name", u.given_name.as_deref(), |r| {
                parse_name("given_name", r)
            }),
            family_name: check.opt("family_name", u.family_name.as_deref(), |r| {
                parse_name("family_name", r)
            }),
            ..Profile::default()
        },
        ..NewUser::default()
    };
    check
        .finish(ImportItem {
            index,
            user,
            password_hash: u.password_hash,
        })
        .map_err(|e| match e.0 {
            tessera_application::Error::Invalid(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.to_string(),
        })
}

/// Import up to 1000 users, with bcrypt or Argon2id password hashes from another system
/// (a bcrypt hash is replaced by Argon2id at the user's first sign-in). Records that
/// cannot be imported are skipped and listed with the reason.
#[utoipa::path(post, path = "/api/v1/tenants/{t}/users/import", tag = "users", params(("t" = String, Path)), request_body = ImportRequest,
    responses((status = 200, body = ImportResponse), (status = 422)), security(("api_key" = [])))]
pub async fn import(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<ImportRequest>,
) -> ApiResult<Json<ImportResponse>> {
    let mut skipped = Vec::new();
    let mut items = Vec::new();
    for (index, u) in body.users.into_iter().enumerate() {
        match import_item(index, u) {
            Ok(item) => items.push(item),
            Err(reason) => skipped.push(ImportSkipped { index, reason }),
        }
    }
    let report = s.app.import_users(&ctx, &t, items).await?;
    skipped.extend(report.skipped.into_iter().map(|s| ImportSkipped {
        index: s.index,
        reason: s.reason,
    }));
    skipped.sort_by_key(|s| s.index);
    Ok(Json(ImportResponse {
        imported: report.imported,
        with_password: report.with_password,
        skipped,
    }))
}
