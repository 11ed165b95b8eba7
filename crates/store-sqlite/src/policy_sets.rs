//! Versioned policy sets: version n + 1 is written only while n is the newest, in the
//! statement that writes it (and the primary key refuses a second writer of one version).

use crate::authz_rows::{POLICY_COLUMNS, PolicyRow};
use crate::codec::micros;
use crate::epochs::append_authz_journal;
use crate::error::store_error;
use crate::pool::{SqliteStore, commit};
use sqlx::SqliteConnection;
use tessera_domain::TenantId;
use tessera_domain::authz::PolicySet;
use tessera_domain::ports::{Journal, StoreError};

/// `Conflict`, with nothing written, unless `set.version` follows the newest version.
pub(crate) async fn insert_policy_set(
    store: &SqliteStore,
    set: &PolicySet,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    let done = sqlx::query(
        "INSERT INTO policy_sets (tenant_id, version, text, comment, created_at, created_by) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE ?2 = 1 + COALESCE( \
           (SELECT MAX(version) FROM policy_sets WHERE tenant_id = ?1), 0)",
    )
    .bind(set.tenant_id.to_string())
    .bind(set.version)
    .bind(&set.text)
    .bind(&set.comment)
    .bind(micros(set.created_at)?)
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
    store: &SqliteStore,
    tenant: TenantId,
) -> Result<Vec<PolicySet>, StoreError> {
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM policy_sets WHERE tenant_id = ? ORDER BY version DESC"
    );
    let rows: Vec<PolicyRow> = sqlx::query_as(&sql)
        .bind(tenant.to_string())
        .fetch_all(store.pool())
        .await
        .map_err(store_error)?;
    rows.into_iter().map(PolicyRow::into_policy_set).collect()
}

pub(crate) async fn policy_set(
    store: &SqliteStore,
    tenant: TenantId,
    version: i64,
) -> Result<Option<PolicySet>, StoreError> {
    let sql =
        format!("SELECT {POLICY_COLUMNS} FROM policy_sets WHERE tenant_id = ? AND version = ?");
    let row: Option<PolicyRow> = sqlx::query_as(&sql)
        .bind(tenant.to_string())
        .bind(version)
        .fetch_optional(store.pool())
        .await
        .map_err(store_error)?;
    row.map(PolicyRow::into_policy_set).transpose()
}

/// The newest version, inside a read of the whole model.
pub(crate) async fn newest_policy_set(
    conn: &mut SqliteConnection,
    tenant: &str,
) -> Result<Option<PolicySet>, StoreError> {
    let sql = format!(
        "SELECT {POLICY_COLUMNS} FROM policy_sets WHERE tenant_id = ? \
         ORDER BY version DESC LIMIT 1"
    );
    let row: Option<PolicyRow> = sqlx::query_as(&sql)
        .bind(tenant)
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
    row.map(PolicyRow::into_policy_set).transpose()
}
