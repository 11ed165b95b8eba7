//! Resource types a tenant registers: one row per name, the whole type as JSON.

use crate::codec::to_json;
use crate::epochs::append_authz_journal;
use crate::error::store_error;
use crate::pool::{PostgresStore, commit};
use tessera_domain::TenantId;
use tessera_domain::authz::ResourceType;
use tessera_domain::ports::{Journal, StoreError};

/// Creates or replaces the type of that name.
pub(crate) async fn put_resource_type(
    store: &PostgresStore,
    tenant: TenantId,
    resource_type: &ResourceType,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.tenant_tx(tenant).await?;
    sqlx::query(
        "INSERT INTO resource_types (tenant_id, name, body) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, name) DO UPDATE SET body = excluded.body",
    )
    .bind(tenant.as_uuid())
    .bind(&resource_type.name)
    .bind(to_json(resource_type)?)
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}

pub(crate) async fn delete_resource_type(
    store: &PostgresStore,
    tenant: TenantId,
    name: &str,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.tenant_tx(tenant).await?;
    let done = sqlx::query("DELETE FROM resource_types WHERE tenant_id = $1 AND name = $2")
        .bind(tenant.as_uuid())
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}
