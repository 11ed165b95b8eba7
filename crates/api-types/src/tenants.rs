use crate::users::UserSettingsBody;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Clone, Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettingsBody {
    /// Copied into every new user's settings.
    pub default_user_settings: Option<UserSettingsBody>,
    /// A JSON Schema that users' `custom_attributes` must satisfy.
    #[schema(value_type = Option<Object>)]
    pub custom_attributes_schema: Option<serde_json::Value>,
    /// Mask personal data (emails, phones, names) in audit records.
    pub mask_pii_in_audit: bool,
    /// Registration, sign-in, password, session and token rules (see docs/authentication.md):
    /// `self_registration`, `require_verified_identifier`, `username_login`,
    /// `code_ttl_secs`, `code_max_attempts`, `logo_url`, `password` {min_length, max_length,
    /// history, refuse_common...}, `sessions` {idle_timeout_secs, absolute_timeout_secs,
    /// max_per_user}, `tokens` {signing_alg (ES256, EdDSA, RS256), access_token_ttl_secs,
    /// refresh_token_ttl_secs, key_rotation_days}, `templates`.
    #[schema(value_type = Option<Object>)]
    pub auth: Option<serde_json::Value>,
    /// Authorization: `decision_log_rate` (0 to 1, default 0.01), the share of decisions
    /// recorded in the decision log.
    #[schema(value_type = Option<Object>)]
    pub authz: Option<serde_json::Value>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTenantRequest {
    /// 3-63 characters of a-z, 0-9 and '-'; starts with a letter. Part of every tenant URL.
    pub slug: String,
    pub display_name: String,
    /// Put the tenant in an existing organization...
    pub organization_id: Option<Uuid>,
    /// ...or create a new one with this name (default: the tenant's display name).
    pub organization_name: Option<String>,
    pub settings: Option<TenantSettingsBody>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenantRequest {
    pub display_name: Option<String>,
    /// Replaces the settings as a whole.
    pub settings: Option<TenantSettingsBody>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TenantResponse {
    pub id: Uuid,
    pub organization_id: Uuid,
    pub slug: String,
    pub display_name: String,
    /// `active` or `disabled`.
    pub state: String,
    /// The OpenID issuer of the tenant.
    pub issuer: String,
    pub settings: TenantSettingsBody,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}
