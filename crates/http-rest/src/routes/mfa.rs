//! The signed-in user's second factors, passkeys, remembered devices, step-up and API keys
//! (`/t/{t}/api/v1/me/...`). Setting up a first factor also works for a sign-in that waits
//! for enrolment (`X-MFA-Token` or the session cookie); everything else needs a full
//! sign-in, and changes need a recent authentication (401 `step_up_required`).

use super::sign_in::{ceremony, proof};
use crate::caller::{Me, Pending};
use crate::convert::{Check, api_key_response};
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderName, StatusCode};
use axum::response::AppendHeaders;
use tessera_api_types::api_keys::{ApiKeyCreatedResponse, CreateApiKeyRequest};
use tessera_api_types::mfa::{
    BackupCodesResponse, CodeRequest, DeviceResponse, DevicesForgotten, EnrolledResponse,
    MfaStatusResponse, PasskeyOptionsResponse, PasskeyRegisterRequest, PasskeyResponse,
    ProofRequest, RenameRequest, TotpEnrolmentResponse,
};
use tessera_application::{Enrolled, NewApiKey};
use tessera_domain::api_key::Scope;
use tessera_domain::mfa::Passkey;
use tessera_domain::{ChallengeId, DeviceId, PasskeyId};
use tessera_http_kit::{JsonBody, PathParam};
use uuid::Uuid;

fn passkey_response(p: Passkey) -> PasskeyResponse {
    PasskeyResponse {
        id: p.id.into_uuid(),
        name: p.name,
        aaguid: p.aaguid.filter(|a| !a.is_nil()),
        synced: p.backup_eligible,
        created_at: p.created_at,
        last_used_at: p.last_used_at,
    }
}

type Cookies = AppendHeaders<Vec<(HeaderName, String)>>;

/// When enrolling completed a sign-in: the session's new cookie (and a new device's).
fn enrolled_cookies(s: &RestState, e: &Enrolled) -> Cookies {
    let mut set = Vec::new();
    if let Some(secret) = &e.session_secret {
        set.push((SET_COOKIE, s.cookies.set_session(secret)));
    }
    if let Some(device) = &e.device_secret {
        set.push((SET_COOKIE, s.cookies.set_device(device)));
    }
    AppendHeaders(set)
}

fn enrolled_response(e: Enrolled, passkey: Option<Passkey>) -> EnrolledResponse {
    EnrolledResponse {
        backup_codes: e.backup_codes,
        access_token: e.tokens.as_ref().map(|t| t.access_token.clone()),
        refresh_token: e.tokens.map(|t| t.refresh_token),
        passkey: passkey.map(passkey_response),
    }
}

/// The user's second factors, and whether one is mandatory.
#[utoipa::path(get, path = "/t/{t}/api/v1/me/mfa", tag = "mfa", params(("t" = String, Path)),
    responses((status = 200, body = MfaStatusResponse), (status = 401)), security(("user" = [])))]
pub async fn status(
    State(s): State<RestState>,
    Pending(me, _, _): Pending,
) -> ApiResult<Json<MfaStatusResponse>> {
    let (f, mandatory) = s.app.my_factors(&me).await?;
    Ok(Json(MfaStatusResponse {
        totp: f.totp,
        passkeys: u32::try_from(f.passkeys).unwrap_or(u32::MAX),
        backup_codes_remaining: f.backup_codes_remaining,
        mandatory,
        restriction: me.session.restriction.map(|r| r.as_str().to_owned()),
    }))
}

/// Start setting up an authenticator app: the secret and its `otpauth://` URI (for a QR
/// code). It counts once confirmed with a first code.
#[utoipa::path(post, path = "/t/{t}/api/v1/me/mfa/totp", tag = "mfa", params(("t" = String, Path)),
    responses((status = 200, body = TotpEnrolmentResponse), (status = 401), (status = 403), (status = 409)), security(("user" = [])))]
pub async fn start_totp(
    State(s): State<RestState>,
    Pending(me, _, _): Pending,
) -> ApiResult<Json<TotpEnrolmentResponse>> {
    let e = s.app.start_totp_enrolment(&me).await?;
    Ok(Json(TotpEnrolmentResponse {
        secret: e.secret,
        otpauth_uri: e.uri,
    }))
}

