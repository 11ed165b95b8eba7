//! The tenant's authorization model as stored, and a user's compiled permission graph: roles
//! → inherited roles → templates → permissions with scopes.

use super::permission::{Permission, ResourceType};
use super::policy::PolicySet;
use super::roles::{AccessScope, CustomRole, RoleRef};
use super::templates::{Template, TemplateGrant};
use crate::lifecycle::LifecycleState;
use crate::{OrgUnitId, TenantId, UserId};
use serde::{Deserialize, Serialize};

/// Everything of a tenant's authorization model except the assignments of users: small, read
/// in one go, cached per tenant epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantModel {
    pub roles: Vec<CustomRole>,
    pub templates: Vec<Template>,
    /// Grants of templates to roles and to users.
    pub grants: Vec<TemplateGrant>,
    pub resource_types: Vec<ResourceType>,
    /// The policy set in force, if the tenant has one.
    pub policies: Option<PolicySet>,
}

/// A role the user holds, directly or through a parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRole {
    pub role: RoleRef,
    pub priority: u32,
    pub scope: AccessScope,
    /// The directly assigned role this one is inherited through (`None` when assigned).
    pub inherited_through: Option<RoleRef>,
}

/// Where a permission comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "key", rename_all = "snake_case")]
pub enum Source {
    /// Built into a system role.
    SystemRole(RoleRef),
    /// A template granted to a role the user holds.
    RoleTemplate { role: RoleRef, template: String },
    /// A template granted to the user directly (tenant-wide).
    UserTemplate(String),
}

/// One permission (or pattern) the user holds, within a scope, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub permission: Permission,
    pub scope: AccessScope,
    pub source: Source,
}

/// A user's compiled permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionGraph {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub state: LifecycleState,
    /// The tenant epoch it was compiled at.
    pub epoch: i64,
    /// The highest priority among the roles held (0 without any role).
    pub priority: u32,
    /// Super Admin and Admin see every record: no data filter applies.
    pub bypasses_filters: bool,
    pub roles: Vec<HeldRole>,
    pub grants: Vec<Grant>,
}

impl PermissionGraph {
    /// Whether the user's lifecycle state allows any decision to be `allow`.
    pub fn may_act(&self) -> bool {
        self.state == LifecycleState::Active
    }

    /// The grants that cover `wanted`, in any scope.
    pub fn grants_for<'a>(&'a self, wanted: &'a Permission) -> impl Iterator<Item = &'a Grant> {
        self.grants
            .iter()
            .filter(move |g| g.permission.grants(wanted))
    }

    /// The scopes in which the user holds `wanted` (empty when they do not hold it).
    pub fn scopes_for(&self, wanted: &Permission) -> Vec<AccessScope> {
        let mut scopes: Vec<AccessScope> =
            self.grants_for(wanted).map(|g| g.scope.clone()).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }

    /// Whether the user holds `wanted` in some scope.
    pub fn holds(&self, wanted: &Permission) -> bool {
        self.may_act() && self.grants_for(wanted).next().is_some()
    }
}

/// What a list or count returns for a caller: everything, or the records within some scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DataFilter {
    All,
    /// The union of these scopes (never `Tenant`, which is `All`). Empty means nothing.
    Within(Vec<AccessScope>),
}

impl DataFilter {
    /// The filter for holders of `scopes` (as returned by [`PermissionGraph::scopes_for`]).
    pub fn from_scopes(scopes: Vec<AccessScope>, bypass: bool) -> Self {
        if bypass || scopes.contains(&AccessScope::Tenant) {
            Self::All
        } else {
            Self::Within(scopes)
        }
    }
}

/// The records a scoped caller may see, as a store filter: the user themself (self scope),
/// and everyone attached to a unit in the subtree of one of `units` — employees assigned to
/// such a unit and customers linked to one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Within {
    pub user: Option<UserId>,
    pub units: Vec<OrgUnitId>,
}

impl Within {
    /// The store filter of a caller's scopes.
    pub fn of(caller: UserId, scopes: &[AccessScope]) -> Self {
        let mut within = Self::default();
        for s in scopes {
            match s {
                AccessScope::SelfOnly => within.user = Some(caller),
                AccessScope::Unit(u) => within.units.push(*u),
                AccessScope::Tenant => {}
            }
        }
        within
    }
}
