//! Permissions (`resource:action`) and the resource types a tenant registers to name them.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A name part (`orders`, `refund`): 1-64 characters of `a-z`, `0-9` and `_`, starting with a
/// letter (so that a resource type name is also a Cedar entity type name).
fn valid_part(raw: &str) -> bool {
    (1..=64).contains(&raw.len())
        && raw.as_bytes()[0].is_ascii_lowercase()
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A permission, or a pattern of permissions: `orders:refund`, `orders:*` (every action on
/// `orders`) or `*` (everything).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Permission {
    resource: String,
    action: String,
}

impl Permission {
    /// Every permission (`*`).
    pub fn all() -> Self {
        Self {
            resource: "*".into(),
            action: "*".into(),
        }
    }

    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw == "*" {
            return Ok(Self::all());
        }
        let invalid = || {
            ValidationError::new(
                "permission",
                "invalid_permission",
                format!(
                    "`{}` is not a permission: write `resource:action` (for example `orders:refund`), `resource:*` or `*`, with a-z, 0-9 and _",
                    raw.chars().take(80).collect::<String>()
                ),
            )
        };
        let (resource, action) = raw.split_once(':').ok_or_else(invalid)?;
        if !valid_part(resource) || !(action == "*" || valid_part(action)) {
            return Err(invalid());
        }
        Ok(Self {
            resource: resource.to_owned(),
            action: action.to_owned(),
        })
    }

    pub fn resource(&self) -> &str {
        &self.resource
    }

    pub fn action(&self) -> &str {
        &self.action
    }

    /// Whether this is a pattern (`*` or `resource:*`) rather than one permission.
    pub fn is_pattern(&self) -> bool {
        self.action == "*"
    }

    /// Whether holding `self` grants `wanted`: equal, `resource:*` for any action of that
    /// resource, or `*`. A holder of `resource:write` also holds `resource:read`.
    pub fn grants(&self, wanted: &Permission) -> bool {
        if self.resource == "*" {
            return true;
        }
        if self.resource != wanted.resource {
            return false;
        }
        self.action == "*"
            || self.action == wanted.action
            || (self.action == "write" && wanted.action == "read")
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.resource == "*" {
            f.write_str("*")
        } else {
            write!(f, "{}:{}", self.resource, self.action)
        }
    }
}

impl TryFrom<String> for Permission {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Permission> for String {
    fn from(value: Permission) -> Self {
        value.to_string()
    }
}

/// The type of an attribute of a registered resource type, as Cedar's schema knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    String,
    Long,
    Bool,
    /// A set of strings.
    StringSet,
    /// A reference to a user of the tenant (its id).
    User,
    /// A reference to an organization unit of the tenant (its id): scopes and `in` checks
    /// follow the unit tree.
    OrgUnit,
}

/// A kind of resource a tenant's applications protect (`orders`), with its actions and the
/// attributes its policies may read. Registering it registers the permissions
/// `orders:<action>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceType {
    /// 1-64 characters of a-z, 0-9, `_`, `-`, starting with a letter.
    pub name: String,
    pub description: String,
    /// Action name → description.
    pub actions: BTreeMap<String, String>,
    /// Attribute name → type. Every attribute is optional in a request.
    pub attributes: BTreeMap<String, AttributeType>,
}

/// The largest number of actions or attributes on one resource type.
pub const MAX_MEMBERS: usize = 128;

impl ResourceType {
    /// Checks names; the built-in resources (users, roles...) cannot be redefined.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !valid_part(&self.name) {
            return Err(ValidationError::new(
                "name",
                "invalid_name",
                "a resource type name has 1 to 64 characters of a-z, 0-9 and _, starting with a letter",
            ));
        }
        if super::BUILT_IN_RESOURCES.contains(&self.name.as_str()) {
            return Err(ValidationError::new(
                "name",
                "reserved_name",
                format!("`{}` is a built-in resource of Tessera", self.name),
            ));
        }
        if self.actions.is_empty() {
            return Err(ValidationError::new(
                "actions",
                "no_actions",
                "a resource type needs at least one action",
            ));
        }
        if self.actions.len() > MAX_MEMBERS || self.attributes.len() > MAX_MEMBERS {
            return Err(ValidationError::new(
                "actions",
                "too_many",
                format!("at most {MAX_MEMBERS} actions and {MAX_MEMBERS} attributes"),
            ));
        }
        if let Some(bad) = self.actions.keys().find(|a| !valid_part(a)) {
            return Err(ValidationError::new(
                "actions",
                "invalid_action",
                format!("`{bad}` is not an action name (a-z, 0-9 and _, starting with a letter)"),
            ));
        }
        if let Some(bad) = self.attributes.keys().find(|a| !valid_attribute(a)) {
            return Err(ValidationError::new(
                "attributes",
                "invalid_attribute",
                format!(
                    "`{bad}` is not an attribute name (a-z, A-Z, 0-9 and _, starting with a letter)"
                ),
            ));
        }
        if self.description.chars().count() > 500 {
            return Err(ValidationError::new(
                "description",
                "too_long",
                "a description has at most 500 characters",
            ));
        }
        Ok(())
    }

    /// The permissions this type registers.
    pub fn permissions(&self) -> impl Iterator<Item = (Permission, &str)> {
        self.actions.iter().map(|(action, description)| {
            (
                Permission {
                    resource: self.name.clone(),
                    action: action.clone(),
                },
                description.as_str(),
            )
        })
    }
}

/// An attribute name usable in Cedar: an identifier of at most 64 characters.
pub fn valid_attribute(raw: &str) -> bool {
    (1..=64).contains(&raw.len())
        && raw.as_bytes()[0].is_ascii_alphabetic()
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !matches!(
            raw,
            "in" | "has" | "like" | "is" | "if" | "then" | "else" | "true" | "false"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(raw: &str) -> Permission {
        Permission::parse(raw).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn parses_and_refuses() {
        assert_eq!(p("orders:refund").to_string(), "orders:refund");
        assert_eq!(p("*").to_string(), "*");
        assert_eq!(p("orders:*").to_string(), "orders:*");
        for bad in [
            "",
            "orders",
            ":x",
            "x:",
            "Orders:read",
            "a:b:c",
            "*:read",
            "o rders:x",
            "1a:b",
            "my-res:read",
        ] {
            assert!(Permission::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grants() {
        assert!(p("*").grants(&p("orders:refund")));
        assert!(p("orders:*").grants(&p("orders:refund")));
        assert!(!p("orders:*").grants(&p("users:read")));
        assert!(p("users:write").grants(&p("users:read")));
        assert!(!p("users:read").grants(&p("users:write")));
        assert!(!p("orders:read").grants(&p("orders:refund")));
    }
}
