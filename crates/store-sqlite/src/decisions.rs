//! The decision log: sampled authorization decisions, read back newest first.

use crate::authz_rows::DecisionRow;
use crate::codec::{micros, to_json};
use crate::error::store_error;
use crate::pool::{SqliteStore, commit};
use tessera_domain::TenantId;
use tessera_domain::authz::DecisionRecord;
use tessera_domain::ports::StoreError;

/// All records in one transaction (they may be of several tenants). Not audited.
pub(crate) async fn record_decisions(
    store: &SqliteStore,
    records: &[DecisionRecord],
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut tx = store.write().await?;
    for record in records {
        sqlx::query(
            "INSERT INTO decision_log (tenant_id, id, at, request, allowed, reason) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(record.tenant_id.to_string())
        .bind(record.id.to_string())
        .bind(micros(record.at)?)
        .bind(to_json(&record.request)?)
        .bind(record.allowed)
        .bind(&record.reason)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    }
    commit(tx).await
}

/// Newest first (ties by id, descending).
pub(crate) async fn recent_decisions(
    store: &SqliteStore,
    tenant: TenantId,
    limit: u32,
) -> Result<Vec<DecisionRecord>, StoreError> {
    let rows: Vec<DecisionRow> = sqlx::query_as(
        "SELECT tenant_id, id, at, request, allowed, reason FROM decision_log \
         WHERE tenant_id = ? ORDER BY at DESC, id DESC LIMIT ?",
    )
    .bind(tenant.to_string())
    .bind(i64::from(limit))
    .fetch_all(store.pool())
    .await
    .map_err(store_error)?;
    rows.into_iter().map(DecisionRow::into_record).collect()
}
