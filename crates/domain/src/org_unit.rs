//! Organization units: a tree (merchants, stores, departments) under a tenant, and the
//! employees assigned to them.

use crate::{OrgUnitId, TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The kind of a unit, free text chosen by the tenant (`merchant`, `store`, `region`...):
/// 1-32 characters of `a-z`, `0-9`, `_`, `-`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UnitKind(String);

impl UnitKind {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let ok = (1..=32).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if !ok {
            return Err(ValidationError::new(
                "kind",
                "invalid_kind",
                "a unit kind has 1 to 32 characters of a-z, 0-9, _ and -",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for UnitKind {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<UnitKind> for String {
    fn from(value: UnitKind) -> Self {
        value.0
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgUnit {
    pub id: OrgUnitId,
    pub tenant_id: TenantId,
    pub parent_id: Option<OrgUnitId>,
    pub name: String,
    pub kind: UnitKind,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub version: i64,
}

/// An employee's assignment to a unit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub tenant_id: TenantId,
    pub unit_id: OrgUnitId,
    pub user_id: UserId,
    pub created_at: OffsetDateTime,
}
