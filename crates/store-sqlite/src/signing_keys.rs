//! Per-tenant signing keys: at most one current key (a partial unique index), rotation that
//! checks which key is current before retiring it, pruning of keys no longer published.

use crate::audit::append_journal;
use crate::codec::{
    from_json, from_micros, id, micros, opt_from_micros, opt_micros, to_json, variant,
};
use crate::error::{duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use tessera_domain::TenantId;
use tessera_domain::ports::{Journal, SigningKeyStore, StoreError};
use tessera_domain::token::{SigningAlgorithm, SigningKey};
use time::OffsetDateTime;

const KEY_COLUMNS: &str =
    "tenant_id, kid, alg, public_jwk, private_sealed, created_at, retired_at, publish_until";

#[derive(sqlx::FromRow)]
struct KeyRow {
    tenant_id: String,
    kid: String,
    alg: String,
    public_jwk: String,
    private_sealed: Vec<u8>,
    created_at: i64,
    retired_at: Option<i64>,
    publish_until: Option<i64>,
}

impl KeyRow {
    fn into_key(self) -> Result<SigningKey, StoreError> {
        Ok(SigningKey {
            tenant_id: id(&self.tenant_id)?,
            alg: variant("signing algorithm", &self.alg, SigningAlgorithm::parse)?,
            kid: self.kid,
            public_jwk: from_json("public JWK", &self.public_jwk)?,
            private_sealed: self.private_sealed,
            created_at: from_micros(self.created_at)?,
            retired_at: opt_from_micros(self.retired_at)?,
            publish_until: opt_from_micros(self.publish_until)?,
        })
    }
}

#[async_trait]
impl SigningKeyStore for SqliteStore {
    async fn signing_keys(&self, tenant: TenantId) -> Result<Vec<SigningKey>, StoreError> {
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM signing_keys WHERE tenant_id = ? \
             ORDER BY created_at DESC, kid DESC"
        );
        let rows: Vec<KeyRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        rows.into_iter().map(KeyRow::into_key).collect()
    }

    /// A `kid` already used in the tenant is `Duplicate { field: "kid" }`.
    async fn add_signing_key(
        &self,
        key: &SigningKey,
        retire: Option<(&str, OffsetDateTime)>,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let tenant = key.tenant_id.to_string();
        let mut tx = self.write().await?;
        let current: Option<String> = sqlx::query_scalar(
            "SELECT kid FROM signing_keys WHERE tenant_id = ? AND retired_at IS NULL",
        )
        .bind(&tenant)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        if current.as_deref() != retire.map(|(kid, _)| kid) {
            return Err(StoreError::Conflict);
        }
        if let Some((kid, publish_until)) = retire {
            sqlx::query(
                "UPDATE signing_keys SET retired_at = ?, publish_until = ? \
                 WHERE tenant_id = ? AND kid = ? AND retired_at IS NULL",
            )
            .bind(micros(key.created_at)?)
            .bind(micros(publish_until)?)
            .bind(&tenant)
            .bind(kid)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        let sql =
            format!("INSERT INTO signing_keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
        sqlx::query(&sql)
            .bind(&tenant)
            .bind(&key.kid)
            .bind(key.alg.as_str())
            .bind(to_json(&key.public_jwk)?)
            .bind(&key.private_sealed)
            .bind(micros(key.created_at)?)
            .bind(opt_micros(key.retired_at)?)
            .bind(opt_micros(key.publish_until)?)
            .execute(&mut *tx)
            .await
            .map_err(duplicate_of("kid", &key.kid))?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    /// A retired key is no longer published once `publish_until` (or, without one, its
    /// retirement) is not after `now`.
    async fn prune_signing_keys(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM signing_keys WHERE tenant_id = ? AND retired_at IS NOT NULL \
             AND (publish_until IS NULL OR publish_until <= ?)",
        )
        .bind(tenant.to_string())
        .bind(micros(now)?)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected())
    }
}
