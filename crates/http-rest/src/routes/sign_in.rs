//! The second step of a sign-in and the passwordless ways in: passkeys, codes and links
//! (`/t/{t}/api/v1/login/...`). Passwordless ceremonies are bound to the browser's flow
//! cookie, which these endpoints set when it is missing.

use super::auth::{browser, login_response, sign_in_cookies};
use crate::caller::{Anonymous, Pending};
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::AppendHeaders;
use tessera_api_types::auth::{CodeSentResponse, IdentifierRequest};
use tessera_api_types::mfa::{
    CodeSignInRequest, LinkSignInRequest, LoginResponse, PasskeyOptionsResponse,
    PasskeySignInRequest, ProofRequest,
};
use tessera_application::{Browser, Error, NewSession, PasskeyCeremony, Proof};
use tessera_domain::{ChallengeId, ValidationError};
use tessera_http_kit::{JsonBody, PathParam};

type Cookies = AppendHeaders<Vec<(HeaderName, String)>>;

/// The browser's cookies, with a new flow cookie when it has none (and the header setting it).
fn with_flow(s: &RestState, headers: &HeaderMap) -> (Browser, Cookies) {
    let mut b = browser(s, headers);
    let mut set = Vec::new();
    if b.flow.is_none() {
        let flow = s.app.random_token(32);
        set.push((SET_COOKIE, s.cookies.set_flow(&flow)));
        b.flow = Some(flow);
    }
    (b, AppendHeaders(set))
}

/// The answer to a sign-in step: its cookies and what comes next.
fn answer(s: &RestState, session: &NewSession) -> (Cookies, Json<LoginResponse>) {
    (sign_in_cookies(s, session), Json(login_response(session)))
}

/// The answer to a code or link sent (the same whether an account holds the identifier).
fn sent(set: Cookies, sent_to: String) -> (StatusCode, Cookies, Json<CodeSentResponse>) {
    (
        StatusCode::ACCEPTED,
        set,
        Json(CodeSentResponse { sent_to }),
    )
}

pub(crate) fn ceremony(c: PasskeyCeremony) -> Json<PasskeyOptionsResponse> {
    Json(PasskeyOptionsResponse {
        challenge_id: c.challenge_id.into_uuid(),
        options: c.options,
    })
}

/// A proof from a request body (`password` only where `allow_password`).
pub(crate) fn proof(body: ProofRequest, allow_password: bool) -> Result<Proof, Error> {
    let missing = |field: &str, what: &str| {
        Error::invalid(ValidationError::new(field, "required", what.to_owned()))
    };
    match body.method.as_str() {
        "totp" => Ok(Proof::Totp(body.code.ok_or_else(|| {
            missing("code", "the authenticator code is required")
        })?)),
        "backup_code" => {
            Ok(Proof::BackupCode(body.code.ok_or_else(|| {
                missing("code", "the backup code is required")
            })?))
        }
        "passkey" => {
            Ok(Proof::Passkey {
                challenge: ChallengeId::from_uuid(body.challenge_id.ok_or_else(|| {
                    missing("challenge_id", "the passkey ceremony id is required")
                })?),
                response: body
                    .credential
                    .ok_or_else(|| missing("credential", "the passkey credential is required"))?,
            })
        }
        "password" if allow_password => {
            Ok(Proof::Password(body.password.ok_or_else(|| {
                missing("password", "the password is required")
            })?))
        }
        other => Err(Error::invalid(ValidationError::new(
            "method",
            "invalid_method",
            format!(
                "unknown method `{}`: use totp, backup_code, passkey{}",
                other.chars().take(32).collect::<String>(),
                if allow_password { " or password" } else { "" }
            ),
        ))),
    }
}

/// Second step of a sign-in: an authenticator code, a backup code or a passkey. The waiting
/// sign-in is named by the `X-MFA-Token` header (or the session cookie).
#[utoipa::path(post, path = "/t/{t}/api/v1/login/mfa", tag = "auth", params(("t" = String, Path)), request_body = ProofRequest,
    responses((status = 200, body = LoginResponse), (status = 401), (status = 403), (status = 409), (status = 422), (status = 429)))]
pub async fn mfa(
    State(s): State<RestState>,
    Pending(me, origin, secret): Pending,
    PathParam(t): PathParam<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<ProofRequest>,
) -> ApiResult<(Cookies, Json<LoginResponse>)> {
    let secret = secret.ok_or_else(|| Error::Conflict {
        code: "already_signed_in",
        message: "this sign-in is already complete".to_owned(),
    })?;
    drop(me);
    let remember = body.remember_device;
    let proof = proof(body, false)?;
    let session = s
        .app
        .complete_second_factor(origin, &t, &secret, proof, remember, &browser(&s, &headers))
        .await?;
    Ok(answer(&s, &session))
}

