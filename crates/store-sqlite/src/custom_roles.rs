//! Custom roles of a tenant. A custom parent is named through a foreign key (`parent_custom`,
//! ON DELETE RESTRICT), so a missing parent is `NotFound` and a role that is still a parent
//! cannot be deleted (`InUse`); deleting a role cascades to its assignments and template
//! grants.

use crate::authz_rows::role_columns;
use crate::codec::micros;
use crate::epochs::append_authz_journal;
use crate::error::{delete_error, duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use tessera_domain::TenantId;
use tessera_domain::authz::{CustomRole, RoleKey};
use tessera_domain::ports::{Journal, StoreError};

/// `(parent, parent_custom)` of a role.
fn parent_columns(role: &CustomRole) -> (Option<String>, Option<String>) {
    match &role.parent {
        Some(parent) => {
            let (key, custom) = role_columns(parent);
            (Some(key), custom)
        }
        None => (None, None),
    }
}

pub(crate) async fn insert_custom_role(
    store: &SqliteStore,
    role: &CustomRole,
    journal: &Journal,
) -> Result<(), StoreError> {
    let (parent, parent_custom) = parent_columns(role);
    let mut tx = store.write().await?;
    sqlx::query(
        "INSERT INTO custom_roles (tenant_id, role_key, name, description, priority, parent, \
         parent_custom, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(role.tenant_id.to_string())
    .bind(role.key.as_str())
    .bind(&role.name)
    .bind(&role.description)
    .bind(i64::from(role.priority))
    .bind(parent)
    .bind(parent_custom)
    .bind(micros(role.created_at)?)
    .bind(micros(role.updated_at)?)
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
    store: &SqliteStore,
    role: &CustomRole,
    expected_version: i64,
    journal: &Journal,
) -> Result<(), StoreError> {
    let (tenant, key) = (role.tenant_id.to_string(), role.key.as_str());
    let (parent, parent_custom) = parent_columns(role);
    let mut tx = store.write().await?;
    let done = sqlx::query(
        "UPDATE custom_roles SET name = ?, description = ?, priority = ?, parent = ?, \
         parent_custom = ?, updated_at = ?, version = ? \
         WHERE tenant_id = ? AND role_key = ? AND version = ?",
    )
    .bind(&role.name)
    .bind(&role.description)
    .bind(i64::from(role.priority))
    .bind(parent)
    .bind(parent_custom)
    .bind(micros(role.updated_at)?)
    .bind(role.version)
    .bind(&tenant)
    .bind(key)
    .bind(expected_version)
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    if done.rows_affected() == 0 {
        let exists: Option<i64> = sqlx::query_scalar(
            "SELECT version FROM custom_roles WHERE tenant_id = ? AND role_key = ?",
        )
        .bind(&tenant)
        .bind(key)
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
    store: &SqliteStore,
    tenant: TenantId,
    key: &RoleKey,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    // Assignments and grants of the role go with it (ON DELETE CASCADE); a role naming it
    // as parent refuses the delete (ON DELETE RESTRICT): still in use.
    let done = sqlx::query("DELETE FROM custom_roles WHERE tenant_id = ? AND role_key = ?")
        .bind(tenant.to_string())
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
