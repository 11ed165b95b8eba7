use crate::common::double_option;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailBody {
    pub address: String,
    #[serde(default)]
    pub verified: bool,
    /// At most one primary; by default the first address is primary.
    #[serde(default)]
    pub primary: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneBody {
    /// E.164, for example +14155550123.
    pub number: String,
    #[serde(default)]
    pub verified: bool,
    #[serde(default)]
    pub primary: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserSettingsBody {
    /// `system`, `light` or `dark`.
    pub theme: String,
    pub security_alerts_email: bool,
    pub security_alerts_sms: bool,
    pub marketing_emails: bool,
    pub date_format: String,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: Option<String>,
    #[serde(default)]
    pub emails: Vec<EmailBody>,
    #[serde(default)]
    pub phones: Vec<PhoneBody>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// `YYYY-MM-DD`.
    pub birthday: Option<String>,
    /// BCP 47 tag, for example `en-US`.
    pub locale: Option<String>,
    /// IANA time zone, for example `Europe/Paris`.
    pub zoneinfo: Option<String>,
    pub picture: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub custom_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// Initial state: `created`, `unverified`, `active` or `password_reset_required`.
    pub state: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCustomerRequest {
    pub username: Option<String>,
    #[serde(default)]
    pub emails: Vec<EmailBody>,
    #[serde(default)]
    pub phones: Vec<PhoneBody>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birthday: Option<String>,
    pub locale: Option<String>,
    pub zoneinfo: Option<String>,
    pub picture: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub custom_attributes: Option<serde_json::Map<String, serde_json::Value>>,
    /// The unit (merchant, store) the customer belongs to.
    pub org_unit_id: Option<Uuid>,
}

/// Absent fields are left as they are; `null` clears a field; lists and custom attributes
/// are replaced as a whole.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub username: Option<Option<String>>,
    pub emails: Option<Vec<EmailBody>>,
    pub phones: Option<Vec<PhoneBody>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub given_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub family_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub birthday: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub locale: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub zoneinfo: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub picture: Option<Option<String>>,
    #[schema(value_type = Option<Object>)]
    pub custom_attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    /// The target state: `unverified`, `password_reset_required`, `active`, `suspended`,
    /// `deactivated` or `deleted`.
    pub state: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct UserResponse {
    pub id: Uuid,
    /// `user` or `customer`.
    pub kind: String,
    pub username: Option<String>,
    pub emails: Vec<EmailBody>,
    pub phones: Vec<PhoneBody>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birthday: Option<String>,
    pub locale: Option<String>,
    pub zoneinfo: Option<String>,
    pub picture: Option<String>,
    #[schema(value_type = Object)]
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    pub state: String,
    /// The state a deleted user returns to when restored.
    pub state_before_delete: Option<String>,
    pub org_unit_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

/// Users to create at once (1 to 1000), all or nothing.
#[derive(Clone, Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkCreateUsersRequest {
    pub users: Vec<CreateUserRequest>,
}

/// The users created, in the order of the request.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct BulkCreateUsersResponse {
    pub items: Vec<UserResponse>,
}