/// Start a passkey check for the second step of a sign-in (or before a step-up).
#[utoipa::path(post, path = "/t/{t}/api/v1/login/mfa/passkey/options", tag = "auth", params(("t" = String, Path)),
    responses((status = 200, body = PasskeyOptionsResponse), (status = 401), (status = 409)))]
pub async fn mfa_passkey_options(
    State(s): State<RestState>,
    Pending(me, _, _): Pending,
) -> ApiResult<Json<PasskeyOptionsResponse>> {
    Ok(ceremony(s.app.start_passkey_check(&me).await?))
}

/// Start a passwordless passkey sign-in (any passkey of this directory; autofill).
#[utoipa::path(post, path = "/t/{t}/api/v1/login/passkey/options", tag = "auth", params(("t" = String, Path)),
    responses((status = 200, body = PasskeyOptionsResponse), (status = 403)))]
pub async fn passkey_options(
    State(s): State<RestState>,
    PathParam(t): PathParam<String>,
    headers: HeaderMap,
) -> ApiResult<(Cookies, Json<PasskeyOptionsResponse>)> {
    let (b, set) = with_flow(&s, &headers);
    let c = s.app.start_passkey_sign_in(&t, &b).await?;
    Ok((set, ceremony(c)))
}

/// Sign in with a passkey (both factors at once: user verification is required).
#[utoipa::path(post, path = "/t/{t}/api/v1/login/passkey", tag = "auth", params(("t" = String, Path)), request_body = PasskeySignInRequest,
    responses((status = 200, body = LoginResponse), (status = 403), (status = 429)))]
pub async fn passkey(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<PasskeySignInRequest>,
) -> ApiResult<(Cookies, Json<LoginResponse>)> {
    let session = s
        .app
        .finish_passkey_sign_in(
            &ctx,
            &t,
            ChallengeId::from_uuid(body.challenge_id),
            &body.credential,
            &browser(&s, &headers),
        )
        .await?;
    Ok(answer(&s, &session))
}

/// Send a sign-in code to a verified email address or phone number (same answer whether an
/// account holds it or not). The code works only in this browser.
#[utoipa::path(post, path = "/t/{t}/api/v1/login/code", tag = "auth", params(("t" = String, Path)), request_body = IdentifierRequest,
    responses((status = 202, body = CodeSentResponse), (status = 403), (status = 422)))]
pub async fn send_code(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<IdentifierRequest>,
) -> ApiResult<(StatusCode, Cookies, Json<CodeSentResponse>)> {
    let (b, set) = with_flow(&s, &headers);
    let sent_to = s
        .app
        .send_sign_in_code(&ctx, &t, &body.identifier, &b)
        .await?;
    Ok(sent(set, sent_to))
}

/// Sign in with the code.
#[utoipa::path(post, path = "/t/{t}/api/v1/login/code/verify", tag = "auth", params(("t" = String, Path)), request_body = CodeSignInRequest,
    responses((status = 200, body = LoginResponse), (status = 403), (status = 422), (status = 429)))]
pub async fn verify_code(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CodeSignInRequest>,
) -> ApiResult<(Cookies, Json<LoginResponse>)> {
    let session = s
        .app
        .sign_in_with_code(
            &ctx,
            &t,
            &body.identifier,
            &body.code,
            &browser(&s, &headers),
        )
        .await?;
    Ok(answer(&s, &session))
}

/// Send a sign-in link to a verified email address (same answer whether an account holds it
/// or not). Opened in another browser, the link asks for confirmation.
#[utoipa::path(post, path = "/t/{t}/api/v1/login/link", tag = "auth", params(("t" = String, Path)), request_body = IdentifierRequest,
    responses((status = 202, body = CodeSentResponse), (status = 403), (status = 422)))]
pub async fn send_link(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<IdentifierRequest>,
) -> ApiResult<(StatusCode, Cookies, Json<CodeSentResponse>)> {
    let (b, set) = with_flow(&s, &headers);
    let sent_to = s
        .app
        .send_sign_in_link(&ctx, &t, &body.identifier, &b)
        .await?;
    Ok(sent(set, sent_to))
}

/// Sign in with the token of a link. From another browser than the one that asked, the
/// answer is 403 `confirmation_required` unless `confirm` is true.
#[utoipa::path(post, path = "/t/{t}/api/v1/login/link/verify", tag = "auth", params(("t" = String, Path)), request_body = LinkSignInRequest,
    responses((status = 200, body = LoginResponse), (status = 403), (status = 429)))]
pub async fn verify_link(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LinkSignInRequest>,
) -> ApiResult<(Cookies, Json<LoginResponse>)> {
    let session = s
        .app
        .sign_in_with_link(&ctx, &t, &body.token, &browser(&s, &headers), body.confirm)
        .await?;
    Ok(answer(&s, &session))
}
