//! Per-tenant signing keys. At most one key per tenant is current (a partial unique index);
//! a rotation retires the key it names with a conditional update, so of two nodes rotating
//! at once one wins and the other gets `Conflict`.

use crate::audit::append_journal;
use crate::codec::{from_json, to_json, variant};
use crate::error::store_error;
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use tessera_domain::TenantId;
use tessera_domain::ports::{Journal, SigningKeyStore, StoreError};
use tessera_domain::token::{SigningAlgorithm, SigningKey};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct KeyRow {
    tenant_id: Uuid,
    kid: String,
    alg: String,
    public_jwk: String,
    private_sealed: Vec<u8>,
    created_at: OffsetDateTime,
    retired_at: Option<OffsetDateTime>,
    publish_until: Option<OffsetDateTime>,
}

impl KeyRow {
    fn into_key(self) -> Result<SigningKey, StoreError> {
        Ok(SigningKey {
            tenant_id: TenantId::from_uuid(self.tenant_id),
            kid: self.kid,
            alg: variant("signing algorithm", &self.alg, SigningAlgorithm::parse)?,
            public_jwk: from_json("public JWK", &self.public_jwk)?,
            private_sealed: self.private_sealed,
            created_at: self.created_at,
            retired_at: self.retired_at,
            publish_until: self.publish_until,
        })
    }
}

/// A unique violation of the one-current-key index means another node made a key current
/// first.
fn insert_error(error: sqlx::Error) -> StoreError {
    let current = error
        .as_database_error()
        .and_then(|db| db.constraint())
        .is_some_and(|c| c == "signing_keys_current_unique");
    if current {
        StoreError::Conflict
    } else {
        store_error(error)
    }
}

#[async_trait]
impl SigningKeyStore for PostgresStore {
    async fn signing_keys(&self, tenant: TenantId) -> Result<Vec<SigningKey>, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT tenant_id, kid, alg, public_jwk, private_sealed, created_at, retired_at, \
             publish_until FROM signing_keys WHERE tenant_id = $1 \
             ORDER BY created_at DESC, kid DESC",
        )
        .bind(tenant.as_uuid())
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        rows.into_iter().map(KeyRow::into_key).collect()
    }

    async fn add_signing_key(
        &self,
        key: &SigningKey,
        retire: Option<(&str, OffsetDateTime)>,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let tenant = key.tenant_id;
        let mut tx = self.tenant_tx(tenant).await?;
        match retire {
            Some((kid, publish_until)) => {
                // Waits for a concurrent rotation, then finds the key no longer current.
                let done = sqlx::query(
                    "UPDATE signing_keys SET retired_at = $3, publish_until = $4 \
                     WHERE tenant_id = $1 AND kid = $2 AND retired_at IS NULL",
                )
                .bind(tenant.as_uuid())
                .bind(kid)
                .bind(key.created_at)
                .bind(publish_until)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
                if done.rows_affected() != 1 {
                    return Err(StoreError::Conflict);
                }
            }
            None => {
                // Claimed to be the first key: any current key proves otherwise (and a
                // concurrent first key is caught by the unique index below).
                let current: Option<String> = sqlx::query_scalar(
                    "SELECT kid FROM signing_keys WHERE tenant_id = $1 AND retired_at IS NULL",
                )
                .bind(tenant.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
                if current.is_some() {
                    return Err(StoreError::Conflict);
                }
            }
        }
        sqlx::query(
            "INSERT INTO signing_keys (tenant_id, kid, alg, public_jwk, private_sealed, \
             created_at, retired_at, publish_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(tenant.as_uuid())
        .bind(&key.kid)
        .bind(key.alg.as_str())
        .bind(to_json(&key.public_jwk)?)
        .bind(&key.private_sealed)
        .bind(key.created_at)
        .bind(key.retired_at)
        .bind(key.publish_until)
        .execute(&mut *tx)
        .await
        .map_err(insert_error)?;
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }

    async fn prune_signing_keys(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "DELETE FROM signing_keys WHERE tenant_id = $1 AND retired_at IS NOT NULL \
             AND (publish_until IS NULL OR publish_until <= $2)",
        )
        .bind(tenant.as_uuid())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        Ok(done.rows_affected())
    }
}
