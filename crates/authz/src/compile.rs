//! Compiling a user's permission graph: assigned roles → inherited roles → templates →
//! permissions, each in the scope of the assignment it comes from.

use crate::catalogue::{bypasses_filters, system_permissions};
use std::collections::BTreeSet;
use tessera_domain::authz::{
    AccessScope, Grant, GrantTarget, HeldRole, PermissionGraph, RoleAssignment, RoleRef, Source,
    TenantModel,
};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::{TenantId, UserId};

/// The user a graph is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Subject {
    /// The tenant the user belongs to (the graph records it).
    pub tenant: TenantId,
    pub id: UserId,
    pub state: LifecycleState,
}

/// Compiles `subject`'s permissions from the tenant's model, the user's role assignments and
/// the keys of the templates granted to the user directly.
///
/// - Each assignment gives the role itself and its chain of parents (a custom role's parent
///   may be a system or a custom role), all in the assignment's scope. The walk stops at an
///   unknown custom role or at a role met before (a cycle). An assignment of an unknown
///   custom role gives nothing.
/// - A system role contributes its built-in permissions ([`system_permissions`]); every
///   held role contributes the templates granted to it, in the role's scope.
/// - Templates granted to the user directly (`user_templates`, and the model's grants whose
///   target is this user) contribute tenant-wide.
/// - `priority` is the highest priority among the roles held (0 without any);
///   `bypasses_filters` is set when a role that bypasses filters is held tenant-wide.
/// - Roles and grants are sorted and deduplicated, so that the same input always compiles to
///   the same graph.
pub fn compile(
    model: &TenantModel,
    subject: &Subject,
    assignments: &[RoleAssignment],
    user_templates: &[String],
    epoch: i64,
) -> PermissionGraph {
    let roles = held_roles(model, subject, assignments);
    let mut grants = Vec::new();
    for held in &roles {
        if let RoleRef::System(system) = held.role {
            grants.extend(
                system_permissions(system)
                    .into_iter()
                    .map(|permission| Grant {
                        permission,
                        scope: held.scope.clone(),
                        source: Source::SystemRole(held.role.clone()),
                    }),
            );
        }
        for grant in &model.grants {
            if grant.target != GrantTarget::Role(held.role.clone()) {
                continue;
            }
            let Some(template) = model.templates.iter().find(|t| t.key == grant.template) else {
                continue;
            };
            grants.extend(template.permissions.iter().map(|permission| Grant {
                permission: permission.clone(),
                scope: held.scope.clone(),
                source: Source::RoleTemplate {
                    role: held.role.clone(),
                    template: template.key.clone(),
                },
            }));
        }
    }

    let direct: BTreeSet<&str> = user_templates
        .iter()
        .map(String::as_str)
        .chain(
            model
                .grants
                .iter()
                .filter(|g| g.target == GrantTarget::User(subject.id))
                .map(|g| g.template.as_str()),
        )
        .collect();
    for key in direct {
        let Some(template) = model.templates.iter().find(|t| t.key == key) else {
            continue;
        };
        grants.extend(template.permissions.iter().map(|permission| Grant {
            permission: permission.clone(),
            scope: AccessScope::Tenant,
            source: Source::UserTemplate(template.key.clone()),
        }));
    }
    grants.sort_by(|a, b| {
        (&a.permission, &a.scope, &a.source).cmp(&(&b.permission, &b.scope, &b.source))
    });
    grants.dedup();

    let priority = roles.iter().map(|r| r.priority).max().unwrap_or(0);
    let bypasses = roles.iter().any(|r| {
        r.scope == AccessScope::Tenant
            && matches!(r.role, RoleRef::System(system) if bypasses_filters(system))
    });
    PermissionGraph {
        tenant_id: subject.tenant,
        user_id: subject.id,
        state: subject.state,
        epoch,
        priority,
        bypasses_filters: bypasses,
        roles,
        grants,
    }
}

/// The priority of a role, or `None` for a custom role the model does not define.
fn priority_of(model: &TenantModel, role: &RoleRef) -> Option<u32> {
    match role {
        RoleRef::System(system) => Some(system.priority()),
        RoleRef::Custom(key) => model
            .roles
            .iter()
            .find(|r| &r.key == key)
            .map(|r| r.priority),
    }
}

fn parent_of<'m>(model: &'m TenantModel, role: &RoleRef) -> Option<&'m RoleRef> {
    match role {
        RoleRef::System(_) => None,
        RoleRef::Custom(key) => model
            .roles
            .iter()
            .find(|r| &r.key == key)
            .and_then(|r| r.parent.as_ref()),
    }
}

/// Every role held through `assignments`: the assigned roles, then their parents.
fn held_roles(
    model: &TenantModel,
    subject: &Subject,
    assignments: &[RoleAssignment],
) -> Vec<HeldRole> {
    let mut roles = Vec::new();
    for assignment in assignments.iter().filter(|a| a.user_id == subject.id) {
        let Some(priority) = priority_of(model, &assignment.role) else {
            continue;
        };
        roles.push(HeldRole {
            role: assignment.role.clone(),
            priority,
            scope: assignment.scope.clone(),
            inherited_through: None,
        });
        let mut seen = vec![&assignment.role];
        let mut current = &assignment.role;
        while let Some(parent) = parent_of(model, current) {
            if seen.contains(&parent) {
                break;
            }
            let Some(priority) = priority_of(model, parent) else {
                break;
            };
            roles.push(HeldRole {
                role: parent.clone(),
                priority,
                scope: assignment.scope.clone(),
                inherited_through: Some(assignment.role.clone()),
            });
            seen.push(parent);
            current = parent;
        }
    }
    roles.sort_by(|a, b| {
        (&a.role, &a.scope, &a.inherited_through).cmp(&(&b.role, &b.scope, &b.inherited_through))
    });
    roles.dedup();
    roles
}
