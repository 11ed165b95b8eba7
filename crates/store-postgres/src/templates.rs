//! Permission templates and their grants to roles and users. A grant names its template, its
//! custom role or its user through foreign keys (ON DELETE CASCADE): a missing one is
//! `NotFound`, and deleting the template, the role or the user removes the grant.

use crate::authz_rows::target_columns;
use crate::codec::to_json;
use crate::epochs::append_authz_journal;
use crate::error::{duplicate_of, store_error};
use crate::pool::{PostgresStore, commit};
use tessera_domain::authz::{GrantTarget, Template, TemplateGrant};
use tessera_domain::ports::{Journal, StoreError};
use tessera_domain::{TenantId, UserId};

pub(crate) async fn insert_template(
    store: &PostgresStore,
    template: &Template,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.tenant_tx(template.tenant_id).await?;
    sqlx::query(
        "INSERT INTO templates (tenant_id, template_key, name, description, permissions, menu, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(template.tenant_id.as_uuid())
    .bind(&template.key)
    .bind(&template.name)
    .bind(&template.description)
    .bind(to_json(&template.permissions)?)
    .bind(to_json(&template.menu)?)
    .bind(template.created_at)
    .bind(template.updated_at)
    .bind(template.version)
    .execute(&mut *tx)
    .await
    .map_err(duplicate_of("key", &template.key))?;
    append_authz_journal(&mut tx, template.tenant_id, journal).await?;
    commit(tx).await
}

/// Stores `template` (whose `version` is already `expected_version + 1`); the key and
/// creation instant do not change.
pub(crate) async fn update_template(
    store: &PostgresStore,
    template: &Template,
    expected_version: i64,
    journal: &Journal,
) -> Result<(), StoreError> {
    let tenant = template.tenant_id;
    let mut tx = store.tenant_tx(tenant).await?;
    let done = sqlx::query(
        "UPDATE templates SET name = $1, description = $2, permissions = $3, menu = $4, \
         updated_at = $5, version = $6 \
         WHERE tenant_id = $7 AND template_key = $8 AND version = $9",
    )
    .bind(&template.name)
    .bind(&template.description)
    .bind(to_json(&template.permissions)?)
    .bind(to_json(&template.menu)?)
    .bind(template.updated_at)
    .bind(template.version)
    .bind(tenant.as_uuid())
    .bind(&template.key)
    .bind(expected_version)
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    if done.rows_affected() == 0 {
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM templates WHERE tenant_id = $1 AND template_key = $2",
        )
        .bind(tenant.as_uuid())
        .bind(&template.key)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        return Err(if exists.is_some() {
            StoreError::Conflict
        } else {
            StoreError::NotFound
        });
    }
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}

/// Its grants go with it (ON DELETE CASCADE).
pub(crate) async fn delete_template(
    store: &PostgresStore,
    tenant: TenantId,
    key: &str,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.tenant_tx(tenant).await?;
    let done = sqlx::query("DELETE FROM templates WHERE tenant_id = $1 AND template_key = $2")
        .bind(tenant.as_uuid())
        .bind(key)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}

/// A grant held already keeps its first instant; the journal is appended either way.
pub(crate) async fn grant_template(
    store: &PostgresStore,
    tenant: TenantId,
    grant: &TemplateGrant,
    journal: &Journal,
) -> Result<(), StoreError> {
    let target = target_columns(&grant.target);
    let mut tx = store.tenant_tx(tenant).await?;
    sqlx::query(
        "INSERT INTO template_grants (tenant_id, template_key, target_kind, target, \
         custom_role, user_id, granted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(&grant.template)
    .bind(target.kind)
    .bind(target.target)
    .bind(target.custom_role)
    .bind(target.user_id)
    .bind(grant.granted_at)
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}

pub(crate) async fn revoke_template(
    store: &PostgresStore,
    tenant: TenantId,
    template: &str,
    target: &GrantTarget,
    journal: &Journal,
) -> Result<(), StoreError> {
    let target = target_columns(target);
    let mut tx = store.tenant_tx(tenant).await?;
    let done = sqlx::query(
        "DELETE FROM template_grants \
         WHERE tenant_id = $1 AND template_key = $2 AND target_kind = $3 AND target = $4",
    )
    .bind(tenant.as_uuid())
    .bind(template)
    .bind(target.kind)
    .bind(target.target)
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}

/// Ordered by key.
pub(crate) async fn user_templates(
    store: &PostgresStore,
    tenant: TenantId,
    user: UserId,
) -> Result<Vec<String>, StoreError> {
    let mut tx = store.tenant_tx(tenant).await?;
    let keys: Vec<String> = sqlx::query_scalar(
        "SELECT template_key FROM template_grants \
         WHERE tenant_id = $1 AND user_id = $2 ORDER BY template_key",
    )
    .bind(tenant.as_uuid())
    .bind(user.as_uuid())
    .fetch_all(&mut *tx)
    .await
    .map_err(store_error)?;
    commit(tx).await?;
    Ok(keys)
}
