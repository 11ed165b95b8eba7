//! Sign-up, sign-in, sign-out, token refresh and account recovery: `/t/{t}/api/v1/...`.
//! Answers never reveal whether an identifier has an account.

use crate::caller::{Anonymous, Me};
use crate::convert::Check;
use crate::errors::ApiResult;
use crate::state::RestState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderName;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::AppendHeaders;
use tessera_api_types::auth::{
    IdentifierRequest, LoginRequest, RecoveryTicketResponse, RefreshRequest, RegisterRequest,
    RegisterResponse, ResetPasswordRequest, TokenResponse, VerifyCodeRequest,
};
use tessera_api_types::mfa::LoginResponse;
use tessera_api_types::users::UserResponse;
use tessera_application::{Browser, NewSession, Registration};
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::mfa::Restriction;
use tessera_domain::profile::parse_name;
use tessera_domain::profile::{Locale, Profile};
use tessera_http_kit::{JsonBody, PathParam};

/// The answer to any sign-in: tokens, or what the next step is.
pub(crate) fn login_response(s: &NewSession) -> LoginResponse {
    let (status, methods) = match s.restriction() {
        None => ("signed_in", Vec::new()),
        Some(Restriction::SecondFactor) => {
            let mut m = Vec::new();
            if s.factors.totp {
                m.push("totp".to_owned());
            }
            if s.factors.passkeys > 0 {
                m.push("passkey".to_owned());
            }
            if s.factors.backup_codes_remaining > 0 {
                m.push("backup_code".to_owned());
            }
            ("mfa_required", m)
        }
        Some(Restriction::Enrolment) => (
            "mfa_enrolment_required",
            vec!["totp".to_owned(), "passkey".to_owned()],
        ),
    };
    LoginResponse {
        status: status.to_owned(),
        access_token: s.tokens.as_ref().map(|t| t.access_token.clone()),
        token_type: s.tokens.as_ref().map(|_| "Bearer".to_owned()),
        expires_in: s.tokens.as_ref().map(|t| t.expires_in),
        refresh_token: s.tokens.as_ref().map(|t| t.refresh_token.clone()),
        session_id: s.signed_in.session.id.into_uuid(),
        user_id: s.signed_in.user.id.into_uuid(),
        mfa_token: s.restriction().is_some().then(|| s.session_secret.clone()),
        methods,
    }
}

/// The cookies a sign-in answer sets: the session, and the device cookie of a device seen
/// for the first time.
pub(crate) fn sign_in_cookies(
    state: &RestState,
    s: &NewSession,
) -> AppendHeaders<Vec<(HeaderName, String)>> {
    let mut cookies = vec![(SET_COOKIE, state.cookies.set_session(&s.session_secret))];
    if let Some(device) = &s.device_secret {
        cookies.push((SET_COOKIE, state.cookies.set_device(device)));
    }
    AppendHeaders(cookies)
}

/// What the browser presented: session, device and flow cookies.
pub(crate) fn browser(state: &RestState, headers: &HeaderMap) -> Browser {
    Browser {
        session: state.cookies.session_from(headers),
        device: state.cookies.device_from(headers),
        flow: state.cookies.flow_from(headers),
    }
}

/// Sign up. The answer is the same whether or not the email or phone already has an
/// account (its holder is told by message instead).
#[utoipa::path(post, path = "/t/{t}/api/v1/register", tag = "auth", params(("t" = String, Path)), request_body = RegisterRequest,
    responses((status = 202, body = RegisterResponse), (status = 403), (status = 409), (status = 422)))]
pub async fn register(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> ApiResult<(StatusCode, Json<RegisterResponse>)> {
    let mut check = Check::default();
    let reg = Registration {
        username: check.opt("username", body.username.as_deref(), Username::parse),
        email: check.opt("email", body.email.as_deref(), Email::parse),
        phone: check.opt("phone", body.phone.as_deref(), PhoneNumber::parse),
        password: body.password,
        profile: Profile {
            given_name: check.opt("given_name", body.given_name.as_deref(), |r| {
                parse_name("given_name", r)
            }),
            family_name: check.opt("family_name", body.family_name.as_deref(), |r| {
                parse_name("family_name", r)
            }),
            locale: check.opt("locale", body.locale.as_deref(), Locale::parse),
            ..Profile::default()
        },
    };
    let reg = check.finish(reg)?;
    let done = s.app.register(&ctx, &t, reg).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(RegisterResponse {
            next: if done.verification_required {
                "verify"
            } else {
                "sign_in"
            }
            .to_owned(),
            sent_to: done.verification_sent_to,
        }),
    ))
}

/// Send a new verification code (same answer for every identifier).
#[utoipa::path(post, path = "/t/{t}/api/v1/register/resend", tag = "auth", params(("t" = String, Path)), request_body = IdentifierRequest,
    responses((status = 202)))]
pub async fn resend(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<IdentifierRequest>,
) -> ApiResult<StatusCode> {
    s.app
        .resend_verification(&ctx, &t, &body.identifier)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

/// Verify an email address or phone number with the code sent to it.
#[utoipa::path(post, path = "/t/{t}/api/v1/verify", tag = "auth", params(("t" = String, Path)), request_body = VerifyCodeRequest,
    responses((status = 204), (status = 422)))]
