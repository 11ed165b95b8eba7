//! Server-side sessions: created with their first refresh token, limited per user (the
//! oldest live ones are ended), found by the hash of their secret, elevated after a further
//! authentication (the restriction lifted, `amr`/`acr`/`auth_time` and the end replaced, the
//! first refresh token stored), ended one, all or all but one at a time together with their
//! refresh-token families.

use crate::audit::append_journal;
use crate::codec::{
    from_json, from_micros, id, micros, opt_from_micros, opt_micros, to_json, variant,
};
use crate::error::{duplicate_of, store_error, unexpected};
use crate::pool::{SqliteStore, commit};
use crate::refresh::{insert_family_rows, revoke_session_families, revoke_user_families};
use async_trait::async_trait;
use sqlx::SqliteConnection;
use tessera_domain::mfa::Restriction;
use tessera_domain::ports::{Journal, SessionSelector, SessionStore, StoreError};
use tessera_domain::session::Session;
use tessera_domain::token::RefreshFamily;
use tessera_domain::{SessionId, TenantId, UserId};
use time::{Duration, OffsetDateTime};

const SESSION_COLUMNS: &str = "tenant_id, id, user_id, secret_hash, created_at, last_seen_at, \
    expires_at, idle_timeout_us, ip, user_agent, device, amr, auth_time, acr, restriction, \
    revoked_at";

/// "Live at ?": not revoked and not past its absolute end. The placeholder is the instant.
const LIVE: &str = "revoked_at IS NULL AND expires_at > ?";

#[derive(sqlx::FromRow)]
struct SessionRow {
    tenant_id: String,
    id: String,
    user_id: String,
    secret_hash: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
    idle_timeout_us: i64,
    ip: Option<String>,
    user_agent: Option<String>,
    device: Option<String>,
    amr: String,
    auth_time: i64,
    acr: String,
    restriction: Option<String>,
    revoked_at: Option<i64>,
}

impl SessionRow {
    fn into_session(self) -> Result<Session, StoreError> {
        Ok(Session {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            user_id: id(&self.user_id)?,
            secret_hash: self.secret_hash,
            created_at: from_micros(self.created_at)?,
            last_seen_at: from_micros(self.last_seen_at)?,
            expires_at: from_micros(self.expires_at)?,
            idle_timeout: Duration::microseconds(self.idle_timeout_us),
            ip: self.ip,
            user_agent: self.user_agent,
            device: self.device,
            amr: from_json("session amr", &self.amr)?,
            auth_time: from_micros(self.auth_time)?,
            acr: self.acr,
            restriction: self
                .restriction
                .map(|r| variant("session restriction", &r, Restriction::parse))
                .transpose()?,
            revoked_at: opt_from_micros(self.revoked_at)?,
        })
    }
}

async fn insert_session_row(
    conn: &mut SqliteConnection,
    session: &Session,
) -> Result<(), StoreError> {
    let idle = i64::try_from(session.idle_timeout.whole_microseconds())
        .map_err(|_| unexpected("session idle timeout out of range"))?;
    let sql = format!(
        "INSERT INTO sessions ({SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    sqlx::query(&sql)
        .bind(session.tenant_id.to_string())
        .bind(session.id.to_string())
        .bind(session.user_id.to_string())
        .bind(&session.secret_hash)
        .bind(micros(session.created_at)?)
        .bind(micros(session.last_seen_at)?)
        .bind(micros(session.expires_at)?)
        .bind(idle)
        .bind(session.ip.as_deref())
        .bind(session.user_agent.as_deref())
        .bind(session.device.as_deref())
        .bind(to_json(&session.amr)?)
        .bind(micros(session.auth_time)?)
        .bind(&session.acr)
        .bind(session.restriction.map(Restriction::as_str))
        .bind(opt_micros(session.revoked_at)?)
        .execute(&mut *conn)
        .await
        .map_err(duplicate_of("secret_hash", &session.secret_hash))?;
    Ok(())
}

/// Ends the selected live sessions of the user (revoked at `at`) and revokes the refresh-token
/// families issued in them; returns how many sessions were ended. Families bound to no
/// session, or to a session that was not live, are left alone (the port speaks of the ended
/// sessions' tokens only).
pub(crate) async fn end_user_sessions(
    conn: &mut SqliteConnection,
    tenant: &str,
    user: &str,
    which: SessionSelector,
    at: i64,
) -> Result<u64, StoreError> {
    let (filter, session) = match which {
        SessionSelector::One(id) => (" AND id = ?", Some(id.to_string())),
        SessionSelector::AllExcept(id) => (" AND id <> ?", Some(id.to_string())),
        SessionSelector::All => ("", None),
    };
    let sql = format!(
        "UPDATE sessions SET revoked_at = ? \
         WHERE tenant_id = ? AND user_id = ? AND {LIVE}{filter} RETURNING id"
    );
    let mut query = sqlx::query_scalar(&sql)
        .bind(at)
        .bind(tenant)
        .bind(user)
        .bind(at);
    if let Some(session) = session {
        query = query.bind(session);
    }
    let ended: Vec<String> = query.fetch_all(&mut *conn).await.map_err(store_error)?;
    revoke_session_families(conn, tenant, &ended, at).await?;
    u64::try_from(ended.len()).map_err(|_| unexpected("too many sessions"))
}

/// Revokes every session and refresh-token family of the user that is not revoked yet
/// (the user was suspended, deactivated or deleted).
pub(crate) async fn revoke_everything(
    conn: &mut SqliteConnection,
    tenant: &str,
    user: &str,
    at: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sessions SET revoked_at = ? \
         WHERE tenant_id = ? AND user_id = ? AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(tenant)
    .bind(user)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    revoke_user_families(conn, tenant, user, at).await
}

/// Ends the user's oldest live sessions (at `now`) so that at most `max_per_user` remain,
/// counting `keep` (the session just created, always kept); returns their ids, oldest first.
async fn evict_beyond(
    conn: &mut SqliteConnection,
    keep: &Session,
    max_per_user: u32,
) -> Result<Vec<SessionId>, StoreError> {
    let (tenant, user) = (keep.tenant_id.to_string(), keep.user_id.to_string());
    let now = micros(keep.created_at)?;
    let others_kept = i64::from(max_per_user.saturating_sub(1));
    let rows: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT id FROM sessions WHERE tenant_id = ? AND user_id = ? AND id <> ? AND {LIVE} \
         ORDER BY created_at DESC, id DESC LIMIT -1 OFFSET ?"
    ))
    .bind(&tenant)
    .bind(&user)
    .bind(keep.id.to_string())
    .bind(now)
    .bind(others_kept)
    .fetch_all(&mut *conn)
    .await
    .map_err(store_error)?;
    let mut ended = Vec::with_capacity(rows.len());
    for raw in rows.iter().rev() {
        let session: SessionId = id(raw)?;
        end_user_sessions(conn, &tenant, &user, SessionSelector::One(session), now).await?;
        ended.push(session);
    }
    Ok(ended)
}

