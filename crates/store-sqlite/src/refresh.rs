//! Refresh-token families: every token a family had is kept by hash with its generation;
//! only the family's current generation rotates, an older one revokes the family.

use crate::audit::append_journal;
use crate::codec::{from_micros, id, micros, opt_from_micros, opt_id, opt_micros, to_json};
use crate::error::{duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use sqlx::SqliteConnection;
use tessera_domain::ports::{Journal, RefreshStore, StoreError};
use tessera_domain::token::{RefreshFamily, RefreshOutcome};
use tessera_domain::{RefreshFamilyId, TenantId};
use time::OffsetDateTime;

const FAMILY_COLUMNS: &str = "tenant_id, id, user_id, session_id, client_id, scope, generation, \
    created_at, expires_at, revoked_at";

#[derive(sqlx::FromRow)]
struct FamilyRow {
    tenant_id: String,
    id: String,
    user_id: String,
    session_id: Option<String>,
    client_id: String,
    scope: String,
    generation: i64,
    created_at: i64,
    expires_at: i64,
    revoked_at: Option<i64>,
}

impl FamilyRow {
    fn into_family(self) -> Result<RefreshFamily, StoreError> {
        Ok(RefreshFamily {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            user_id: id(&self.user_id)?,
            session_id: opt_id(self.session_id.as_deref())?,
            client_id: self.client_id,
            scope: self.scope,
            generation: self.generation,
            created_at: from_micros(self.created_at)?,
            expires_at: from_micros(self.expires_at)?,
            revoked_at: opt_from_micros(self.revoked_at)?,
        })
    }
}

/// Inserts the family and its token of the family's current generation.
pub(crate) async fn insert_family_rows(
    conn: &mut SqliteConnection,
    family: &RefreshFamily,
    token_hash: &str,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO refresh_families ({FAMILY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    sqlx::query(&sql)
        .bind(family.tenant_id.to_string())
        .bind(family.id.to_string())
        .bind(family.user_id.to_string())
        .bind(family.session_id.map(|s| s.to_string()))
        .bind(&family.client_id)
        .bind(&family.scope)
        .bind(family.generation)
        .bind(micros(family.created_at)?)
        .bind(micros(family.expires_at)?)
        .bind(opt_micros(family.revoked_at)?)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    insert_token_row(
        conn,
        &family.tenant_id.to_string(),
        &family.id.to_string(),
        family.generation,
        token_hash,
    )
    .await
}

async fn insert_token_row(
    conn: &mut SqliteConnection,
    tenant: &str,
    family: &str,
    generation: i64,
    token_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (tenant_id, token_hash, family_id, generation) \
         VALUES (?, ?, ?, ?)",
    )
    .bind(tenant)
    .bind(token_hash)
    .bind(family)
    .bind(generation)
    .execute(&mut *conn)
    .await
    .map_err(duplicate_of("token_hash", token_hash))?;
    Ok(())
}

/// Revokes (at `at`) the families issued in these sessions that are not revoked yet.
pub(crate) async fn revoke_session_families(
    conn: &mut SqliteConnection,
    tenant: &str,
    sessions: &[String],
    at: i64,
) -> Result<(), StoreError> {
    if sessions.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = ? \
         WHERE tenant_id = ? AND revoked_at IS NULL \
         AND session_id IN (SELECT value FROM json_each(?))",
    )
    .bind(at)
    .bind(tenant)
    .bind(to_json(sessions)?)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Revokes (at `at`) every family of the user that is not revoked yet.
pub(crate) async fn revoke_user_families(
    conn: &mut SqliteConnection,
    tenant: &str,
    user: &str,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = ? \
         WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(tenant)
    .bind(user)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// The family of a token and the token's generation.
async fn family_of_token(
    conn: &mut SqliteConnection,
    tenant: &str,
    token_hash: &str,
) -> Result<Option<(RefreshFamily, i64)>, StoreError> {
    let row: Option<TokenRow> = sqlx::query_as(
        "SELECT f.tenant_id, f.id, f.user_id, f.session_id, f.client_id, f.scope, \
         f.generation, f.created_at, f.expires_at, f.revoked_at, \
         t.generation AS token_generation \
         FROM refresh_tokens t \
         JOIN refresh_families f ON f.tenant_id = t.tenant_id AND f.id = t.family_id \
         WHERE t.tenant_id = ? AND t.token_hash = ?",
    )
    .bind(tenant)
    .bind(token_hash)
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?;
    row.map(|r| Ok((r.family.into_family()?, r.token_generation)))
        .transpose()
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    #[sqlx(flatten)]
    family: FamilyRow,
    token_generation: i64,
}

#[async_trait]
impl RefreshStore for SqliteStore {
    async fn insert_refresh_family(
        &self,
        family: &RefreshFamily,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_family_rows(&mut tx, family, token_hash).await?;
        commit(tx).await
    }

    /// One `BEGIN IMMEDIATE` transaction, so presentations of one family are serialised: the
    /// first presenter of the current generation rotates; a later presenter of that same
    /// token now holds an older generation and revokes the family (`Reused`); after that
    /// the family is revoked and every token is `Invalid` (so `on_reuse` is appended once).
    /// The generation move is also conditional (`WHERE generation = ? AND revoked_at IS
    /// NULL`), so the exactly-once rule does not rest on the lock alone.
    async fn rotate_refresh(
        &self,
        tenant: TenantId,
        presented_hash: &str,
        new_hash: &str,
        now: OffsetDateTime,
        on_reuse: &Journal,
    ) -> Result<RefreshOutcome, StoreError> {
        let tenant = tenant.to_string();
        let now_us = micros(now)?;
        let mut tx = self.write().await?;
        let Some((family, generation)) = family_of_token(&mut tx, &tenant, presented_hash).await?
        else {
            return Ok(RefreshOutcome::Invalid);
        };
        if family.revoked_at.is_some() || now >= family.expires_at {
            return Ok(RefreshOutcome::Invalid);
        }
        let family_id = family.id.to_string();
        if generation == family.generation {
            let moved = sqlx::query(
                "UPDATE refresh_families SET generation = generation + 1 \
                 WHERE tenant_id = ? AND id = ? AND generation = ? AND revoked_at IS NULL",
            )
            .bind(&tenant)
            .bind(&family_id)
            .bind(generation)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
            if moved.rows_affected() == 1 {
                let next = generation + 1;
                insert_token_row(&mut tx, &tenant, &family_id, next, new_hash).await?;
                commit(tx).await?;
                return Ok(RefreshOutcome::Rotated(RefreshFamily {
                    generation: next,
                    ..family
                }));
            }
        }
        // An older generation, or a rotation lost to another presenter.
        let revoked = sqlx::query(
            "UPDATE refresh_families SET revoked_at = ? \
             WHERE tenant_id = ? AND id = ? AND revoked_at IS NULL",
        )
        .bind(now_us)
        .bind(&tenant)
        .bind(&family_id)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if revoked.rows_affected() == 0 {
            return Ok(RefreshOutcome::Invalid);
        }
        append_journal(&mut tx, on_reuse).await?;
        commit(tx).await?;
        // The family was read under the write lock: its generation is the current one.
        Ok(RefreshOutcome::Reused(RefreshFamily {
            revoked_at: Some(from_micros(now_us)?),
            ..family
        }))
    }

    async fn refresh_family_by_hash(
        &self,
        tenant: TenantId,
        token_hash: &str,
    ) -> Result<Option<RefreshFamily>, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        Ok(family_of_token(&mut conn, &tenant.to_string(), token_hash)
            .await?
            .map(|(family, _)| family))
    }

    async fn revoke_refresh_family(
        &self,
        tenant: TenantId,
        id: RefreshFamilyId,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        // A second revocation keeps the first instant.
        let done = sqlx::query(
            "UPDATE refresh_families SET revoked_at = coalesce(revoked_at, ?) \
             WHERE tenant_id = ? AND id = ?",
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
