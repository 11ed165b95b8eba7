//! Server-side sessions: found by the hash of their secret, limited per user, elevated after
//! a further authentication (the restriction lifted, `amr`/`acr`/`auth_time` and the end
//! replaced, the first refresh token stored), ended one by one, all but one, or all at once
//! (with the refresh-token families issued in them).
//!
//! A session is live while it is not revoked and not past its absolute end (the idle timeout
//! is the caller's business: it is checked on use). Every change of a user's sessions first
//! locks the user's row, so concurrent sign-ins keep the per-user limit and concurrent ends
//! cannot deadlock on the session rows.

use crate::audit::append_journal;
use crate::codec::variant;
use crate::error::{store_error, unexpected};
use crate::pool::{PostgresStore, commit};
use crate::refresh::{insert_family_rows, revoke_families_of_sessions, revoke_families_of_user};
use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_domain::mfa::Restriction;
use tessera_domain::ports::{Journal, SessionSelector, SessionStore, StoreError};
use tessera_domain::session::Session;
use tessera_domain::token::RefreshFamily;
use tessera_domain::{SessionId, TenantId, UserId};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const SESSION_COLUMNS: &str = "tenant_id, id, user_id, secret_hash, created_at, last_seen_at, \
    expires_at, idle_timeout_us, ip, user_agent, device, amr, auth_time, acr, restriction, \
    revoked_at";

#[derive(sqlx::FromRow)]
struct SessionRow {
    tenant_id: Uuid,
    id: Uuid,
    user_id: Uuid,
    secret_hash: String,
    created_at: OffsetDateTime,
    last_seen_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    idle_timeout_us: i64,
    ip: Option<String>,
    user_agent: Option<String>,
    device: Option<String>,
    amr: Vec<String>,
    auth_time: OffsetDateTime,
    acr: String,
    restriction: Option<String>,
    revoked_at: Option<OffsetDateTime>,
}

impl SessionRow {
    fn into_session(self) -> Result<Session, StoreError> {
        Ok(Session {
            id: SessionId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            secret_hash: self.secret_hash,
            created_at: self.created_at,
            last_seen_at: self.last_seen_at,
            expires_at: self.expires_at,
            idle_timeout: Duration::microseconds(self.idle_timeout_us),
            ip: self.ip,
            user_agent: self.user_agent,
            device: self.device,
            amr: self.amr,
            auth_time: self.auth_time,
            acr: self.acr,
            restriction: self
                .restriction
                .map(|r| variant("session restriction", &r, Restriction::parse))
                .transpose()?,
            revoked_at: self.revoked_at,
        })
    }
}

/// A duration as whole microseconds (the precision kept for every instant).
fn micros(duration: Duration) -> Result<i64, StoreError> {
    i64::try_from(duration.whole_microseconds())
        .map_err(|_| unexpected("a session's idle timeout is out of range"))
}

/// Locks the user's row (`FOR NO KEY UPDATE`: child rows may still reference it), which
/// orders every change of one user's sessions (sign-ins against the limit, ends, password
/// changes, lifecycle changes); returns whether the user exists in the tenant.
pub(crate) async fn lock_user_row(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
) -> Result<bool, StoreError> {
    let found: Option<i32> = sqlx::query_scalar(
        "SELECT 1 FROM users WHERE tenant_id = $1 AND id = $2 FOR NO KEY UPDATE",
    )
    .bind(tenant.as_uuid())
    .bind(user.as_uuid())
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(found.is_some())
}

/// [`lock_user_row`], `NotFound` if the user does not exist.
pub(crate) async fn lock_user(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
) -> Result<(), StoreError> {
    if lock_user_row(conn, tenant, user).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound)
    }
}

/// Ends the selected live sessions of the user at `at` and revokes the refresh families
/// issued in them (a family bound to no session is no session's token: it stays); returns
/// the ids of the sessions ended, oldest first. What was revoked before keeps its instant.
pub(crate) async fn end_selected(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    which: SessionSelector,
    at: OffsetDateTime,
) -> Result<Vec<Uuid>, StoreError> {
    let (filter, id) = match which {
        SessionSelector::One(id) => (" AND id = $4", Some(id.into_uuid())),
        SessionSelector::AllExcept(id) => (" AND id <> $4", Some(id.into_uuid())),
        SessionSelector::All => (" AND $4::uuid IS NULL", None),
    };
    let sql = format!(
        "WITH ended AS (UPDATE sessions SET revoked_at = $3 \
         WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3{filter} \
         RETURNING id, created_at) \
         SELECT id FROM ended ORDER BY created_at, id"
    );
    let ended: Vec<Uuid> = sqlx::query_scalar(&sql)
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(at)
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
    revoke_families_of_sessions(conn, tenant, &ended, at).await?;
    Ok(ended)
}

/// Revokes every session and refresh family of the user that is not revoked yet (the user
/// was suspended, deactivated or deleted).
pub(crate) async fn revoke_all_of_user(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = $3 \
         WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL",
    )
    .bind(tenant.as_uuid())
    .bind(user.as_uuid())
    .bind(at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    revoke_families_of_user(conn, tenant, user, at).await
}

