//! `tessera bootstrap`: organization, operator tenant, first administrator, API key and setup
//! token, written in one transaction.

use crate::api_keys::insert_key_row;
use crate::audit::append_journal;
use crate::error::duplicate_of;
use crate::pool::{PostgresStore, commit};
use crate::tenants::{insert_organization, insert_tenant};
use crate::users::insert_user_rows;
use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_domain::ports::{BootstrapSet, BootstrapStore, Journal, SetupToken, StoreError};

async fn insert_setup_token(conn: &mut PgConnection, token: &SetupToken) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO setup_tokens (tenant_id, id, user_id, token_hash, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token.tenant_id.as_uuid())
    .bind(token.id.as_uuid())
    .bind(token.user_id.as_uuid())
    .bind(&token.token_hash)
    .bind(token.expires_at)
    .execute(&mut *conn)
    .await
    .map_err(duplicate_of("token_hash", &token.token_hash))?;
    Ok(())
}

#[async_trait]
impl BootstrapStore for PostgresStore {
    async fn bootstrap(&self, set: &BootstrapSet, journal: &Journal) -> Result<(), StoreError> {
        // Organizations and tenants have no row-level security; the rest belongs to the new
        // tenant, which the transaction is set to from the start.
        let tenant = set.tenant.id;
        let mut tx = self.tenant_tx(tenant).await?;
        // The slug goes first: when it is taken, that is what the caller must hear.
        insert_tenant_first(&mut tx, set).await?;
        insert_user_rows(&mut tx, &set.admin).await?;
        insert_key_row(&mut tx, &set.api_key).await?;
        insert_setup_token(&mut tx, &set.setup_token).await?;
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }
}

/// Inserts the organization and the tenant; `Duplicate { field: "slug" }` wins over a clash
/// of the organization id.
async fn insert_tenant_first(
    conn: &mut PgConnection,
    set: &BootstrapSet,
) -> Result<(), StoreError> {
    let taken: Option<i32> = sqlx::query_scalar("SELECT 1 FROM tenants WHERE slug = $1")
        .bind(set.tenant.slug.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(crate::error::store_error)?;
    if taken.is_some() {
        return Err(StoreError::Duplicate {
            field: "slug",
            value: Some(set.tenant.slug.as_str().to_owned()),
        });
    }
    insert_organization(conn, &set.organization).await?;
    insert_tenant(conn, &set.tenant).await
}
