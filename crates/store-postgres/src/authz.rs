//! The authorization store port: the model of a tenant read in one go, unit ancestry, and the
//! delegation of each write to the module of its concept (role assignments, custom roles,
//! templates, resource types, policy sets, decisions). Every write appends its journal and
//! advances the tenant's epoch in its transaction.

use crate::authz_rows::{
    CustomRoleRow, GrantRow, ROLE_COLUMNS, TEMPLATE_COLUMNS, TemplateRow, ancestry, resource_type,
};
use crate::error::store_error;
use crate::pool::{PostgresStore, commit};
use crate::templates;
use crate::{custom_roles, decisions, epochs, policy_sets, resource_types, role_assignments};
use async_trait::async_trait;
use tessera_domain::authz::{
    AccessScope, CustomRole, DecisionRecord, GrantTarget, PolicySet, ResourceType, RoleAssignment,
    RoleKey, RoleRef, Template, TemplateGrant, TenantModel,
};
use tessera_domain::ports::{AuthzStore, Journal, StoreError};
use tessera_domain::{OrgUnitId, TenantId, UserId};
use uuid::Uuid;

/// Reads the whole model in one read-only snapshot (`REPEATABLE READ`), so that its parts
/// agree with each other.
async fn tenant_model(store: &PostgresStore, tenant: TenantId) -> Result<TenantModel, StoreError> {
    let t = tenant.as_uuid();
    let mut tx = store.tenant_snapshot_tx(tenant).await?;
    let sql =
        format!("SELECT {ROLE_COLUMNS} FROM custom_roles WHERE tenant_id = $1 ORDER BY role_key");
    let roles: Vec<CustomRoleRow> = sqlx::query_as(&sql)
        .bind(t)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
    let sql = format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates WHERE tenant_id = $1 ORDER BY template_key"
    );
    let templates: Vec<TemplateRow> = sqlx::query_as(&sql)
        .bind(t)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
    let grants: Vec<GrantRow> = sqlx::query_as(
        "SELECT template_key, target_kind, target, granted_at FROM template_grants \
         WHERE tenant_id = $1 ORDER BY template_key, target_kind, target",
    )
    .bind(t)
    .fetch_all(&mut *tx)
    .await
    .map_err(store_error)?;
    let types: Vec<String> =
        sqlx::query_scalar("SELECT body FROM resource_types WHERE tenant_id = $1 ORDER BY name")
            .bind(t)
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
    let policies = policy_sets::newest_policy_set(&mut tx, tenant).await?;
    commit(tx).await?;
    Ok(TenantModel {
        roles: roles
            .into_iter()
            .map(CustomRoleRow::into_role)
            .collect::<Result<_, _>>()?,
        templates: templates
            .into_iter()
            .map(TemplateRow::into_template)
            .collect::<Result<_, _>>()?,
        grants: grants
            .into_iter()
            .map(GrantRow::into_grant)
            .collect::<Result<_, _>>()?,
        resource_types: types
            .iter()
            .map(|body| resource_type(body))
            .collect::<Result<_, _>>()?,
        policies,
    })
}

/// The unit's ancestry rows by a recursive query (UNION also ends on a cycle), ordered in
/// code from the unit up to its root.
async fn unit_ancestors(
    store: &PostgresStore,
    tenant: TenantId,
    unit: OrgUnitId,
) -> Result<Vec<OrgUnitId>, StoreError> {
    let mut tx = store.tenant_tx(tenant).await?;
    let rows: Vec<(Uuid, Option<Uuid>)> = sqlx::query_as(
        "WITH RECURSIVE up(id, parent_id) AS ( \
           SELECT id, parent_id FROM org_units WHERE tenant_id = $1 AND id = $2 \
           UNION \
           SELECT p.id, p.parent_id FROM org_units p JOIN up ON p.id = up.parent_id \
           WHERE p.tenant_id = $1 \
         ) SELECT id, parent_id FROM up",
    )
    .bind(tenant.as_uuid())
    .bind(unit.as_uuid())
    .fetch_all(&mut *tx)
    .await
    .map_err(store_error)?;
    commit(tx).await?;
    Ok(ancestry(unit.into_uuid(), &rows))
}

