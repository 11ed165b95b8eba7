//! Sign-up, sign-in, recovery, tokens, sessions and the signed-in user's own account
//! (`/t/{t}/api/v1/...`), plus the admin views of sessions, passwords and signing keys.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// E.164, for example `+4915123456789`.
    #[serde(default)]
    pub phone: Option<String>,
    pub password: String,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    /// BCP 47, for example `en-GB`.
    #[serde(default)]
    pub locale: Option<String>,
}

/// The same answer whether or not the identifier already had an account.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RegisterResponse {
    /// `verify`: enter the code sent to `sent_to`; `sign_in`: the account is ready.
    pub next: String,
    pub sent_to: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IdentifierRequest {
    /// An email address, a phone number (`+` and country code) or a username.
    pub identifier: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyCodeRequest {
    pub identifier: String,
    pub code: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// A verified email address or phone number, or the username when the tenant allows it.
    pub identifier: String,
    pub password: String,
}

/// Tokens for API clients (the session cookie is set too).
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT (RFC 9068, `typ: at+jwt`), signed with the tenant's key (see the JWKS).
    pub access_token: String,
    pub token_type: String,
    /// Seconds.
    pub expires_in: u32,
    /// Opaque; single use: every refresh returns a new one, and presenting a used one
    /// revokes every token of the sign-in.
    pub refresh_token: String,
    pub session_id: Uuid,
    pub user_id: Uuid,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RecoveryTicketResponse {
    /// Single use, valid 15 minutes: send it with the new password.
    pub ticket: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    pub ticket: String,
    pub new_password: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
    /// End every other session of the user.
    #[serde(default)]
    pub sign_out_other_sessions: bool,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminSetPasswordRequest {
    pub password: String,
    /// Keep the user's sessions (by default every session ends).
    #[serde(default)]
    pub keep_sessions: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionResponse {
    pub id: Uuid,
    pub user_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub device: Option<String>,
    pub amr: Vec<String>,
    /// Whether this is the session of the request.
    pub current: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SessionsEnded {
    pub ended: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CodeSentResponse {
    pub sent_to: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SigningKeyResponse {
    pub kid: String,
    /// `ES256`, `EdDSA` or `RS256`.
    pub alg: String,
    pub current: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub publish_until: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RotatedResponse {
    pub kid: String,
}

/// One user to import.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportUser {
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// Whether the other system verified the email address (default: true).
    #[serde(default)]
    pub email_verified: Option<bool>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub phone_verified: Option<bool>,
    #[serde(default)]
    pub given_name: Option<String>,
    #[serde(default)]
    pub family_name: Option<String>,
    /// A bcrypt (`$2a$`, `$2b$`, `$2y$`) or Argon2id PHC hash.
    #[serde(default)]
    pub password_hash: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    pub users: Vec<ImportUser>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportSkipped {
    /// The position in `users` (0-based).
    pub index: usize,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ImportResponse {
    pub imported: usize,
    pub with_password: usize,
    pub skipped: Vec<ImportSkipped>,
}
