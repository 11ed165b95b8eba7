//! The authorization epoch of each tenant: one counter per tenant, advanced inside the write
//! transaction of every change to its authorization model, read by the caches of compiled
//! permission graphs.

use crate::audit::append_journal;
use crate::error::store_error;
use crate::pool::SqliteStore;
use sqlx::SqliteConnection;
use tessera_domain::TenantId;
use tessera_domain::ports::{Journal, StoreError};

/// Advances the tenant's epoch by one (from 0 to 1 for a tenant without a row). Must run
/// inside a write transaction.
pub(crate) async fn advance_epoch(
    conn: &mut SqliteConnection,
    tenant: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO authz_epochs (tenant_id, epoch) VALUES (?, 1) \
         ON CONFLICT (tenant_id) DO UPDATE SET epoch = epoch + 1",
    )
    .bind(tenant)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Appends the journal of a change to `tenant`'s authorization model and advances that
/// tenant's epoch, whether or not the journal is marked `authz_changed` (a journal that is
/// marked also advances the epochs of its other tenants). The epoch moves once per change.
pub(crate) async fn append_authz_journal(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    journal: &Journal,
) -> Result<(), StoreError> {
    append_journal(conn, journal).await?;
    let advanced = journal.authz_changed && journal.events.iter().any(|e| e.tenant_id == tenant);
    if !advanced {
        advance_epoch(conn, &tenant.to_string()).await?;
    }
    Ok(())
}

/// The tenant's epoch; 0 without a row.
pub(crate) async fn authz_epoch(store: &SqliteStore, tenant: TenantId) -> Result<i64, StoreError> {
    let epoch: Option<i64> =
        sqlx::query_scalar("SELECT epoch FROM authz_epochs WHERE tenant_id = ?")
            .bind(tenant.to_string())
            .fetch_optional(store.pool())
            .await
            .map_err(store_error)?;
    Ok(epoch.unwrap_or(0))
}
