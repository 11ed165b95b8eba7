//! Users: identifiers, profile, custom attributes, settings and lifecycle state.

use crate::identifiers::{Email, PhoneNumber, Username};
use crate::lifecycle::LifecycleState;
use crate::profile::Profile;
use crate::settings::UserSettings;
use crate::{OrgUnitId, TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Whether the record is a full user or a customer record (created without credentials,
/// promotable to a full user with the same id, so that its history is kept).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    User,
    Customer,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Customer => "customer",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "user" => Some(Self::User),
            "customer" => Some(Self::Customer),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailEntry {
    pub address: Email,
    pub verified: bool,
    pub primary: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneEntry {
    pub number: PhoneNumber,
    pub verified: bool,
    pub primary: bool,
}

/// A set of identifiers of one kind with at most one primary and no duplicates.
/// When entries exist and none is marked primary, the first one becomes primary.
fn normalise_primary<T>(
    field: &str,
    entries: &mut [T],
    primary: impl Fn(&mut T) -> &mut bool,
) -> Result<(), ValidationError> {
    let mut count = 0;
    for e in entries.iter_mut() {
        if *primary(e) {
            count += 1;
        }
    }
    if count > 1 {
        return Err(ValidationError::new(
            field,
            "several_primary",
            format!("at most one of the {field} is primary"),
        ));
    }
    if count == 0
        && let Some(first) = entries.first_mut()
    {
        *primary(first) = true;
    }
    Ok(())
}

/// Checks and normalises a user's email list (no duplicate, one primary).
pub fn validate_emails(emails: &mut [EmailEntry]) -> Result<(), ValidationError> {
    for (i, e) in emails.iter().enumerate() {
        if emails[..i]
            .iter()
            .any(|o| o.address.key() == e.address.key())
        {
            return Err(ValidationError::new(
                format!("emails[{i}].address"),
                "duplicate_identifier",
                format!("{} appears twice", e.address),
            ));
        }
    }
    normalise_primary("emails", emails, |e| &mut e.primary)
}

/// Checks and normalises a user's phone list (no duplicate, one primary).
pub fn validate_phones(phones: &mut [PhoneEntry]) -> Result<(), ValidationError> {
    for (i, p) in phones.iter().enumerate() {
        if phones[..i].iter().any(|o| o.number == p.number) {
            return Err(ValidationError::new(
                format!("phones[{i}].number"),
                "duplicate_identifier",
                format!("{} appears twice", p.number),
            ));
        }
    }
    normalise_primary("phones", phones, |p| &mut p.primary)
}

/// A user of a tenant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub kind: UserKind,
    pub username: Option<Username>,
    pub emails: Vec<EmailEntry>,
    pub phones: Vec<PhoneEntry>,
    pub profile: Profile,
    /// A JSON object, validated against the tenant's schema when one is set.
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    pub settings: UserSettings,
    pub state: LifecycleState,
    /// The state before a soft delete; `restore` returns to it.
    pub state_before_delete: Option<LifecycleState>,
    /// For customers: the organization unit (merchant) they belong to.
    pub org_unit_id: Option<OrgUnitId>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// Incremented by every update (optimistic concurrency, ETags).
    pub version: i64,
}

impl User {
    pub fn primary_email(&self) -> Option<&Email> {
        self.emails.iter().find(|e| e.primary).map(|e| &e.address)
    }

    pub fn has_verified_identifier(&self) -> bool {
        self.emails.iter().any(|e| e.verified) || self.phones.iter().any(|p| p.verified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(a: &str, primary: bool) -> EmailEntry {
        EmailEntry {
            address: Email::parse(a).unwrap(),
            verified: false,
            primary,
        }
    }

    #[test]
    fn first_identifier_becomes_primary() {
        let mut v = vec![email("a@example.com", false), email("b@example.com", false)];
        validate_emails(&mut v).unwrap();
        assert!(v[0].primary && !v[1].primary);
    }

    #[test]
    fn duplicates_and_double_primary_are_refused() {
        let mut v = vec![email("a@example.com", false), email("A@EXAMPLE.com", false)];
        assert_eq!(
            validate_emails(&mut v).unwrap_err().code,
            "duplicate_identifier"
        );
        let mut v = vec![email("a@example.com", true), email("b@example.com", true)];
        assert_eq!(validate_emails(&mut v).unwrap_err().code, "several_primary");
    }
}
