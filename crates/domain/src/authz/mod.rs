//! Authorization: permissions and the resource types that register them, custom roles with
//! priorities and parents, scoped role assignments, permission templates (with the tenant's
//! menu), versioned Cedar policy sets, the compiled permission graph and the decision log.
//! The evaluation itself lives in the pure `tessera-authz` crate.

mod graph;
mod permission;
mod policy;
mod roles;
mod templates;

pub use graph::*;
pub use permission::*;
pub use policy::*;
pub use roles::*;
pub use templates::*;

use crate::ValidationError;

/// The resources Tessera itself protects; tenants cannot register these names.
pub const BUILT_IN_RESOURCES: [&str; 9] = [
    "tenants",
    "users",
    "org_units",
    "audit",
    "api_keys",
    "roles",
    "policies",
    "access",
    "customers",
];

/// A key of a template, menu item or custom role: 1-64 characters of a-z, 0-9, `_`, `-`,
/// starting with a letter.
pub fn valid_key(raw: &str) -> bool {
    (1..=64).contains(&raw.len())
        && raw.as_bytes()[0].is_ascii_lowercase()
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

pub(crate) fn check_name(name: &str) -> Result<(), ValidationError> {
    let n = name.trim().chars().count();
    if n == 0 || n > 200 {
        return Err(ValidationError::new(
            "name",
            "invalid_name",
            "a name has 1 to 200 characters",
        ));
    }
    Ok(())
}

pub(crate) fn check_description(text: &str) -> Result<(), ValidationError> {
    if text.chars().count() > 1_000 {
        return Err(ValidationError::new(
            "description",
            "too_long",
            "a description has at most 1000 characters",
        ));
    }
    Ok(())
}
