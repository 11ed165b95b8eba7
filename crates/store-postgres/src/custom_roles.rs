//! Custom roles of a tenant. A custom parent is named through a foreign key (`parent_custom`,
//! ON DELETE RESTRICT), so a missing parent is `NotFound` and a role that is still a parent
//! cannot be deleted (`InUse`); deleting a role cascades to its assignments and template
//! grants. The foreign keys also settle races: a grant of a role being deleted either
//! commits first (and the cascade removes it) or finds the role gone (`NotFound`).

use crate::authz_rows::role_columns;
use crate::epochs::append_authz_journal;
use crate::error::{delete_error, duplicate_of, store_error, unexpected};
use crate::pool::{PostgresStore, commit};
use tessera_domain::TenantId;
use tessera_domain::authz::{CustomRole, RoleKey};
use tessera_domain::ports::{Journal, StoreError};

/// `(priority, parent, parent_custom)` of a role.
fn columns(role: &CustomRole) -> Result<(i32, Option<String>, Option<String>), StoreError> {
    let priority = i32::try_from(role.priority)
        .map_err(|_| unexpected(format!("role priority out of range: {}", role.priority)))?;
    Ok(match &role.parent {
        Some(parent) => {
            let (key, custom) = role_columns(parent);
            (priority, Some(key), custom)
        }
        None => (priority, None, None),
    })
}

pub(crate) async fn insert_custom_role(
    store: &PostgresStore,
    role: &CustomRole,
    journal: &Journal,
) -> Result<(), StoreError> {
    let (priority, parent, parent_custom) = columns(role)?;
    let mut tx = store.tenant_tx(role.tenant_id).await?;
    sqlx::query(
        "INSERT INTO custom_roles (tenant_id, role_key, name, description, priority, parent, \
         parent_custom, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(role.tenant_id.as_uuid())
    .bind(role.key.as_str())
    .bind(&role.name)
    .bind(&role.description)
    .bind(priority)
    .bind(parent)
    .bind(parent_custom)
    .bind(role.created_at)
    .bind(role.updated_at)
    .bind(role.version)
    .execute(&mut *tx)
    .await
    .map_err(duplicate_of("key", role.key.as_str()))?;
    append_authz_journal(&mut tx, role.tenant_id, journal).await?;
    commit(tx).await
}

/// Stores `role` (whose `version` is already `expected_version + 1`); the key and creation
/// instant do not change.
pub(crate) async fn update_custom_role(
    store: &PostgresStore,
    role: &CustomRole,
    expected_version: i64,
    journal: &Journal,
) -> Result<(), StoreError> {
    let (priority, parent, parent_custom) = columns(role)?;
    let mut tx = store.tenant_tx(role.tenant_id).await?;
    let done = sqlx::query(
        "UPDATE custom_roles SET name = $1, description = $2, priority = $3, parent = $4, \
         parent_custom = $5, updated_at = $6, version = $7 \
         WHERE tenant_id = $8 AND role_key = $9 AND version = $10",
    )
    .bind(&role.name)
    .bind(&role.description)
    .bind(priority)
    .bind(parent)
    .bind(parent_custom)
    .bind(role.updated_at)
    .bind(role.version)
    .bind(role.tenant_id.as_uuid())
    .bind(role.key.as_str())
    .bind(expected_version)
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    if done.rows_affected() == 0 {
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM custom_roles WHERE tenant_id = $1 AND role_key = $2",
        )
        .bind(role.tenant_id.as_uuid())
        .bind(role.key.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        return Err(if exists.is_some() {
            StoreError::Conflict
        } else {
            StoreError::NotFound
        });
    }
    append_authz_journal(&mut tx, role.tenant_id, journal).await?;
    commit(tx).await
}

pub(crate) async fn delete_custom_role(
    store: &PostgresStore,
    tenant: TenantId,
    key: &RoleKey,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.tenant_tx(tenant).await?;
    // Assignments and grants of the role go with it (ON DELETE CASCADE); a role naming it
    // as parent refuses the delete (ON DELETE RESTRICT): still in use.
    let done = sqlx::query("DELETE FROM custom_roles WHERE tenant_id = $1 AND role_key = $2")
        .bind(tenant.as_uuid())
        .bind(key.as_str())
        .execute(&mut *tx)
        .await
        .map_err(delete_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}
