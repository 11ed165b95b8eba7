//! Ceremony challenges: single use (a conditional `UPDATE ... WHERE consumed_at IS NULL AND
//! expires_at > $now`, which exactly one of several concurrent consumers wins), expiring,
//! found by id or by the hash of their secret, pruned by expiry.
//!
//! Pruning is maintenance across tenants, but the application role sees a tenant's rows only
//! while the transaction names the tenant (forced row-level security; the role cannot bypass
//! it, by design). So it reads the tenant registry (no row-level security) and deletes tenant
//! by tenant, one short transaction each.

use crate::codec::variant;
use crate::error::{duplicate_of, store_error};
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use tessera_domain::mfa::{Challenge, ChallengeKind};
use tessera_domain::ports::{ChallengeStore, StoreError};
use tessera_domain::{ChallengeId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

const CHALLENGE_COLUMNS: &str = "tenant_id, id, kind, user_id, binding_hash, secret_hash, state, \
    created_at, expires_at, consumed_at";

/// Tenants read from the registry per round of pruning.
const PRUNE_TENANT_BATCH: i64 = 500;

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    tenant_id: Uuid,
    id: Uuid,
    kind: String,
    user_id: Option<Uuid>,
    binding_hash: String,
    secret_hash: Option<String>,
    state: String,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    consumed_at: Option<OffsetDateTime>,
}

impl ChallengeRow {
    fn into_challenge(self) -> Result<Challenge, StoreError> {
        Ok(Challenge {
            id: ChallengeId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            kind: variant("challenge kind", &self.kind, ChallengeKind::parse)?,
            user_id: self.user_id.map(UserId::from_uuid),
            binding_hash: self.binding_hash,
            secret_hash: self.secret_hash,
            state: self.state,
            created_at: self.created_at,
            expires_at: self.expires_at,
            consumed_at: self.consumed_at,
        })
    }
}

#[async_trait]
impl ChallengeStore for PostgresStore {
    /// A secret hash already used in the tenant is `Duplicate { field: "secret_hash" }`; a
    /// user (or tenant) that does not exist is `NotFound`.
    async fn insert_challenge(&self, challenge: &Challenge) -> Result<(), StoreError> {
        let tenant = challenge.tenant_id;
        let sql = format!(
            "INSERT INTO challenges ({CHALLENGE_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(challenge.id.as_uuid())
            .bind(challenge.kind.as_str())
            .bind(challenge.user_id.map(UserId::into_uuid))
            .bind(&challenge.binding_hash)
            .bind(challenge.secret_hash.as_deref())
            .bind(&challenge.state)
            .bind(challenge.created_at)
            .bind(challenge.expires_at)
            .bind(challenge.consumed_at)
            .execute(&mut *tx)
            .await
            .map_err(duplicate_of(
                "secret_hash",
                challenge.secret_hash.as_deref().unwrap_or_default(),
            ))?;
        commit(tx).await
    }

    async fn challenge(
        &self,
        tenant: TenantId,
        id: ChallengeId,
    ) -> Result<Option<Challenge>, StoreError> {
        let sql =
            format!("SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE tenant_id = $1 AND id = $2");
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<ChallengeRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        row.map(ChallengeRow::into_challenge).transpose()
    }

    async fn challenge_by_secret(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Challenge>, StoreError> {
        let sql = format!(
            "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE tenant_id = $1 AND secret_hash = $2"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<ChallengeRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(secret_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        row.map(ChallengeRow::into_challenge).transpose()
    }

    /// The row changes only while unconsumed and `now < expires_at`.
    async fn consume_challenge(
        &self,
        tenant: TenantId,
        id: ChallengeId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE challenges SET consumed_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND consumed_at IS NULL AND expires_at > $3",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every tenant's challenges with `expires_at < before`, consumed or not, tenant by
    /// tenant (see the module's note). A failure stops the walk; what was pruned before it
    /// stays pruned.
    async fn prune_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let mut pruned = 0;
        let mut after: Option<Uuid> = None;
        loop {
            let tenants: Vec<Uuid> = sqlx::query_scalar(
                "SELECT id FROM tenants WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2",
            )
            .bind(after)
            .bind(PRUNE_TENANT_BATCH)
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
            let Some(last) = tenants.last() else {
                break;
            };
            after = Some(*last);
            for tenant in tenants {
                let tenant = TenantId::from_uuid(tenant);
                let mut tx = self.tenant_tx(tenant).await?;
                let done =
                    sqlx::query("DELETE FROM challenges WHERE tenant_id = $1 AND expires_at < $2")
                        .bind(tenant.as_uuid())
                        .bind(before)
                        .execute(&mut *tx)
                        .await
                        .map_err(store_error)?;
                commit(tx).await?;
                pruned += done.rows_affected();
            }
        }
        Ok(pruned)
    }
}
