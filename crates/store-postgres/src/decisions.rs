//! The decision log: sampled authorization decisions, read back newest first.

use crate::authz_rows::DecisionRow;
use crate::codec::to_json;
use crate::error::store_error;
use crate::pool::{PostgresStore, commit, switch_tenant};
use std::collections::BTreeMap;
use tessera_domain::TenantId;
use tessera_domain::authz::DecisionRecord;
use tessera_domain::ports::StoreError;

/// All records in one transaction (they may be of several tenants: the transaction switches
/// tenant between them), one `INSERT ... SELECT FROM UNNEST(...)` per tenant. Not audited.
pub(crate) async fn record_decisions(
    store: &PostgresStore,
    records: &[DecisionRecord],
) -> Result<(), StoreError> {
    let mut by_tenant: BTreeMap<TenantId, Vec<&DecisionRecord>> = BTreeMap::new();
    for record in records {
        by_tenant.entry(record.tenant_id).or_default().push(record);
    }
    let Some(first) = by_tenant.keys().next().copied() else {
        return Ok(());
    };
    let mut tx = store.tenant_tx(first).await?;
    for (tenant, records) in &by_tenant {
        if *tenant != first {
            switch_tenant(&mut tx, *tenant).await?;
        }
        let requests = records
            .iter()
            .map(|r| to_json(&r.request))
            .collect::<Result<Vec<_>, _>>()?;
        sqlx::query(
            "INSERT INTO decision_log (tenant_id, id, at, request, allowed, reason) \
             SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], \
             $5::bool[], $6::text[])",
        )
        .bind(
            records
                .iter()
                .map(|r| r.tenant_id.into_uuid())
                .collect::<Vec<_>>(),
        )
        .bind(records.iter().map(|r| r.id).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.at).collect::<Vec<_>>())
        .bind(requests)
        .bind(records.iter().map(|r| r.allowed).collect::<Vec<_>>())
        .bind(records.iter().map(|r| r.reason.clone()).collect::<Vec<_>>())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
    }
    commit(tx).await
}

/// Newest first (ties by id, descending).
pub(crate) async fn recent_decisions(
    store: &PostgresStore,
    tenant: TenantId,
    limit: u32,
) -> Result<Vec<DecisionRecord>, StoreError> {
    let mut tx = store.tenant_tx(tenant).await?;
    let rows: Vec<DecisionRow> = sqlx::query_as(
        "SELECT tenant_id, id, at, request, allowed, reason FROM decision_log \
         WHERE tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2",
    )
    .bind(tenant.as_uuid())
    .bind(i64::from(limit))
    .fetch_all(&mut *tx)
    .await
    .map_err(store_error)?;
    commit(tx).await?;
    rows.into_iter().map(DecisionRow::into_record).collect()
}
