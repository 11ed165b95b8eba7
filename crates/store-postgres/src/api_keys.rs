//! Admin API keys: looked up by the SHA-256 of their secret, scoped, revocable.

use crate::audit::append_journal;
use crate::codec::{cursor_id, fetch_limit, from_json, into_page, page_limit, to_json};
use crate::error::{duplicate_of, store_error};
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_domain::api_key::ApiKey;
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::ports::{ApiKeyStore, Journal, StoreError};
use tessera_domain::{ApiKeyId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

const KEY_COLUMNS: &str = "tenant_id, id, name, secret_hash, scopes, created_by, created_at, \
                           expires_at, revoked_at, last_used_at";

#[derive(sqlx::FromRow)]
struct KeyRow {
    tenant_id: Uuid,
    id: Uuid,
    name: String,
    secret_hash: String,
    scopes: String,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    expires_at: Option<OffsetDateTime>,
    revoked_at: Option<OffsetDateTime>,
    last_used_at: Option<OffsetDateTime>,
}

impl KeyRow {
    fn into_key(self) -> Result<ApiKey, StoreError> {
        Ok(ApiKey {
            id: ApiKeyId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            name: self.name,
            secret_hash: self.secret_hash,
            scopes: from_json("api key scopes", &self.scopes)?,
            created_by: self.created_by.map(UserId::from_uuid),
            created_at: self.created_at,
            expires_at: self.expires_at,
            revoked_at: self.revoked_at,
            last_used_at: self.last_used_at,
        })
    }
}

/// Inserts a key; scopes are stored as a JSON array of their names (`["users:read"]`).
pub(crate) async fn insert_key_row(
    conn: &mut PgConnection,
    key: &ApiKey,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO api_keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    sqlx::query(&sql)
        .bind(key.tenant_id.as_uuid())
        .bind(key.id.as_uuid())
        .bind(&key.name)
        .bind(&key.secret_hash)
        .bind(to_json(&key.scopes)?)
        .bind(key.created_by.map(UserId::into_uuid))
        .bind(key.created_at)
        .bind(key.expires_at)
        .bind(key.revoked_at)
        .bind(key.last_used_at)
        .execute(&mut *conn)
        .await
        .map_err(duplicate_of("secret_hash", &key.secret_hash))?;
    Ok(())
}

#[async_trait]
impl ApiKeyStore for PostgresStore {
    async fn insert_api_key(&self, key: &ApiKey, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(key.tenant_id).await?;
        insert_key_row(&mut tx, key).await?;
        append_journal(&mut tx, journal, Some(key.tenant_id)).await?;
        commit(tx).await
    }

    async fn api_key_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<ApiKey>, StoreError> {
        let sql =
            format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND secret_hash = $2");
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<KeyRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(secret_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        row.map(KeyRow::into_key).transpose()
    }

    async fn api_key(&self, tenant: TenantId, id: ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 AND id = $2");
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<KeyRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        row.map(KeyRow::into_key).transpose()
    }

    async fn list_api_keys(
        &self,
        tenant: TenantId,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<ApiKey>, StoreError> {
        let limit = page_limit(limit);
        let after = after.map(|c| cursor_id(&c.id)).transpose()?;
        let sql = format!(
            "SELECT {KEY_COLUMNS} FROM api_keys \
             WHERE tenant_id = $1 AND ($2::uuid IS NULL OR id > $2) ORDER BY id LIMIT $3"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<KeyRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(after)
            .bind(fetch_limit(limit))
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        let keys = rows
            .into_iter()
            .map(KeyRow::into_key)
            .collect::<Result<Vec<_>, _>>()?;
        into_page(keys, limit, |k| {
            Ok(Cursor {
                key: k.id.to_string(),
                id: k.id.to_string(),
            })
        })
    }

    async fn touch_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done =
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE tenant_id = $2 AND id = $3")
                .bind(at)
                .bind(tenant.as_uuid())
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        commit(tx).await
    }

    async fn revoke_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 \
             WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
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
