//! Organizations and tenants.

use crate::settings::UserSettings;
use crate::{OrganizationId, TenantId, ValidationError};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// Slugs that would collide with Tessera's own paths or the operator tenant.
pub const RESERVED_SLUGS: &[&str] = &[
    "system",
    "admin",
    "api",
    "t",
    "signup",
    "login",
    "logout",
    "account",
    "static",
    "assets",
    "healthz",
    "readyz",
    "metrics",
    "well-known",
    "oauth2",
    "oidc",
    "saml",
    "scim",
    "docs",
    "default",
    "root",
    "www",
    "tessera",
];

/// The slug of the operator tenant created by `tessera bootstrap`.
pub const SYSTEM_TENANT_SLUG: &str = "system";

/// A tenant slug: 3-63 characters of `a-z`, `0-9`, `-`; starts with a letter, does not end with
/// `-`, no `--`; not a reserved word. It is part of every tenant URL and of the issuer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TenantSlug(String);

impl TenantSlug {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let slug = Self::parse_unreserved(raw)?;
        if RESERVED_SLUGS.contains(&slug.0.as_str()) {
            return Err(ValidationError::new(
                "slug",
                "reserved_slug",
                format!("the slug `{}` is reserved by Tessera", slug.0),
            ));
        }
        Ok(slug)
    }

    /// Parses a slug without the reserved-word check: for looking up existing tenants
    /// (the operator tenant `system` is reserved for creation but exists).
    pub fn parse_unreserved(raw: &str) -> Result<Self, ValidationError> {
        let invalid = |message: &str| ValidationError::new("slug", "invalid_slug", message);
        if !(3..=63).contains(&raw.len()) {
            return Err(invalid("a slug has 3 to 63 characters"));
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(
                "a slug uses lowercase letters a-z, digits and '-' only",
            ));
        }
        if !raw.as_bytes()[0].is_ascii_lowercase() || raw.ends_with('-') || raw.contains("--") {
            return Err(invalid(
                "a slug starts with a letter, does not end with '-' and has no '--'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_system(&self) -> bool {
        self.0 == SYSTEM_TENANT_SLUG
    }
}

impl TryFrom<String> for TenantSlug {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse_unreserved(&value)
    }
}
impl From<TenantSlug> for String {
    fn from(value: TenantSlug) -> Self {
        value.0
    }
}
impl fmt::Display for TenantSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An organization: the company that owns tenants (for example its production and staging
/// directories).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TenantState {
    Active,
    /// Every request on the tenant's paths is refused; data is kept.
    Disabled,
}

impl TenantState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Disabled => "disabled",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "active" => Some(Self::Active),
            "disabled" => Some(Self::Disabled),
            _ => None,
        }
    }
}

/// Tenant-level settings that this layer understands.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TenantSettings {
    /// Copied into every new user's settings.
    pub default_user_settings: UserSettings,
    /// Optional JSON Schema that users' `custom_attributes` must satisfy.
    pub custom_attributes_schema: Option<serde_json::Value>,
    /// Mask personal data (emails, phones, names) in audit records.
    pub mask_pii_in_audit: bool,
    /// Registration, sign-in, password, session and token rules.
    pub auth: crate::auth_settings::AuthSettings,
    /// Authorization: the decision log's sampling rate.
    pub authz: crate::authz::AuthzSettings,
}

/// A tenant: an isolated directory of users with its own issuer `{public_url}/t/{slug}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub organization_id: OrganizationId,
    pub slug: TenantSlug,
    pub display_name: String,
    pub state: TenantState,
    pub settings: TenantSettings,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Incremented by every update (optimistic concurrency).
    pub version: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        assert!(TenantSlug::parse("acme-prod").is_ok());
        for bad in [
            "ab",
            "Acme",
            "1acme",
            "acme-",
            "ac--me",
            "acme_prod",
            "acme prod",
            "system",
            "api",
            "admin",
        ] {
            assert!(TenantSlug::parse(bad).is_err(), "{bad} must be refused");
        }
        assert!(TenantSlug::parse_unreserved("system").unwrap().is_system());
        assert_eq!(TenantSlug::parse("api").unwrap_err().code, "reserved_slug");
    }
}
