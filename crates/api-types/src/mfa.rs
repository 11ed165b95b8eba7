//! Second factors, passkeys, passwordless sign-in, step-up, remembered devices and system
//! roles.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

/// The answer to a sign-in: either tokens (`status: signed_in`), or what must come next
/// (`mfa_required`: pass a second factor with `POST .../login/mfa`;
/// `mfa_enrolment_required`: set one up through `/me/mfa/...` first). In both latter cases
/// `mfa_token` (also set as the session cookie) authenticates the next step in the
/// `X-MFA-Token` header.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub session_id: Uuid,
    pub user_id: Uuid,
    /// For the second step of a sign-in (`X-MFA-Token` header), valid 15 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_token: Option<String>,
    /// The second factors the user can use (`totp`, `passkey`, `backup_code`), or may set
    /// up (`totp`, `passkey`) when enrolment is required.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
}

/// A second factor for the second step of a sign-in, or for step-up.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofRequest {
    /// `totp`, `backup_code`, `passkey`, or (step-up only) `password`.
    pub method: String,
    /// The authenticator or backup code.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// For `passkey`: the ceremony started with the matching `.../passkey/options`.
    #[serde(default)]
    pub challenge_id: Option<Uuid>,
    /// For `passkey`: the `PublicKeyCredential` from `navigator.credentials.get`, as JSON
    /// with binary fields in base64url.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub credential: Option<serde_json::Value>,
    /// Skip the second factor on this device next time (when the tenant allows it).
    #[serde(default)]
    pub remember_device: bool,
}

/// A WebAuthn ceremony: send `options` to `navigator.credentials.create/get` (binary fields
/// are base64url) and the result back with `challenge_id`.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PasskeyOptionsResponse {
    pub challenge_id: Uuid,
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
}

/// Passwordless sign-in with a passkey.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeySignInRequest {
    pub challenge_id: Uuid,
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeSignInRequest {
    pub identifier: String,
    pub code: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkSignInRequest {
    /// The `token` of the link.
    pub token: String,
    /// Sign in even though the link was asked for in another browser.
    #[serde(default)]
    pub confirm: bool,
}

/// The signed-in user's second factors.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct MfaStatusResponse {
    pub totp: bool,
    pub passkeys: u32,
    pub backup_codes_remaining: u32,
    /// MFA is mandatory for this user (administrative role or tenant policy).
    pub mandatory: bool,
    /// What the session must still do: `second_factor`, `enrolment`, or nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restriction: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolmentResponse {
    /// Base32, for typing into the app by hand.
    pub secret: String,
    /// `otpauth://totp/...`, for a QR code.
    pub otpauth_uri: String,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub code: String,
}

/// A second factor was set up. `backup_codes` (first factor only) are shown this once;
/// tokens come when this completed a sign-in that waited for enrolment.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct EnrolledResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backup_codes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey: Option<PasskeyResponse>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BackupCodesResponse {
    /// Shown once; each works once. The previous set no longer works.
    pub codes: Vec<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PasskeyResponse {
    pub id: Uuid,
    pub name: String,
    /// The authenticator model, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aaguid: Option<Uuid>,
    /// Synced between devices (backup eligible).
    pub synced: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub last_used_at: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegisterRequest {
    pub challenge_id: Uuid,
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DeviceResponse {
    pub id: Uuid,
    /// "Firefox on Linux", from the user agent of its first sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub last_seen_at: OffsetDateTime,
    /// The second factor is skipped on this device until then.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub remembered_until: Option<OffsetDateTime>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct DevicesForgotten {
    pub forgotten: u64,
}
