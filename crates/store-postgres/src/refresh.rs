//! Refresh-token families: every token a family issued is kept (its hash and generation);
//! only the current generation's token rotates the family. Rotation is a conditional update
//! (`... WHERE generation = $g AND revoked_at IS NULL`), so of several concurrent
//! presentations of one token exactly one moves the family on; the first loser revokes it
//! (also conditionally, so the replay is journaled once) and the rest find it revoked.

use crate::audit::append_journal;
use crate::error::store_error;
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_domain::ports::{Journal, RefreshStore, StoreError};
use tessera_domain::token::{RefreshFamily, RefreshOutcome};
use tessera_domain::{RefreshFamilyId, SessionId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

const FAMILY_COLUMNS: &str = "tenant_id, id, user_id, session_id, client_id, scope, generation, \
    created_at, expires_at, revoked_at";

#[derive(sqlx::FromRow)]
struct FamilyRow {
    tenant_id: Uuid,
    id: Uuid,
    user_id: Uuid,
    session_id: Option<Uuid>,
    client_id: String,
    scope: String,
    generation: i64,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    revoked_at: Option<OffsetDateTime>,
}

impl From<FamilyRow> for RefreshFamily {
    fn from(row: FamilyRow) -> Self {
        RefreshFamily {
            id: RefreshFamilyId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            user_id: UserId::from_uuid(row.user_id),
            session_id: row.session_id.map(SessionId::from_uuid),
            client_id: row.client_id,
            scope: row.scope,
            generation: row.generation,
            created_at: row.created_at,
            expires_at: row.expires_at,
            revoked_at: row.revoked_at,
        }
    }
}

/// A family with the generation of the presented token.
#[derive(sqlx::FromRow)]
struct PresentedRow {
    #[sqlx(flatten)]
    family: FamilyRow,
    token_generation: i64,
}

/// Stores the family and its current generation's token.
pub(crate) async fn insert_family_rows(
    conn: &mut PgConnection,
    family: &RefreshFamily,
    token_hash: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_families (tenant_id, id, user_id, session_id, client_id, scope, \
         generation, created_at, expires_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(family.tenant_id.as_uuid())
    .bind(family.id.as_uuid())
    .bind(family.user_id.as_uuid())
    .bind(family.session_id.map(SessionId::into_uuid))
    .bind(&family.client_id)
    .bind(&family.scope)
    .bind(family.generation)
    .bind(family.created_at)
    .bind(family.expires_at)
    .bind(family.revoked_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    insert_token(
        conn,
        family.tenant_id,
        family.id,
        family.generation,
        token_hash,
        family.created_at,
    )
    .await
}

async fn insert_token(
    conn: &mut PgConnection,
    tenant: TenantId,
    family: RefreshFamilyId,
    generation: i64,
    token_hash: &str,
    issued_at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO refresh_tokens (tenant_id, token_hash, family_id, generation, issued_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(tenant.as_uuid())
    .bind(token_hash)
    .bind(family.as_uuid())
    .bind(generation)
    .bind(issued_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Revokes the live families issued in these sessions.
pub(crate) async fn revoke_families_of_sessions(
    conn: &mut PgConnection,
    tenant: TenantId,
    sessions: &[Uuid],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    if sessions.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = $3 \
         WHERE tenant_id = $1 AND session_id = ANY($2) AND revoked_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(sessions)
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Revokes every family of the user not revoked yet (bound to a session or not).
pub(crate) async fn revoke_families_of_user(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE refresh_families SET revoked_at = $3 \
         WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(user.as_uuid())
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Revokes the family (keeping the first revocation's instant) and returns it.
async fn revoke_family(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: Uuid,
    at: OffsetDateTime,
) -> Result<Option<RefreshFamily>, StoreError> {
    let sql = format!(
        "UPDATE refresh_families SET revoked_at = COALESCE(revoked_at, $3) \
         WHERE tenant_id = $1 AND id = $2 RETURNING {FAMILY_COLUMNS}"
    );
    let row: Option<FamilyRow> = sqlx::query_as(&sql)
        .bind(tenant.as_uuid())
        .bind(id)
        .bind(at)
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(row.map(RefreshFamily::from))
}

#[async_trait]
impl RefreshStore for PostgresStore {
    async fn insert_refresh_family(
        &self,
        family: &RefreshFamily,
        token_hash: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(family.tenant_id).await?;
        insert_family_rows(&mut tx, family, token_hash).await?;
        commit(tx).await
    }

    /// Judged on the family as the presentation finds it: unknown, expired (the end itself
    /// included) or revoked → `Invalid`. The current generation's token rotates the family by
    /// a conditional update; an older generation's token, or losing that update to a
    /// concurrent rotation, revokes the family, again conditionally: the presentation that
    /// revokes it is `Reused` (and appends `on_reuse`), one that finds it already revoked is
    /// `Invalid`. So a replay is journaled once.
    async fn rotate_refresh(
        &self,
        tenant: TenantId,
        presented_hash: &str,
        new_hash: &str,
        now: OffsetDateTime,
        on_reuse: &Journal,
    ) -> Result<RefreshOutcome, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let sql = format!(
            "SELECT f.{}, t.generation AS token_generation \
             FROM refresh_tokens t JOIN refresh_families f \
               ON f.tenant_id = t.tenant_id AND f.id = t.family_id \
             WHERE t.tenant_id = $1 AND t.token_hash = $2",
            FAMILY_COLUMNS.replace(", ", ", f.")
        );
        let presented: Option<PresentedRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(presented_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        let Some(PresentedRow {
            family,
            token_generation,
        }) = presented
        else {
            commit(tx).await?;
            return Ok(RefreshOutcome::Invalid);
        };
        if family.revoked_at.is_some() || now >= family.expires_at {
            commit(tx).await?;
            return Ok(RefreshOutcome::Invalid);
        }
        let id = family.id;
        if token_generation >= family.generation {
            // Waits for a concurrent change of the same row, then re-checks the condition on
            // the row it committed.
            let sql = format!(
                "UPDATE refresh_families SET generation = generation + 1 \
                 WHERE tenant_id = $1 AND id = $2 AND generation = $3 \
                   AND revoked_at IS NULL AND expires_at > $4 \
                 RETURNING {FAMILY_COLUMNS}"
            );
            let rotated: Option<FamilyRow> = sqlx::query_as(&sql)
                .bind(tenant.as_uuid())
                .bind(id)
                .bind(token_generation)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
            if let Some(row) = rotated {
                let family = RefreshFamily::from(row);
                insert_token(&mut tx, tenant, family.id, family.generation, new_hash, now).await?;
                commit(tx).await?;
                return Ok(RefreshOutcome::Rotated(family));
            }
        }
        // An older generation, or a rotation lost to a concurrent change: a replay, unless
        // the family was revoked meanwhile.
        let sql = format!(
            "UPDATE refresh_families SET revoked_at = $3 \
             WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL \
             RETURNING {FAMILY_COLUMNS}"
        );
        let revoked: Option<FamilyRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(id)
            .bind(now)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        let Some(revoked) = revoked else {
            commit(tx).await?;
            return Ok(RefreshOutcome::Invalid);
        };
        append_journal(&mut tx, on_reuse, Some(tenant)).await?;
        commit(tx).await?;
        Ok(RefreshOutcome::Reused(revoked.into()))
    }

    async fn refresh_family_by_hash(
        &self,
        tenant: TenantId,
        token_hash: &str,
    ) -> Result<Option<RefreshFamily>, StoreError> {
        let sql = format!(
            "SELECT {FAMILY_COLUMNS} FROM refresh_families \
             WHERE tenant_id = $1 AND id = \
               (SELECT family_id FROM refresh_tokens WHERE tenant_id = $1 AND token_hash = $2)"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<FamilyRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(token_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        Ok(row.map(RefreshFamily::from))
    }

    /// A second revocation keeps the first one's instant (and still appends its journal).
    async fn revoke_refresh_family(
        &self,
        tenant: TenantId,
        id: RefreshFamilyId,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        if revoke_family(&mut tx, tenant, id.into_uuid(), at)
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }
}