#[async_trait]
impl AuthzStore for PostgresStore {
    async fn authz_epoch(&self, tenant: TenantId) -> Result<i64, StoreError> {
        epochs::authz_epoch(self, tenant).await
    }

    async fn tenant_model(&self, tenant: TenantId) -> Result<TenantModel, StoreError> {
        tenant_model(self, tenant).await
    }

    async fn user_roles(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<RoleAssignment>, StoreError> {
        role_assignments::user_roles(self, tenant, user).await
    }

    async fn grant_role(
        &self,
        tenant: TenantId,
        assignment: &RoleAssignment,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        role_assignments::grant_role(self, tenant, assignment, journal).await
    }

    async fn revoke_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: &RoleRef,
        scope: &AccessScope,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        role_assignments::revoke_role(self, tenant, user, role, scope, journal).await
    }

    async fn role_holders(&self, tenant: TenantId, role: &RoleRef) -> Result<u64, StoreError> {
        role_assignments::role_holders(self, tenant, role).await
    }

    async fn insert_custom_role(
        &self,
        role: &CustomRole,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        custom_roles::insert_custom_role(self, role, journal).await
    }

    async fn update_custom_role(
        &self,
        role: &CustomRole,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        custom_roles::update_custom_role(self, role, expected_version, journal).await
    }

    async fn delete_custom_role(
        &self,
        tenant: TenantId,
        key: &RoleKey,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        custom_roles::delete_custom_role(self, tenant, key, journal).await
    }

    async fn insert_template(
        &self,
        template: &Template,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        templates::insert_template(self, template, journal).await
    }

    async fn update_template(
        &self,
        template: &Template,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        templates::update_template(self, template, expected_version, journal).await
    }

    async fn delete_template(
        &self,
        tenant: TenantId,
        key: &str,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        templates::delete_template(self, tenant, key, journal).await
    }

    async fn grant_template(
        &self,
        tenant: TenantId,
        grant: &TemplateGrant,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        templates::grant_template(self, tenant, grant, journal).await
    }

    async fn revoke_template(
        &self,
        tenant: TenantId,
        template: &str,
        target: &GrantTarget,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        templates::revoke_template(self, tenant, template, target, journal).await
    }

    async fn user_templates(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<String>, StoreError> {
        templates::user_templates(self, tenant, user).await
    }

    async fn put_resource_type(
        &self,
        tenant: TenantId,
        resource_type: &ResourceType,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        resource_types::put_resource_type(self, tenant, resource_type, journal).await
    }

    async fn delete_resource_type(
        &self,
        tenant: TenantId,
        name: &str,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        resource_types::delete_resource_type(self, tenant, name, journal).await
    }

    async fn insert_policy_set(
        &self,
        set: &PolicySet,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        policy_sets::insert_policy_set(self, set, journal).await
    }

    async fn policy_sets(&self, tenant: TenantId) -> Result<Vec<PolicySet>, StoreError> {
        policy_sets::policy_sets(self, tenant).await
    }

    async fn policy_set(
        &self,
        tenant: TenantId,
        version: i64,
    ) -> Result<Option<PolicySet>, StoreError> {
        policy_sets::policy_set(self, tenant, version).await
    }

    async fn unit_ancestors(
        &self,
        tenant: TenantId,
        unit: OrgUnitId,
    ) -> Result<Vec<OrgUnitId>, StoreError> {
        unit_ancestors(self, tenant, unit).await
    }

    async fn record_decisions(&self, records: &[DecisionRecord]) -> Result<(), StoreError> {
        decisions::record_decisions(self, records).await
    }

    async fn recent_decisions(
        &self,
        tenant: TenantId,
        limit: u32,
    ) -> Result<Vec<DecisionRecord>, StoreError> {
        decisions::recent_decisions(self, tenant, limit).await
    }
}
