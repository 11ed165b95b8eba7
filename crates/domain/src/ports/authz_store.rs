//! Persistence of the authorization model: custom roles, scoped role assignments, permission
//! templates and their grants, registered resource types, versioned policy sets, the per
//! tenant epoch and the decision log. Every change takes its [`Journal`] (marked
//! [`Journal::changing_authz`]); the store commits the change, its audit record and the epoch
//! advance together or not at all.

use super::store::{Journal, StoreError};
use crate::authz::{
    AccessScope, CustomRole, DecisionRecord, GrantTarget, PolicySet, ResourceType, RoleAssignment,
    RoleKey, RoleRef, Template, TemplateGrant, TenantModel,
};
use crate::{OrgUnitId, TenantId, UserId};
use async_trait::async_trait;

#[async_trait]
pub trait AuthzStore: Send + Sync {
    /// The tenant's epoch: 0 for a tenant that never changed its model, then advanced by every
    /// journal marked `authz_changed`. Caches key compiled graphs by it.
    async fn authz_epoch(&self, tenant: TenantId) -> Result<i64, StoreError>;

    /// Roles, templates, template grants, resource types and the policy set in force.
    async fn tenant_model(&self, tenant: TenantId) -> Result<TenantModel, StoreError>;

    // --- Role assignments ---------------------------------------------------------------
    /// The roles a user holds, ordered by role key then scope.
    async fn user_roles(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<RoleAssignment>, StoreError>;
    /// Granting an assignment held already is not an error. MUST return `NotFound` when the
    /// user (or, for a custom role, the role; for a unit scope, the unit) does not exist.
    async fn grant_role(
        &self,
        tenant: TenantId,
        assignment: &RoleAssignment,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// MUST return `NotFound` when the user does not hold the role in that scope.
    async fn revoke_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: &RoleRef,
        scope: &AccessScope,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// How many users hold the role (in any scope).
    async fn role_holders(&self, tenant: TenantId, role: &RoleRef) -> Result<u64, StoreError>;

    // --- Custom roles -------------------------------------------------------------------
    /// MUST return `Duplicate { field: "key" }` if the key is taken, `NotFound` if the parent
    /// is a custom role that does not exist.
    async fn insert_custom_role(
        &self,
        role: &CustomRole,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// MUST return `Conflict` on a version mismatch, `NotFound` if absent (or if the new
    /// parent is a custom role that does not exist).
    async fn update_custom_role(
        &self,
        role: &CustomRole,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Deletes the role with its assignments and template grants. MUST return `NotFound` if
    /// absent and `InUse` if another role names it as parent.
    async fn delete_custom_role(
        &self,
        tenant: TenantId,
        key: &RoleKey,
        journal: &Journal,
    ) -> Result<(), StoreError>;

    // --- Templates ----------------------------------------------------------------------
    /// MUST return `Duplicate { field: "key" }` if the key is taken.
    async fn insert_template(
        &self,
        template: &Template,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// MUST return `Conflict` on a version mismatch, `NotFound` if absent.
    async fn update_template(
        &self,
        template: &Template,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Deletes the template with its grants. MUST return `NotFound` if absent.
    async fn delete_template(
        &self,
        tenant: TenantId,
        key: &str,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Granting a grant held already is not an error. MUST return `NotFound` if the template,
    /// the custom role or the user does not exist.
    async fn grant_template(
        &self,
        tenant: TenantId,
        grant: &TemplateGrant,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// MUST return `NotFound` if there is no such grant.
    async fn revoke_template(
        &self,
        tenant: TenantId,
        template: &str,
        target: &GrantTarget,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// The keys of the templates granted to the user directly.
    async fn user_templates(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<String>, StoreError>;

    // --- Resource types -----------------------------------------------------------------
    /// Creates or replaces the type of that name.
    async fn put_resource_type(
        &self,
        tenant: TenantId,
        resource_type: &ResourceType,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// MUST return `NotFound` if absent.
    async fn delete_resource_type(
        &self,
        tenant: TenantId,
        name: &str,
        journal: &Journal,
    ) -> Result<(), StoreError>;

    // --- Policy sets --------------------------------------------------------------------
    /// Saves a new version. MUST return `Conflict` (and write nothing) unless
    /// `set.version` is exactly one more than the newest stored version (1 for the first).
    async fn insert_policy_set(&self, set: &PolicySet, journal: &Journal)
    -> Result<(), StoreError>;
    /// Every version, newest first (texts included).
    async fn policy_sets(&self, tenant: TenantId) -> Result<Vec<PolicySet>, StoreError>;
    async fn policy_set(
        &self,
        tenant: TenantId,
        version: i64,
    ) -> Result<Option<PolicySet>, StoreError>;

    // --- Organization units -------------------------------------------------------------
    /// The unit and its ancestors, from the unit up to its root; empty if it does not exist.
    async fn unit_ancestors(
        &self,
        tenant: TenantId,
        unit: OrgUnitId,
    ) -> Result<Vec<OrgUnitId>, StoreError>;

    // --- Decision log -------------------------------------------------------------------
    async fn record_decisions(&self, records: &[DecisionRecord]) -> Result<(), StoreError>;
    /// The newest `limit` records of the tenant, newest first.
    async fn recent_decisions(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<DecisionRecord>, StoreError>;
}