pub async fn verify(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<VerifyCodeRequest>,
) -> ApiResult<StatusCode> {
    s.app
        .verify_identifier(&ctx, &t, &body.identifier, &body.code)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sign in with a verified email or phone (or the username) and the password. Sets the
/// session cookie. The answer carries tokens (`status: signed_in`), or says that a second
/// factor must follow (`mfa_required`) or be set up first (`mfa_enrolment_required`).
#[utoipa::path(post, path = "/t/{t}/api/v1/login", tag = "auth", params(("t" = String, Path)), request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401), (status = 403), (status = 429)))]
pub async fn login(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<LoginRequest>,
) -> ApiResult<(
    AppendHeaders<Vec<(HeaderName, String)>>,
    Json<LoginResponse>,
)> {
    let session = s
        .app
        .sign_in(
            &ctx,
            &t,
            &body.identifier,
            &body.password,
            &browser(&s, &headers),
        )
        .await?;
    Ok((
        sign_in_cookies(&s, &session),
        Json(login_response(&session)),
    ))
}

/// Sign out of the current session (its refresh tokens are revoked too).
#[utoipa::path(post, path = "/t/{t}/api/v1/logout", tag = "auth", params(("t" = String, Path)),
    responses((status = 204), (status = 401)), security(("user" = [])))]
pub async fn logout(
    State(s): State<RestState>,
    Me(me, origin): Me,
) -> ApiResult<(StatusCode, [(axum::http::HeaderName, String); 1])> {
    s.app.sign_out(&me, origin).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(SET_COOKIE, s.cookies.clear_session())],
    ))
}

/// Exchange a refresh token for new tokens. Each refresh token works once; presenting a
/// used one revokes every token of that sign-in.
#[utoipa::path(post, path = "/t/{t}/api/v1/token/refresh", tag = "auth", params(("t" = String, Path)), request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401)))]
pub async fn refresh(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<RefreshRequest>,
) -> ApiResult<Json<TokenResponse>> {
    let pair = s.app.refresh_tokens(&ctx, &t, &body.refresh_token).await?;
    let me = s
        .app
        .authenticate_access_token(&t, &pair.access_token)
        .await?;
    Ok(Json(TokenResponse {
        access_token: pair.access_token,
        token_type: "Bearer".to_owned(),
        expires_in: pair.expires_in,
        refresh_token: pair.refresh_token,
        session_id: me.session.id.into_uuid(),
        user_id: me.user.id.into_uuid(),
    }))
}

/// Forgotten password, step 1: send a code to a verified email or phone. Always 202.
#[utoipa::path(post, path = "/t/{t}/api/v1/recover", tag = "auth", params(("t" = String, Path)), request_body = IdentifierRequest,
    responses((status = 202)))]
pub async fn recover(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<IdentifierRequest>,
) -> ApiResult<StatusCode> {
    s.app.request_recovery(&ctx, &t, &body.identifier).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Forgotten password, step 2: trade the code for a single-use reset ticket.
#[utoipa::path(post, path = "/t/{t}/api/v1/recover/verify", tag = "auth", params(("t" = String, Path)), request_body = VerifyCodeRequest,
    responses((status = 200, body = RecoveryTicketResponse), (status = 422)))]
pub async fn recover_verify(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<VerifyCodeRequest>,
) -> ApiResult<Json<RecoveryTicketResponse>> {
    let ticket = s
        .app
        .verify_recovery(&ctx, &t, &body.identifier, &body.code)
        .await?;
    Ok(Json(RecoveryTicketResponse { ticket }))
}

/// Forgotten password, step 3: set the new password. Every session ends; this does not
/// sign in.
#[utoipa::path(post, path = "/t/{t}/api/v1/recover/reset", tag = "auth", params(("t" = String, Path)), request_body = ResetPasswordRequest,
    responses((status = 204), (status = 422)))]
pub async fn recover_reset(
    State(s): State<RestState>,
    Anonymous(ctx): Anonymous,
    PathParam(t): PathParam<String>,
    JsonBody(body): JsonBody<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    s.app
        .reset_password(&ctx, &t, &body.ticket, &body.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tenant's public keys (current and previous), to verify access tokens.
#[utoipa::path(get, path = "/t/{t}/oauth2/jwks", tag = "auth", params(("t" = String, Path)),
    responses((status = 200, body = Object)))]
pub async fn jwks(
    State(s): State<RestState>,
    PathParam(t): PathParam<String>,
) -> ApiResult<(
    [(axum::http::HeaderName, &'static str); 1],
    Json<serde_json::Value>,
)> {
    Ok((
        [(axum::http::header::CACHE_CONTROL, "public, max-age=300")],
        Json(s.app.jwks(&t).await?),
    ))
}

/// A user response for `/me` answers.
pub(crate) fn me_response(user: tessera_domain::user::User) -> Json<UserResponse> {
    Json(crate::convert::user_response(user))
}