async fn insert_session_row(conn: &mut PgConnection, session: &Session) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sessions (tenant_id, id, user_id, secret_hash, created_at, last_seen_at, \
         expires_at, idle_timeout_us, ip, user_agent, device, amr, auth_time, acr, restriction, \
         revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
    )
    .bind(session.tenant_id.as_uuid())
    .bind(session.id.as_uuid())
    .bind(session.user_id.as_uuid())
    .bind(&session.secret_hash)
    .bind(session.created_at)
    .bind(session.last_seen_at)
    .bind(session.expires_at)
    .bind(micros(session.idle_timeout)?)
    .bind(session.ip.as_deref())
    .bind(session.user_agent.as_deref())
    .bind(session.device.as_deref())
    .bind(&session.amr)
    .bind(session.auth_time)
    .bind(&session.acr)
    .bind(session.restriction.map(Restriction::as_str))
    .bind(session.revoked_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl SessionStore for PostgresStore {
    /// The limit counts the user's live sessions at `session.created_at`, the new one
    /// included (which is always kept); the oldest beyond it are ended at that instant.
    async fn create_session(
        &self,
        session: &Session,
        refresh: Option<(&RefreshFamily, &str)>,
        max_per_user: u32,
        journal: &Journal,
    ) -> Result<Vec<SessionId>, StoreError> {
        let tenant = session.tenant_id;
        let now = session.created_at;
        let mut tx = self.tenant_tx(tenant).await?;
        lock_user(&mut tx, tenant, session.user_id).await?;
        insert_session_row(&mut tx, session).await?;
        if let Some((family, token_hash)) = refresh {
            if family.tenant_id != tenant {
                return Err(unexpected(
                    "a session's refresh family belongs to its tenant",
                ));
            }
            insert_family_rows(&mut tx, family, token_hash).await?;
        }
        let beyond: Vec<Uuid> = sqlx::query_scalar(
            "SELECT id FROM sessions \
             WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3 \
             ORDER BY (id = $4) DESC, created_at DESC, id DESC OFFSET $5",
        )
        .bind(tenant.as_uuid())
        .bind(session.user_id.as_uuid())
        .bind(now)
        .bind(session.id.as_uuid())
        .bind(i64::from(max_per_user.max(1)))
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        let ended: Vec<Uuid> = sqlx::query_scalar(
            "WITH ended AS (UPDATE sessions SET revoked_at = $2 \
             WHERE tenant_id = $1 AND id = ANY($3) AND revoked_at IS NULL \
             RETURNING id, created_at) \
             SELECT id FROM ended ORDER BY created_at, id",
        )
        .bind(tenant.as_uuid())
        .bind(now)
        .bind(&beyond)
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        revoke_families_of_sessions(&mut tx, tenant, &ended, now).await?;
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await?;
        Ok(ended.into_iter().map(SessionId::from_uuid).collect())
    }

    async fn session_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = $1 AND secret_hash = $2"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<SessionRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(secret_hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        row.map(SessionRow::into_session).transpose()
    }

    async fn session(
        &self,
        tenant: TenantId,
        id: SessionId,
    ) -> Result<Option<Session>, StoreError> {
        let sql =
            format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = $1 AND id = $2");
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<SessionRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        row.map(SessionRow::into_session).transpose()
    }

    /// Activity never moves backwards: of two uses recorded out of order, the later stays.
    async fn touch_session(
        &self,
        tenant: TenantId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query(
            "UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, $3) \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await
    }

    async fn list_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions \
             WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL AND expires_at > $3 \
             ORDER BY created_at DESC, id DESC"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<SessionRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        rows.into_iter().map(SessionRow::into_session).collect()
    }

    /// The session is live when it is not revoked and not past its (stored) absolute end at
    /// `session.auth_time`, the instant of the further authentication; it must be the user's.
    /// The user's row is locked first, as for every change of a user's sessions.
    async fn elevate_session(
        &self,
        session: &Session,
        refresh: Option<(&RefreshFamily, &str)>,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let tenant = session.tenant_id;
        let mut tx = self.tenant_tx(tenant).await?;
        if !lock_user_row(&mut tx, tenant, session.user_id).await? {
            return Err(StoreError::NotFound);
        }
        let done = sqlx::query(
            "UPDATE sessions SET restriction = NULL, amr = $4, acr = $5, auth_time = $6, \
             expires_at = $7, idle_timeout_us = $8, secret_hash = $9 \
             WHERE tenant_id = $1 AND id = $2 AND user_id = $3 \
             AND revoked_at IS NULL AND expires_at > $6",
        )
        .bind(tenant.as_uuid())
        .bind(session.id.as_uuid())
        .bind(session.user_id.as_uuid())
        .bind(&session.amr)
        .bind(&session.acr)
        .bind(session.auth_time)
        .bind(session.expires_at)
        .bind(micros(session.idle_timeout)?)
        .bind(&session.secret_hash)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some((family, token_hash)) = refresh {
            if family.tenant_id != tenant {
                return Err(unexpected(
                    "a session's refresh family belongs to its tenant",
                ));
            }
            insert_family_rows(&mut tx, family, token_hash).await?;
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }

    async fn end_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        which: SessionSelector,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<u64, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        // An unknown user simply has no session to end.
        lock_user_row(&mut tx, tenant, user).await?;
        let ended = end_selected(&mut tx, tenant, user, which, at).await?;
        if matches!(which, SessionSelector::One(_)) && ended.is_empty() {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await?;
        u64::try_from(ended.len()).map_err(|_| unexpected("too many sessions"))
    }
}