/// Confirm the authenticator app with its current code. A first factor comes with backup
/// codes (shown once).
#[utoipa::path(post, path = "/t/{t}/api/v1/me/mfa/totp/confirm", tag = "mfa", params(("t" = String, Path)), request_body = CodeRequest,
    responses((status = 200, body = EnrolledResponse), (status = 401), (status = 409), (status = 422)), security(("user" = [])))]
pub async fn confirm_totp(
    State(s): State<RestState>,
    Pending(me, origin, _): Pending,
    JsonBody(body): JsonBody<CodeRequest>,
) -> ApiResult<(Cookies, Json<EnrolledResponse>)> {
    let e = s.app.confirm_totp(&me, origin, &body.code).await?;
    Ok((enrolled_cookies(&s, &e), Json(enrolled_response(e, None))))
}

/// Remove the authenticator app.
#[utoipa::path(delete, path = "/t/{t}/api/v1/me/mfa/totp", tag = "mfa", params(("t" = String, Path)),
    responses((status = 204), (status = 401), (status = 404), (status = 409)), security(("user" = [])))]
pub async fn remove_totp(State(s): State<RestState>, Me(me, origin): Me) -> ApiResult<StatusCode> {
    s.app.remove_totp(&me, origin).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the backup codes by a new set (shown once; the old ones stop working).
#[utoipa::path(post, path = "/t/{t}/api/v1/me/mfa/backup-codes", tag = "mfa", params(("t" = String, Path)),
    responses((status = 200, body = BackupCodesResponse), (status = 401), (status = 409)), security(("user" = [])))]
pub async fn regenerate_backup_codes(
    State(s): State<RestState>,
    Me(me, origin): Me,
) -> ApiResult<Json<BackupCodesResponse>> {
    let codes = s.app.regenerate_backup_codes(&me, origin).await?;
    Ok(Json(BackupCodesResponse { codes }))
}

/// The user's passkeys.
#[utoipa::path(get, path = "/t/{t}/api/v1/me/passkeys", tag = "mfa", params(("t" = String, Path)),
    responses((status = 200, body = Vec<PasskeyResponse>), (status = 401)), security(("user" = [])))]
pub async fn passkeys(
    State(s): State<RestState>,
    Me(me, _): Me,
) -> ApiResult<Json<Vec<PasskeyResponse>>> {
    Ok(Json(
        s.app
            .my_passkeys(&me)
            .await?
            .into_iter()
            .map(passkey_response)
            .collect(),
    ))
}

/// Start registering a passkey: options for `navigator.credentials.create`.
#[utoipa::path(post, path = "/t/{t}/api/v1/me/passkeys/options", tag = "mfa", params(("t" = String, Path)),
    responses((status = 200, body = PasskeyOptionsResponse), (status = 401), (status = 403)), security(("user" = [])))]
pub async fn passkey_registration_options(
    State(s): State<RestState>,
    Pending(me, _, _): Pending,
) -> ApiResult<Json<PasskeyOptionsResponse>> {
    Ok(ceremony(s.app.start_passkey_registration(&me).await?))
}

/// Finish registering a passkey with the browser's credential.
#[utoipa::path(post, path = "/t/{t}/api/v1/me/passkeys", tag = "mfa", params(("t" = String, Path)), request_body = PasskeyRegisterRequest,
    responses((status = 201, body = EnrolledResponse), (status = 401), (status = 403), (status = 409)), security(("user" = [])))]
pub async fn register_passkey(
    State(s): State<RestState>,
    Pending(me, origin, _): Pending,
    JsonBody(body): JsonBody<PasskeyRegisterRequest>,
) -> ApiResult<(StatusCode, Cookies, Json<EnrolledResponse>)> {
    let (passkey, enrolled) = s
        .app
        .finish_passkey_registration(
            &me,
            origin,
            ChallengeId::from_uuid(body.challenge_id),
            &body.credential,
            body.name.as_deref(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        enrolled_cookies(&s, &enrolled),
        Json(enrolled_response(enrolled, Some(passkey))),
    ))
}

/// Rename a passkey.
#[utoipa::path(patch, path = "/t/{t}/api/v1/me/passkeys/{id}", tag = "mfa", params(("t" = String, Path), ("id" = Uuid, Path)), request_body = RenameRequest,
    responses((status = 204), (status = 401), (status = 404), (status = 422)), security(("user" = [])))]
