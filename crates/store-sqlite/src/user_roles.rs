//! System-role assignments: one row per (user, role), stored as the role's key.

use crate::audit::append_journal;
use crate::codec::{micros, parse};
use crate::error::store_error;
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use std::cmp::Reverse;
use tessera_domain::ports::{Journal, RoleStore, StoreError};
use tessera_domain::role::SystemRole;
use tessera_domain::{TenantId, UserId};
use time::OffsetDateTime;

#[async_trait]
impl RoleStore for SqliteStore {
    /// Highest role first.
    async fn user_roles(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<SystemRole>, StoreError> {
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT role FROM user_roles WHERE tenant_id = ? AND user_id = ?")
                .bind(tenant.to_string())
                .bind(user.to_string())
                .fetch_all(self.pool())
                .await
                .map_err(store_error)?;
        let mut roles = keys
            .iter()
            .map(|key| parse("system role", key, SystemRole::parse))
            .collect::<Result<Vec<_>, _>>()?;
        roles.sort_by_key(|role| Reverse(*role));
        Ok(roles)
    }

    /// A role held already keeps its first grant's instant; the journal is appended either
    /// way.
    async fn grant_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: SystemRole,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query(
            "INSERT INTO user_roles (tenant_id, user_id, role, granted_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant.to_string())
        .bind(user.to_string())
        .bind(role.key())
        .bind(micros(at)?)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn revoke_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: SystemRole,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done =
            sqlx::query("DELETE FROM user_roles WHERE tenant_id = ? AND user_id = ? AND role = ?")
                .bind(tenant.to_string())
                .bind(user.to_string())
                .bind(role.key())
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }
}
