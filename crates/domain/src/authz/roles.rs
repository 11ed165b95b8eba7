//! Custom roles, role references (system or custom) and scoped role assignments.

use crate::role::SystemRole;
use crate::{OrgUnitId, TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;

/// The key of a custom role: 1-64 characters of a-z, 0-9, `_`, `-`, starting with a letter,
/// never a system role's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RoleKey(String);

impl RoleKey {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if SystemRole::parse(raw).is_ok() {
            return Err(ValidationError::new(
                "key",
                "reserved_role",
                format!("`{raw}` is a system role"),
            ));
        }
        if !super::valid_key(raw) {
            return Err(ValidationError::new(
                "key",
                "invalid_key",
                "a role key has 1 to 64 characters of a-z, 0-9, _ and -, starting with a letter",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RoleKey {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<RoleKey> for String {
    fn from(value: RoleKey) -> Self {
        value.0
    }
}

/// A role: one of the eight system roles, or a custom role of the tenant. Written as its key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum RoleRef {
    System(SystemRole),
    Custom(RoleKey),
}

impl RoleRef {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match SystemRole::parse(raw) {
            Ok(r) => Ok(Self::System(r)),
            Err(_) => RoleKey::parse(raw)
                .map(Self::Custom)
                .map_err(|e| e.at("role")),
        }
    }
    pub fn key(&self) -> &str {
        match self {
            Self::System(r) => r.key(),
            Self::Custom(k) => k.as_str(),
        }
    }
}

impl fmt::Display for RoleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}
impl TryFrom<String> for RoleRef {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<RoleRef> for String {
    fn from(value: RoleRef) -> Self {
        value.key().to_owned()
    }
}

/// The highest priority a custom role may have: below Super Admin.
pub const MAX_CUSTOM_PRIORITY: u32 = 99;

/// A role defined by a tenant. Its permissions come from the templates granted to it and,
/// when it has a parent, from the parent (recursively).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomRole {
    pub tenant_id: TenantId,
    pub key: RoleKey,
    pub name: String,
    pub description: String,
    /// 1..=99. Nobody creates, grants, edits or revokes a role of priority equal to or above
    /// their own.
    pub priority: u32,
    pub parent: Option<RoleRef>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

impl CustomRole {
    /// Custom roles at or above Owner's priority are administrative: a second factor is
    /// mandatory for their holders.
    pub fn is_administrative(&self) -> bool {
        self.priority >= SystemRole::Owner.priority()
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(1..=MAX_CUSTOM_PRIORITY).contains(&self.priority) {
            return Err(ValidationError::new(
                "priority",
                "invalid_priority",
                format!("a custom role's priority is between 1 and {MAX_CUSTOM_PRIORITY}"),
            ));
        }
        super::check_name(&self.name)?;
        super::check_description(&self.description)?;
        if self.parent.as_ref() == Some(&RoleRef::Custom(self.key.clone())) {
            return Err(ValidationError::new(
                "parent",
                "cyclic_parent",
                "a role cannot be its own parent",
            ));
        }
        Ok(())
    }
}

/// Where a role assignment applies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum AccessScope {
    /// The whole tenant.
    Tenant,
    /// An organization unit and every unit below it.
    Unit(OrgUnitId),
    /// Only the holder's own records.
    SelfOnly,
}

impl AccessScope {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        match raw {
            "tenant" => Ok(Self::Tenant),
            "self" => Ok(Self::SelfOnly),
            _ => raw
                .strip_prefix("unit:")
                .and_then(|id| id.parse().ok())
                .map(Self::Unit)
                .ok_or_else(|| {
                    ValidationError::new(
                        "scope",
                        "invalid_scope",
                        "a scope is `tenant`, `self` or `unit:<organization unit id>`",
                    )
                }),
        }
    }
}

impl fmt::Display for AccessScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Tenant => f.write_str("tenant"),
            Self::SelfOnly => f.write_str("self"),
            Self::Unit(id) => write!(f, "unit:{id}"),
        }
    }
}
impl TryFrom<String> for AccessScope {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<AccessScope> for String {
    fn from(value: AccessScope) -> Self {
        value.to_string()
    }
}

/// A role held by a user, within a scope. A user may hold one role in several scopes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleAssignment {
    pub user_id: UserId,
    pub role: RoleRef,
    pub scope: AccessScope,
    pub granted_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_refs_and_scopes() {
        assert_eq!(
            RoleRef::parse("admin").ok(),
            Some(RoleRef::System(SystemRole::Admin))
        );
        assert!(matches!(RoleRef::parse("support"), Ok(RoleRef::Custom(_))));
        assert!(RoleKey::parse("admin").is_err());
        assert!(RoleRef::parse("Bad Key").is_err());
        assert_eq!(AccessScope::parse("tenant").ok(), Some(AccessScope::Tenant));
        assert_eq!(AccessScope::parse("self").ok(), Some(AccessScope::SelfOnly));
        let unit = "unit:0190a5b0-0000-7000-8000-000000000001";
        assert_eq!(
            AccessScope::parse(unit).map(|s| s.to_string()).ok(),
            Some(unit.to_owned())
        );
        assert!(AccessScope::parse("unit:nope").is_err());
    }
}