pub async fn rename_passkey(
    State(s): State<RestState>,
    Me(me, origin): Me,
    PathParam((_t, id)): PathParam<(String, Uuid)>,
    JsonBody(body): JsonBody<RenameRequest>,
) -> ApiResult<StatusCode> {
    s.app
        .rename_my_passkey(&me, origin, PasskeyId::from_uuid(id), &body.name)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a passkey.
#[utoipa::path(delete, path = "/t/{t}/api/v1/me/passkeys/{id}", tag = "mfa", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 401), (status = 404), (status = 409)), security(("user" = [])))]
pub async fn remove_passkey(
    State(s): State<RestState>,
    Me(me, origin): Me,
    PathParam((_t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<StatusCode> {
    s.app
        .remove_my_passkey(&me, origin, PasskeyId::from_uuid(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The devices the user signed in from (remembered ones skip the second factor).
#[utoipa::path(get, path = "/t/{t}/api/v1/me/devices", tag = "mfa", params(("t" = String, Path)),
    responses((status = 200, body = Vec<DeviceResponse>), (status = 401)), security(("user" = [])))]
pub async fn devices(
    State(s): State<RestState>,
    Me(me, _): Me,
) -> ApiResult<Json<Vec<DeviceResponse>>> {
    Ok(Json(
        s.app
            .my_devices(&me)
            .await?
            .into_iter()
            .map(|d| DeviceResponse {
                id: d.id.into_uuid(),
                description: d.description,
                created_at: d.created_at,
                last_seen_at: d.last_seen_at,
                remembered_until: d.remember_until,
            })
            .collect(),
    ))
}

/// Forget one device.
#[utoipa::path(delete, path = "/t/{t}/api/v1/me/devices/{id}", tag = "mfa", params(("t" = String, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = DevicesForgotten), (status = 401), (status = 404)), security(("user" = [])))]
pub async fn forget_device(
    State(s): State<RestState>,
    Me(me, origin): Me,
    PathParam((_t, id)): PathParam<(String, Uuid)>,
) -> ApiResult<Json<DevicesForgotten>> {
    let forgotten = s
        .app
        .forget_my_devices(&me, origin, Some(DeviceId::from_uuid(id)))
        .await?;
    Ok(Json(DevicesForgotten { forgotten }))
}

/// Forget every device.
#[utoipa::path(delete, path = "/t/{t}/api/v1/me/devices", tag = "mfa", params(("t" = String, Path)),
    responses((status = 200, body = DevicesForgotten), (status = 401)), security(("user" = [])))]
pub async fn forget_devices(
    State(s): State<RestState>,
    Me(me, origin): Me,
) -> ApiResult<Json<DevicesForgotten>> {
    let forgotten = s.app.forget_my_devices(&me, origin, None).await?;
    Ok(Json(DevicesForgotten { forgotten }))
}

/// Step-up: confirm it is you (password, authenticator code, backup code or passkey) before
/// a sensitive action. A user with a second factor confirms with it.
#[utoipa::path(post, path = "/t/{t}/api/v1/me/step-up", tag = "mfa", params(("t" = String, Path)), request_body = ProofRequest,
    responses((status = 204), (status = 401), (status = 422), (status = 429)), security(("user" = [])))]
pub async fn step_up(
    State(s): State<RestState>,
    Me(me, origin): Me,
    JsonBody(body): JsonBody<ProofRequest>,
) -> ApiResult<StatusCode> {
    let p = proof(body, true)?;
    s.app.step_up(&me, origin, p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Start a passkey check for a step-up.
#[utoipa::path(post, path = "/t/{t}/api/v1/me/step-up/passkey/options", tag = "mfa", params(("t" = String, Path)),
    responses((status = 200, body = PasskeyOptionsResponse), (status = 401), (status = 409)), security(("user" = [])))]
pub async fn step_up_passkey_options(
    State(s): State<RestState>,
    Me(me, _): Me,
) -> ApiResult<Json<PasskeyOptionsResponse>> {
    Ok(ceremony(s.app.start_passkey_check(&me).await?))
}

/// An administrator creates an API key of their tenant (a sign-in that passed a second
/// factor, recently; scopes within their role).
#[utoipa::path(post, path = "/t/{t}/api/v1/me/api-keys", tag = "mfa", params(("t" = String, Path)), request_body = CreateApiKeyRequest,
    responses((status = 201, body = ApiKeyCreatedResponse), (status = 401), (status = 403), (status = 422)), security(("user" = [])))]
pub async fn create_api_key(
    State(s): State<RestState>,
    Me(me, origin): Me,
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
        .create_my_api_key(
            &me,
            origin,
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
