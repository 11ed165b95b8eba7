//! Ceremony challenges: single use (a conditional `UPDATE ... WHERE consumed_at IS NULL AND
//! expires_at > ?`, which exactly one of several concurrent consumers wins), expiring, found
//! by id or by the hash of their secret, pruned by expiry across tenants.

use crate::codec::{from_micros, id, micros, opt_from_micros, opt_id, opt_micros, variant};
use crate::error::{duplicate_of, store_error};
use crate::pool::SqliteStore;
use async_trait::async_trait;
use tessera_domain::mfa::{Challenge, ChallengeKind};
use tessera_domain::ports::{ChallengeStore, StoreError};
use tessera_domain::{ChallengeId, TenantId};
use time::OffsetDateTime;

const CHALLENGE_COLUMNS: &str = "tenant_id, id, kind, user_id, binding_hash, secret_hash, state, \
    created_at, expires_at, consumed_at";

#[derive(sqlx::FromRow)]
struct ChallengeRow {
    tenant_id: String,
    id: String,
    kind: String,
    user_id: Option<String>,
    binding_hash: String,
    secret_hash: Option<String>,
    state: String,
    created_at: i64,
    expires_at: i64,
    consumed_at: Option<i64>,
}

impl ChallengeRow {
    fn into_challenge(self) -> Result<Challenge, StoreError> {
        Ok(Challenge {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            kind: variant("challenge kind", &self.kind, ChallengeKind::parse)?,
            user_id: opt_id(self.user_id.as_deref())?,
            binding_hash: self.binding_hash,
            secret_hash: self.secret_hash,
            state: self.state,
            created_at: from_micros(self.created_at)?,
            expires_at: from_micros(self.expires_at)?,
            consumed_at: opt_from_micros(self.consumed_at)?,
        })
    }
}

#[async_trait]
impl ChallengeStore for SqliteStore {
    /// A secret hash already used in the tenant is `Duplicate { field: "secret_hash" }`; a
    /// user (or tenant) that does not exist is `NotFound`.
    async fn insert_challenge(&self, challenge: &Challenge) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO challenges ({CHALLENGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(&sql)
            .bind(challenge.tenant_id.to_string())
            .bind(challenge.id.to_string())
            .bind(challenge.kind.as_str())
            .bind(challenge.user_id.map(|u| u.to_string()))
            .bind(&challenge.binding_hash)
            .bind(challenge.secret_hash.as_deref())
            .bind(&challenge.state)
            .bind(micros(challenge.created_at)?)
            .bind(micros(challenge.expires_at)?)
            .bind(opt_micros(challenge.consumed_at)?)
            .execute(self.pool())
            .await
            .map_err(duplicate_of(
                "secret_hash",
                challenge.secret_hash.as_deref().unwrap_or_default(),
            ))?;
        Ok(())
    }

    async fn challenge(
        &self,
        tenant: TenantId,
        id: ChallengeId,
    ) -> Result<Option<Challenge>, StoreError> {
        let sql =
            format!("SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE tenant_id = ? AND id = ?");
        let row: Option<ChallengeRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(ChallengeRow::into_challenge).transpose()
    }

    async fn challenge_by_secret(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Challenge>, StoreError> {
        let sql = format!(
            "SELECT {CHALLENGE_COLUMNS} FROM challenges WHERE tenant_id = ? AND secret_hash = ?"
        );
        let row: Option<ChallengeRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(secret_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(ChallengeRow::into_challenge).transpose()
    }

    /// One statement in autocommit (it takes the write lock at once): the row changes only
    /// while unconsumed and `now < expires_at`.
    async fn consume_challenge(
        &self,
        tenant: TenantId,
        id: ChallengeId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let now = micros(now)?;
        let done = sqlx::query(
            "UPDATE challenges SET consumed_at = ? \
             WHERE tenant_id = ? AND id = ? AND consumed_at IS NULL AND expires_at > ?",
        )
        .bind(now)
        .bind(tenant.to_string())
        .bind(id.to_string())
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// Every tenant's challenges with `expires_at < before`, consumed or not.
    async fn prune_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM challenges WHERE expires_at < ?")
            .bind(micros(before)?)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        Ok(done.rows_affected())
    }
}
