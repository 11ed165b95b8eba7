//! `tessera bootstrap`: organization, operator tenant, first administrator, API key and setup
//! token, written in one transaction.

use crate::api_keys::insert_key_row;
use crate::audit::append_journal;
use crate::codec::micros;
use crate::error::{duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use crate::tenants::{insert_organization, insert_tenant};
use crate::users::insert_user_rows;
use async_trait::async_trait;
use sqlx::SqliteConnection;
use tessera_domain::ports::{BootstrapSet, BootstrapStore, Journal, SetupToken, StoreError};

pub(crate) async fn insert_setup_token(
    conn: &mut SqliteConnection,
    token: &SetupToken,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO setup_tokens (tenant_id, id, user_id, token_hash, expires_at) \
         VALUES (?, ?, ?, ?, ?)",
    )
    .bind(token.tenant_id.to_string())
    .bind(token.id.to_string())
    .bind(token.user_id.to_string())
    .bind(&token.token_hash)
    .bind(micros(token.expires_at)?)
    .execute(&mut *conn)
    .await
    .map_err(duplicate_of("token_hash", &token.token_hash))?;
    Ok(())
}

#[async_trait]
impl BootstrapStore for SqliteStore {
    async fn bootstrap(&self, set: &BootstrapSet, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        // The slug decides "already bootstrapped" before anything else can clash.
        let taken: Option<i64> = sqlx::query_scalar("SELECT 1 FROM tenants WHERE slug = ?")
            .bind(set.tenant.slug.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        if taken.is_some() {
            return Err(StoreError::Duplicate {
                field: "slug",
                value: Some(set.tenant.slug.as_str().to_owned()),
            });
        }
        insert_organization(&mut tx, &set.organization).await?;
        insert_tenant(&mut tx, &set.tenant).await?;
        insert_user_rows(&mut tx, &set.admin).await?;
        insert_key_row(&mut tx, &set.api_key).await?;
        insert_setup_token(&mut tx, &set.setup_token).await?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }
}
