//! Versioned policy sets: version n + 1 is written only while n is the newest, in the
//! statement that writes it. Two concurrent saves of one version both pass that test; the
//! second then waits on the primary key until the first commits and fails (`Conflict`), its
//! transaction rolled back.

use crate::authz_rows::{POLICY_COLUMNS, PolicyRow};
use crate::epochs::append_authz_journal;
use crate::error::store_error;
use crate::pool::{PostgresStore, commit};
use sqlx::PgConnection;
use tessera_domain::TenantId;
use tessera_domain::authz::PolicySet;
use tessera_domain::ports::{Journal, StoreError};

/// `Conflict`, with nothing written, unless `set.version` follows the newest version.
pub(crate) async fn insert_policy_set(
    store: &PostgresStore,
    set: &PolicySet,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.tenant_tx(set.tenant_id).await?;
    let done = sqlx::query(
        "INSERT INTO policy_sets (tenant_id, version, text, comment, created_at, created_by) \
         SELECT $1, $2, $3, $4, $5, $6 WHERE $2 = 1 + COALESCE( \
           (SELECT max(version) FROM policy_sets WHERE tenant_id = $1), 0)",
    )
    .bind(set.tenant_id.as_uuid())
    .bind(set.version)
    .bind(&set.text)
    .bind(&set.comment)
    .bind(set.created_at)
    .bind(set.created_by.as_deref())
    .execute(&mut *tx)
    .await
    .map_err(|e| match store_error(e) {
        StoreError::Duplicate { .. } => StoreError::Conflict,
        other => other,
    })?;
    if done.rows_affected() == 0 {
        return Err(StoreError::Conflict);
    }
    append_authz_journal(&mut tx, set.tenant_id, journal).await?;
    commit(tx).await
}

/// Newest first.
pub(crate) async fn policy_sets(
    store: &PostgresStore,
    tenant: TenantId,
) -> Result<Vec<PolicySet>, StoreError> {
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM policy_sets WHERE tenant_id = $1 ORDER BY version DESC"
    );
    let mut tx = store.tenant_tx(tenant).await?;
    let rows: Vec<PolicyRow> = sqlx::query_as(&sql)
        .bind(tenant.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
    commit(tx).await?;
    Ok(rows.into_iter().map(PolicyRow::into_policy_set).collect())
}

pub(crate) async fn policy_set(
    store: &PostgresStore,
    tenant: TenantId,
    version: i64,
) -> Result<Option<PolicySet>, StoreError> {
    let sql =
        format!("SELECT {POLICY_COLUMNS} FROM policy_sets WHERE tenant_id = $1 AND version = $2");
    let mut tx = store.tenant_tx(tenant).await?;
    let row: Option<PolicyRow> = sqlx::query_as(&sql)
        .bind(tenant.as_uuid())
        .bind(version)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
    commit(tx).await?;
    Ok(row.map(PolicyRow::into_policy_set))
}

/// The newest version, inside a read of the whole model.
pub(crate) async fn newest_policy_set(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Option<PolicySet>, StoreError> {
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM policy_sets WHERE tenant_id = $1 \
         ORDER BY version DESC LIMIT 1"
    );
    let row: Option<PolicyRow> = sqlx::query_as(&sql)
        .bind(tenant.as_uuid())
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(PolicyRow::into_policy_set))
}
