//! Passwords: one row per user (the current hash and the earlier ones), registration (user,
//! password and verification code in one transaction), imports, and password changes that
//! end sessions.

use crate::audit::append_journal;
use crate::codec::to_json;
use crate::codes::insert_code_row;
use crate::error::{store_error, unexpected};
use crate::pool::{PostgresStore, commit};
use crate::sessions::{end_selected, lock_user};
use crate::users::insert_user_rows;
use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_domain::code::OneTimeCode;
use tessera_domain::credential::PasswordCredential;
use tessera_domain::ports::{CredentialStore, Journal, SessionSelector, StoreError};
use tessera_domain::user::User;
use tessera_domain::{TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct PasswordRow {
    tenant_id: Uuid,
    user_id: Uuid,
    hash: String,
    history: Vec<String>,
    changed_at: OffsetDateTime,
}

impl From<PasswordRow> for PasswordCredential {
    fn from(row: PasswordRow) -> Self {
        PasswordCredential {
            tenant_id: TenantId::from_uuid(row.tenant_id),
            user_id: UserId::from_uuid(row.user_id),
            hash: row.hash,
            history: row.history,
            changed_at: row.changed_at,
        }
    }
}

/// Inserts the passwords (all of `tenant`) in one statement. Each history travels as JSON
/// text (arrays of arrays cannot be unnested) and becomes a `text[]` again in SQL.
pub(crate) async fn insert_passwords(
    conn: &mut PgConnection,
    tenant: TenantId,
    passwords: &[PasswordCredential],
) -> Result<(), StoreError> {
    if passwords.is_empty() {
        return Ok(());
    }
    if passwords.iter().any(|p| p.tenant_id != tenant) {
        return Err(StoreError::NotFound);
    }
    let histories = passwords
        .iter()
        .map(|p| to_json(&p.history))
        .collect::<Result<Vec<_>, _>>()?;
    sqlx::query(
        "INSERT INTO passwords (tenant_id, user_id, hash, history, changed_at) \
         SELECT $1, p.user_id, p.hash, \
                ARRAY(SELECT json_array_elements_text(p.history::json)), p.changed_at \
         FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::timestamptz[]) \
              AS p(user_id, hash, history, changed_at)",
    )
    .bind(tenant.as_uuid())
    .bind(
        passwords
            .iter()
            .map(|p| p.user_id.into_uuid())
            .collect::<Vec<_>>(),
    )
    .bind(
        passwords
            .iter()
            .map(|p| p.hash.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(histories)
    .bind(passwords.iter().map(|p| p.changed_at).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl CredentialStore for PostgresStore {
    async fn password(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<PasswordCredential>, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<PasswordRow> = sqlx::query_as(
            "SELECT tenant_id, user_id, hash, history, changed_at FROM passwords \
             WHERE tenant_id = $1 AND user_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        Ok(row.map(PasswordCredential::from))
    }

    async fn register_user(
        &self,
        user: &User,
        password: &PasswordCredential,
        code: Option<&OneTimeCode>,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        if password.tenant_id != user.tenant_id || password.user_id != user.id {
            return Err(unexpected("a registration's password belongs to its user"));
        }
        let mut tx = self.tenant_tx(user.tenant_id).await?;
        insert_user_rows(&mut tx, user).await?;
        insert_passwords(&mut tx, user.tenant_id, std::slice::from_ref(password)).await?;
        if let Some(code) = code {
            if code.tenant_id != user.tenant_id {
                return Err(unexpected("a registration's code belongs to its tenant"));
            }
            insert_code_row(&mut tx, code).await?;
        }
        append_journal(&mut tx, journal, Some(user.tenant_id)).await?;
        commit(tx).await
    }

    async fn import_users(
        &self,
        users: &[User],
        passwords: &[PasswordCredential],
        journal: &Journal,
    ) -> Result<(), StoreError> {
        crate::user_bulk::insert_users(self, users, passwords, journal).await
    }

    async fn set_password(
        &self,
        password: &PasswordCredential,
        expected_hash: Option<&str>,
        end_sessions: Option<SessionSelector>,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let tenant = password.tenant_id;
        let mut tx = self.tenant_tx(tenant).await?;
        // The user's row lock orders concurrent changes of one user's credentials.
        lock_user(&mut tx, tenant, password.user_id).await?;
        let stored: Option<String> = sqlx::query_scalar(
            "SELECT hash FROM passwords WHERE tenant_id = $1 AND user_id = $2 FOR UPDATE",
        )
        .bind(tenant.as_uuid())
        .bind(password.user_id.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        if let Some(expected) = expected_hash
            && stored.as_deref() != Some(expected)
        {
            return Err(StoreError::Conflict);
        }
        sqlx::query(
            "INSERT INTO passwords (tenant_id, user_id, hash, history, changed_at) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE \
             SET hash = EXCLUDED.hash, history = EXCLUDED.history, \
                 changed_at = EXCLUDED.changed_at",
        )
        .bind(tenant.as_uuid())
        .bind(password.user_id.as_uuid())
        .bind(&password.hash)
        .bind(&password.history)
        .bind(password.changed_at)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if let Some(which) = end_sessions {
            end_selected(&mut tx, tenant, password.user_id, which, at).await?;
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }
}
