//! Role assignments: a role (system or custom, by key) held by a user within a scope. One row
//! per (user, role, scope); a unit scope names its unit through a foreign key.

use crate::authz_rows::{AssignmentRow, role_columns, scope_columns};
use crate::codec::micros;
use crate::epochs::append_authz_journal;
use crate::error::store_error;
use crate::pool::{SqliteStore, commit};
use tessera_domain::authz::{AccessScope, RoleAssignment, RoleRef};
use tessera_domain::ports::{Journal, StoreError};
use tessera_domain::{TenantId, UserId};

/// Ordered by role key, then scope (the domain's order of scopes).
pub(crate) async fn user_roles(
    store: &SqliteStore,
    tenant: TenantId,
    user: UserId,
) -> Result<Vec<RoleAssignment>, StoreError> {
    let rows: Vec<AssignmentRow> = sqlx::query_as(
        "SELECT user_id, role, scope, granted_at FROM role_assignments \
         WHERE tenant_id = ? AND user_id = ?",
    )
    .bind(tenant.to_string())
    .bind(user.to_string())
    .fetch_all(store.pool())
    .await
    .map_err(store_error)?;
    let mut roles = rows
        .into_iter()
        .map(AssignmentRow::into_assignment)
        .collect::<Result<Vec<_>, _>>()?;
    roles.sort_by(|a, b| (a.role.key(), &a.scope).cmp(&(b.role.key(), &b.scope)));
    Ok(roles)
}

/// An assignment held already keeps its first grant's instant; the journal is appended (and
/// the epoch advanced) either way. A missing user, custom role or unit fails a foreign key:
/// `NotFound`.
pub(crate) async fn grant_role(
    store: &SqliteStore,
    tenant: TenantId,
    assignment: &RoleAssignment,
    journal: &Journal,
) -> Result<(), StoreError> {
    let (role, custom_role) = role_columns(&assignment.role);
    let (scope, unit) = scope_columns(&assignment.scope);
    let mut tx = store.write().await?;
    sqlx::query(
        "INSERT INTO role_assignments \
         (tenant_id, user_id, role, scope, custom_role, unit_id, granted_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(tenant.to_string())
    .bind(assignment.user_id.to_string())
    .bind(role)
    .bind(scope)
    .bind(custom_role)
    .bind(unit)
    .bind(micros(assignment.granted_at)?)
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}

pub(crate) async fn revoke_role(
    store: &SqliteStore,
    tenant: TenantId,
    user: UserId,
    role: &RoleRef,
    scope: &AccessScope,
    journal: &Journal,
) -> Result<(), StoreError> {
    let mut tx = store.write().await?;
    let done = sqlx::query(
        "DELETE FROM role_assignments \
         WHERE tenant_id = ? AND user_id = ? AND role = ? AND scope = ?",
    )
    .bind(tenant.to_string())
    .bind(user.to_string())
    .bind(role.key())
    .bind(scope.to_string())
    .execute(&mut *tx)
    .await
    .map_err(store_error)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    append_authz_journal(&mut tx, tenant, journal).await?;
    commit(tx).await
}

/// Distinct users holding the role in any scope.
pub(crate) async fn role_holders(
    store: &SqliteStore,
    tenant: TenantId,
    role: &RoleRef,
) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(DISTINCT user_id) FROM role_assignments WHERE tenant_id = ? AND role = ?",
    )
    .bind(tenant.to_string())
    .bind(role.key())
    .fetch_one(store.pool())
    .await
    .map_err(store_error)?;
    Ok(n.unsigned_abs())
}