#[async_trait]
impl SessionStore for SqliteStore {
    /// The limit is counted among sessions live at `session.created_at`; the new session
    /// always stays (a `max_per_user` of 0 acts as 1). Evicted sessions are revoked at
    /// `session.created_at`, with their refresh-token families.
    async fn create_session(
        &self,
        session: &Session,
        refresh: Option<(&RefreshFamily, &str)>,
        max_per_user: u32,
        journal: &Journal,
    ) -> Result<Vec<SessionId>, StoreError> {
        let mut tx = self.write().await?;
        insert_session_row(&mut tx, session).await?;
        if let Some((family, token_hash)) = refresh {
            insert_family_rows(&mut tx, family, token_hash).await?;
        }
        let ended = evict_beyond(&mut tx, session, max_per_user).await?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await?;
        Ok(ended)
    }

    async fn session_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = ? AND secret_hash = ?"
        );
        let row: Option<SessionRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(secret_hash)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(SessionRow::into_session).transpose()
    }

    async fn session(
        &self,
        tenant: TenantId,
        id: SessionId,
    ) -> Result<Option<Session>, StoreError> {
        let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = ? AND id = ?");
        let row: Option<SessionRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(SessionRow::into_session).transpose()
    }

    /// `NotFound` if the session does not exist in the tenant. `last_seen_at` never moves
    /// back (two requests of one browser may report out of order).
    async fn touch_session(
        &self,
        tenant: TenantId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // One statement in autocommit: it takes the write lock at once, no upgrade to fail.
        let done = sqlx::query(
            "UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE tenant_id = ? AND id = ?",
        )
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

    async fn list_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError> {
        let sql = format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE tenant_id = ? AND user_id = ? AND {LIVE} \
             ORDER BY created_at DESC, id DESC"
        );
        let rows: Vec<SessionRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(user.to_string())
            .bind(micros(now)?)
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        rows.into_iter().map(SessionRow::into_session).collect()
    }

    /// The session is live when it is not revoked and not past its (stored) absolute end at
    /// `session.auth_time`, the instant of the further authentication; it must be the user's.
    async fn elevate_session(
        &self,
        session: &Session,
        refresh: Option<(&RefreshFamily, &str)>,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let auth_time = micros(session.auth_time)?;
        let idle = i64::try_from(session.idle_timeout.whole_microseconds())
            .map_err(|_| unexpected("session idle timeout out of range"))?;
        let mut tx = self.write().await?;
        let done = sqlx::query(&format!(
            "UPDATE sessions SET restriction = NULL, amr = ?, acr = ?, auth_time = ?, \
             expires_at = ?, idle_timeout_us = ?, secret_hash = ? \
             WHERE tenant_id = ? AND id = ? AND user_id = ? AND {LIVE}"
        ))
        .bind(to_json(&session.amr)?)
        .bind(&session.acr)
        .bind(auth_time)
        .bind(micros(session.expires_at)?)
        .bind(idle)
        .bind(&session.secret_hash)
        .bind(session.tenant_id.to_string())
        .bind(session.id.to_string())
        .bind(session.user_id.to_string())
        .bind(auth_time)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if let Some((family, token_hash)) = refresh {
            insert_family_rows(&mut tx, family, token_hash).await?;
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    /// "Live" is as in `list_sessions`: not revoked and not past the absolute end at `at`.
    async fn end_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        which: SessionSelector,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let ended = end_user_sessions(
            &mut tx,
            &tenant.to_string(),
            &user.to_string(),
            which,
            micros(at)?,
        )
        .await?;
        if ended == 0 && matches!(which, SessionSelector::One(_)) {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await?;
        Ok(ended)
    }
}
