//! The authorization epoch of each tenant: one counter per tenant, advanced inside the write
//! transaction of every change to its authorization model, read by the caches of compiled
//! permission graphs.

use crate::audit::append_journal_advancing;
use crate::error::store_error;
use crate::pool::{PostgresStore, commit};
use sqlx::PgConnection;
use tessera_domain::TenantId;
use tessera_domain::ports::{Journal, StoreError};

/// Advances the tenant's epoch by one (from 0 to 1 for a tenant without a row). The
/// transaction must be set to `tenant`; the row lock queues concurrent writers.
pub(crate) async fn advance_epoch(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO authz_epochs (tenant_id, epoch) VALUES ($1, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET epoch = authz_epochs.epoch + 1",
    )
    .bind(tenant.as_uuid())
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Appends the journal of a change to `tenant`'s authorization model (in a transaction set
/// to `tenant`) and advances that tenant's epoch, whether or not the journal is marked
/// `authz_changed` (a journal that is marked also advances the epochs of its other tenants).
/// The epoch moves once per change.
pub(crate) async fn append_authz_journal(
    conn: &mut PgConnection,
    tenant: TenantId,
    journal: &Journal,
) -> Result<(), StoreError> {
    append_journal_advancing(conn, journal, Some(tenant), Some(tenant)).await
}

/// The tenant's epoch; 0 without a row.
pub(crate) async fn authz_epoch(
    store: &PostgresStore,
    tenant: TenantId,
) -> Result<i64, StoreError> {
    let mut tx = store.tenant_tx(tenant).await?;
    let epoch: Option<i64> =
        sqlx::query_scalar("SELECT epoch FROM authz_epochs WHERE tenant_id = $1")
            .bind(tenant.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
    commit(tx).await?;
    Ok(epoch.unwrap_or(0))
}
