//! Admin API keys: looked up by the SHA-256 of their secret, scoped, revocable.

use crate::audit::append_journal;
use crate::codec::{
    cursor_id, fetch_limit, from_json, from_micros, id, into_page, micros, opt_from_micros, opt_id,
    opt_micros, page_limit, to_json,
};
use crate::error::{duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use sqlx::SqliteConnection;
use tessera_domain::api_key::ApiKey;
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::ports::{ApiKeyStore, Journal, StoreError};
use tessera_domain::{ApiKeyId, TenantId};
use time::OffsetDateTime;

const KEY_COLUMNS: &str = "tenant_id, id, name, secret_hash, scopes, created_by, created_at, \
                           expires_at, revoked_at, last_used_at";

#[derive(sqlx::FromRow)]
struct KeyRow {
    tenant_id: String,
    id: String,
    name: String,
    secret_hash: String,
    scopes: String,
    created_by: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl KeyRow {
    fn into_key(self) -> Result<ApiKey, StoreError> {
        Ok(ApiKey {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            name: self.name,
            secret_hash: self.secret_hash,
            scopes: from_json("api key scopes", &self.scopes)?,
            created_by: opt_id(self.created_by.as_deref())?,
            created_at: from_micros(self.created_at)?,
            expires_at: opt_from_micros(self.expires_at)?,
            revoked_at: opt_from_micros(self.revoked_at)?,
            last_used_at: opt_from_micros(self.last_used_at)?,
        })
    }
}

/// Inserts a key; scopes are stored as a JSON array of their names (`["users:read"]`).
pub(crate) async fn insert_key_row(
    conn: &mut SqliteConnection,
    key: &ApiKey,
) -> Result<(), StoreError> {
    let sql = format!("INSERT INTO api_keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    sqlx::query(&sql)
        .bind(key.tenant_id.to_string())
        .bind(key.id.to_string())
        .bind(&key.name)
        .bind(&key.secret_hash)
        .bind(to_json(&key.scopes)?)
        .bind(key.created_by.map(|u| u.to_string()))
        .bind(micros(key.created_at)?)
        .bind(opt_micros(key.expires_at)?)
        .bind(opt_micros(key.revoked_at)?)
        .bind(opt_micros(key.last_used_at)?)
        .execute(&mut *conn)
        .await
        .map_err(duplicate_of("secret_hash", &key.secret_hash))?;
    Ok(())
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn insert_api_key(&self, key: &ApiKey, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_key_row(&mut tx, key).await?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn api_key_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<ApiKey>, StoreError> {
        let sql =
            format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND secret_hash = ?");
        let row: Option<KeyRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(secret_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(KeyRow::into_key).transpose()
    }

    async fn api_key(&self, tenant: TenantId, id: ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND id = ?");
        let row: Option<KeyRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
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
            "SELECT {KEY_COLUMNS} FROM api_keys WHERE tenant_id = ? AND id > ? ORDER BY id LIMIT ?"
        );
        let rows: Vec<KeyRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(after.unwrap_or_default())
            .bind(fetch_limit(limit))
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
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
        // One statement in autocommit: it takes the write lock at once, no upgrade to fail.
        let done =
            sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE tenant_id = ? AND id = ?")
                .bind(micros(at)?)
                .bind(tenant.to_string())
                .bind(id.to_string())
                .execute(self.pool())
                .await
                .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn revoke_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = ? \
             WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL",
        )
        .bind(micros(at)?)
        .bind(tenant.to_string())
        .bind(id.to_string())
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
