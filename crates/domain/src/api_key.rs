//! Admin API keys: random bearer secrets, hashed at rest, scoped, expiring, revocable.

use crate::{ApiKeyId, TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// What an API key may do. `Tenants*` scopes only mean something on keys of the operator
/// tenant `system`; every other scope is limited to the key's own tenant unless the key is an
/// operator key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Everything (bootstrap keys).
    #[serde(rename = "*")]
    All,
    #[serde(rename = "tenants:read")]
    TenantsRead,
    #[serde(rename = "tenants:write")]
    TenantsWrite,
    #[serde(rename = "users:read")]
    UsersRead,
    #[serde(rename = "users:write")]
    UsersWrite,
    #[serde(rename = "org_units:read")]
    OrgUnitsRead,
    #[serde(rename = "org_units:write")]
    OrgUnitsWrite,
    #[serde(rename = "audit:read")]
    AuditRead,
    #[serde(rename = "api_keys:manage")]
    ApiKeysManage,
    #[serde(rename = "roles:read")]
    RolesRead,
    /// Define custom roles, templates and resource types.
    #[serde(rename = "roles:write")]
    RolesWrite,
    /// Assign roles and templates (always below the caller's own priority).
    #[serde(rename = "roles:grant")]
    RolesGrant,
    #[serde(rename = "policies:read")]
    PoliciesRead,
    #[serde(rename = "policies:write")]
    PoliciesWrite,
    /// Ask the check API (AuthZEN evaluations) and read subjects' permissions.
    #[serde(rename = "access:evaluate")]
    AccessEvaluate,
    /// Simulate a proposed change against recorded or given requests.
    #[serde(rename = "access:simulate")]
    AccessSimulate,
}

impl Scope {
    pub const ALL: [Scope; 16] = [
        Scope::All,
        Scope::TenantsRead,
        Scope::TenantsWrite,
        Scope::UsersRead,
        Scope::UsersWrite,
        Scope::OrgUnitsRead,
        Scope::OrgUnitsWrite,
        Scope::AuditRead,
        Scope::ApiKeysManage,
        Scope::RolesRead,
        Scope::RolesWrite,
        Scope::RolesGrant,
        Scope::PoliciesRead,
        Scope::PoliciesWrite,
        Scope::AccessEvaluate,
        Scope::AccessSimulate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::All => "*",
            Scope::TenantsRead => "tenants:read",
            Scope::TenantsWrite => "tenants:write",
            Scope::UsersRead => "users:read",
            Scope::UsersWrite => "users:write",
            Scope::OrgUnitsRead => "org_units:read",
            Scope::OrgUnitsWrite => "org_units:write",
            Scope::AuditRead => "audit:read",
            Scope::ApiKeysManage => "api_keys:manage",
            Scope::RolesRead => "roles:read",
            Scope::RolesWrite => "roles:write",
            Scope::RolesGrant => "roles:grant",
            Scope::PoliciesRead => "policies:read",
            Scope::PoliciesWrite => "policies:write",
            Scope::AccessEvaluate => "access:evaluate",
            Scope::AccessSimulate => "access:simulate",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|s| s.as_str() == raw)
            .ok_or_else(|| {
                ValidationError::new(
                    "scopes",
                    "invalid_scope",
                    format!(
                        "unknown scope `{raw}`; known scopes: {}",
                        Self::ALL.map(Scope::as_str).join(", ")
                    ),
                )
            })
    }

    /// Whether holding `self` grants `wanted` (`*` grants everything, `write` grants `read`).
    pub fn grants(self, wanted: Scope) -> bool {
        self == wanted
            || self == Scope::All
            || matches!(
                (self, wanted),
                (Scope::TenantsWrite, Scope::TenantsRead)
                    | (Scope::UsersWrite, Scope::UsersRead)
                    | (Scope::OrgUnitsWrite, Scope::OrgUnitsRead)
                    | (Scope::RolesWrite, Scope::RolesRead)
                    | (Scope::PoliciesWrite, Scope::PoliciesRead)
            )
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The stored part of an API key. The secret itself is never stored: only its SHA-256.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    /// Hex SHA-256 of the secret part of the key.
    pub secret_hash: String,
    pub scopes: Vec<Scope>,
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub expires_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
}

/// Why a presented key is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyRejection {
    Revoked,
    Expired,
}

impl ApiKey {
    /// Checks that the key may be used at `now`.
    pub fn usable_at(&self, now: OffsetDateTime) -> Result<(), KeyRejection> {
        if self.revoked_at.is_some_and(|t| t <= now) {
            return Err(KeyRejection::Revoked);
        }
        if self.expires_at.is_some_and(|t| t <= now) {
            return Err(KeyRejection::Expired);
        }
        Ok(())
    }

    pub fn has_scope(&self, wanted: Scope) -> bool {
        self.scopes.iter().any(|s| s.grants(wanted))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_implies_read_but_not_the_reverse() {
        assert!(Scope::UsersWrite.grants(Scope::UsersRead));
        assert!(!Scope::UsersRead.grants(Scope::UsersWrite));
        assert!(Scope::All.grants(Scope::TenantsWrite));
        assert!(!Scope::UsersWrite.grants(Scope::AuditRead));
        assert!(Scope::parse("users:delete").is_err());
    }
}
