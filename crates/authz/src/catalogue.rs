//! Tessera's own permissions (the built-in catalogue) and what each system role holds.

use tessera_domain::authz::Permission;
use tessera_domain::role::SystemRole;

/// A permission Tessera itself checks, with what it allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BuiltIn {
    pub permission: &'static str,
    pub description: &'static str,
}

/// Every permission Tessera checks on its own resources. Each is also a Cedar action
/// (`Action::"users:read"`) on the resource type of the same name.
pub const BUILT_IN_PERMISSIONS: &[BuiltIn] = &[
    BuiltIn {
        permission: "tenants:read",
        description: "read the tenant's settings",
    },
    BuiltIn {
        permission: "tenants:write",
        description: "change the tenant's settings",
    },
    BuiltIn {
        permission: "users:read",
        description: "read users and customers",
    },
    BuiltIn {
        permission: "users:write",
        description: "create, change and remove users and customers",
    },
    BuiltIn {
        permission: "org_units:read",
        description: "read organization units",
    },
    BuiltIn {
        permission: "org_units:write",
        description: "create, change and remove organization units",
    },
    BuiltIn {
        permission: "audit:read",
        description: "read the audit log",
    },
    BuiltIn {
        permission: "api_keys:manage",
        description: "create and revoke admin API keys",
    },
    BuiltIn {
        permission: "roles:read",
        description: "read roles, templates, resource types and assignments",
    },
    BuiltIn {
        permission: "roles:write",
        description: "define custom roles, templates and resource types",
    },
    BuiltIn {
        permission: "roles:grant",
        description: "assign roles and templates",
    },
    BuiltIn {
        permission: "policies:read",
        description: "read the policy set and its versions",
    },
    BuiltIn {
        permission: "policies:write",
        description: "save a new version of the policy set",
    },
    BuiltIn {
        permission: "access:evaluate",
        description: "call the access check API",
    },
    BuiltIn {
        permission: "access:simulate",
        description: "simulate decisions against a draft policy set",
    },
];

/// The built-in permissions, parsed. The catalogue is a constant checked by a test, so a
/// malformed entry cannot occur; it would be skipped rather than panic.
fn built_in(filter: impl Fn(&Permission) -> bool) -> Vec<Permission> {
    BUILT_IN_PERMISSIONS
        .iter()
        .filter_map(|b| Permission::parse(b.permission).ok())
        .filter(|p| filter(p))
        .collect()
}

fn named(names: &[&str]) -> Vec<Permission> {
    names
        .iter()
        .filter_map(|n| Permission::parse(n).ok())
        .collect()
}

/// The permissions built into a system role (before any template granted to it).
///
/// - Super Admin, Admin: `*`.
/// - Operator: every `*:read` built-in but `tenants:read` (read-only support).
/// - Owner: `users:write`, `org_units:write`, `roles:read`, `roles:grant`, `audit:read`.
/// - Cashier, Employee: `users:read`, `org_units:read`.
/// - Customer: `users:read` (meant to be assigned in the `self` scope).
/// - Guest: nothing.
pub fn system_permissions(role: SystemRole) -> Vec<Permission> {
    match role {
        SystemRole::SuperAdmin | SystemRole::Admin => vec![Permission::all()],
        // `tenants:*` manage the platform: only the operator tenant's keys hold them.
        SystemRole::Operator => built_in(|p| p.action() == "read" && p.resource() != "tenants"),
        SystemRole::Owner => named(&[
            "users:write",
            "org_units:write",
            "roles:read",
            "roles:grant",
            "audit:read",
        ]),
        SystemRole::Cashier | SystemRole::Employee => named(&["users:read", "org_units:read"]),
        SystemRole::Customer => named(&["users:read"]),
        SystemRole::Guest => Vec::new(),
    }
}

/// Whether holders of `role` (tenant-wide) see every record: no data filter applies.
pub fn bypasses_filters(role: SystemRole) -> bool {
    matches!(role, SystemRole::SuperAdmin | SystemRole::Admin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::authz::BUILT_IN_RESOURCES;

    #[test]
    fn every_built_in_parses_and_names_a_built_in_resource() {
        for b in BUILT_IN_PERMISSIONS {
            let p = Permission::parse(b.permission);
            assert!(p.is_ok(), "{}", b.permission);
            let p = p.unwrap_or_else(|_| Permission::all());
            assert!(!p.is_pattern(), "{}", b.permission);
            assert!(
                BUILT_IN_RESOURCES.contains(&p.resource()),
                "{}",
                b.permission
            );
            assert!(!b.description.is_empty());
        }
        assert_eq!(BUILT_IN_PERMISSIONS.len(), 15);
    }

    #[test]
    fn system_roles() {
        let strings = |r| {
            system_permissions(r)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(strings(SystemRole::SuperAdmin), ["*"]);
        assert_eq!(strings(SystemRole::Admin), ["*"]);
        assert_eq!(
            strings(SystemRole::Operator),
            [
                "users:read",
                "org_units:read",
                "audit:read",
                "roles:read",
                "policies:read"
            ]
        );
        assert_eq!(
            strings(SystemRole::Owner),
            [
                "users:write",
                "org_units:write",
                "roles:read",
                "roles:grant",
                "audit:read"
            ]
        );
        assert_eq!(
            strings(SystemRole::Cashier),
            ["users:read", "org_units:read"]
        );
        assert_eq!(
            strings(SystemRole::Employee),
            ["users:read", "org_units:read"]
        );
        assert_eq!(strings(SystemRole::Customer), ["users:read"]);
        assert!(strings(SystemRole::Guest).is_empty());
        let bypass: Vec<_> = SystemRole::ALL
            .into_iter()
            .filter(|r| bypasses_filters(*r))
            .collect();
        assert_eq!(bypass, [SystemRole::SuperAdmin, SystemRole::Admin]);
    }
}
