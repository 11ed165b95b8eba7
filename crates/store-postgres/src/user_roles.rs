//! System-role assignments of users (not to be confused with `roles.rs`, the database role
//! the application runs as): one row per (user, role), stored as the role's key.

use crate::audit::append_journal;
use crate::codec::parse;
use crate::error::store_error;
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use std::cmp::Reverse;
use tessera_domain::ports::{Journal, RoleStore, StoreError};
use tessera_domain::role::SystemRole;
use tessera_domain::{TenantId, UserId};
use time::OffsetDateTime;

#[async_trait]
impl RoleStore for PostgresStore {
    /// Highest role first.
    async fn user_roles(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<SystemRole>, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let keys: Vec<String> =
            sqlx::query_scalar("SELECT role FROM user_roles WHERE tenant_id = $1 AND user_id = $2")
                .bind(tenant.as_uuid())
                .bind(user.as_uuid())
                .fetch_all(&mut *tx)
                .await
                .map_err(store_error)?;
        commit(tx).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query(
            "INSERT INTO user_roles (tenant_id, user_id, role, granted_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(role.key())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }

    async fn revoke_role(
        &self,
        tenant: TenantId,
        user: UserId,
        role: SystemRole,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "DELETE FROM user_roles WHERE tenant_id = $1 AND user_id = $2 AND role = $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(role.key())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }
}
