//! Passwords: one row per user (hash and history), written with the user at registration or
//! import, replaced by `set_password` (optionally only if unchanged since it was read).

use crate::audit::append_journal;
use crate::codec::{from_json, from_micros, id, micros, to_json};
use crate::codes::insert_code_rows;
use crate::error::store_error;
use crate::pool::{SqliteStore, commit};
use crate::sessions::end_user_sessions;
use crate::users::{insert_user_rows, one_tenant};
use async_trait::async_trait;
use sqlx::SqliteConnection;
use tessera_domain::code::OneTimeCode;
use tessera_domain::credential::PasswordCredential;
use tessera_domain::ports::{CredentialStore, Journal, SessionSelector, StoreError};
use tessera_domain::user::User;
use tessera_domain::{TenantId, UserId};
use time::OffsetDateTime;

#[derive(sqlx::FromRow)]
struct PasswordRow {
    tenant_id: String,
    user_id: String,
    hash: String,
    history: String,
    changed_at: i64,
}

impl PasswordRow {
    fn into_credential(self) -> Result<PasswordCredential, StoreError> {
        Ok(PasswordCredential {
            tenant_id: id(&self.tenant_id)?,
            user_id: id(&self.user_id)?,
            hash: self.hash,
            history: from_json("password history", &self.history)?,
            changed_at: from_micros(self.changed_at)?,
        })
    }
}

/// Inserts the user's password, or replaces it.
async fn upsert_password(
    conn: &mut SqliteConnection,
    password: &PasswordCredential,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO passwords (tenant_id, user_id, hash, history, changed_at) \
         VALUES (?, ?, ?, ?, ?) \
         ON CONFLICT (tenant_id, user_id) DO UPDATE SET \
         hash = excluded.hash, history = excluded.history, changed_at = excluded.changed_at",
    )
    .bind(password.tenant_id.to_string())
    .bind(password.user_id.to_string())
    .bind(&password.hash)
    .bind(to_json(&password.history)?)
    .bind(micros(password.changed_at)?)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl CredentialStore for SqliteStore {
    async fn password(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<PasswordCredential>, StoreError> {
        let row: Option<PasswordRow> = sqlx::query_as(
            "SELECT tenant_id, user_id, hash, history, changed_at FROM passwords \
             WHERE tenant_id = ? AND user_id = ?",
        )
        .bind(tenant.to_string())
        .bind(user.to_string())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?;
        row.map(PasswordRow::into_credential).transpose()
    }

    /// The code goes in as `insert_code` puts it (replacing an earlier code of its purpose
    /// and target). A password or code of another user than `user` fails on the foreign
    /// key (`NotFound`), and nothing is written.
    async fn register_user(
        &self,
        user: &User,
        password: &PasswordCredential,
        code: Option<&OneTimeCode>,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_user_rows(&mut tx, user).await?;
        upsert_password(&mut tx, password).await?;
        if let Some(code) = code {
            insert_code_rows(&mut tx, code).await?;
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    /// As `insert_users` (one transaction, users of one tenant), then the passwords.
    async fn import_users(
        &self,
        users: &[User],
        passwords: &[PasswordCredential],
        journal: &Journal,
    ) -> Result<(), StoreError> {
        one_tenant(users)?;
        let in_batch = |p: &PasswordCredential| {
            users
                .iter()
                .any(|u| u.id == p.user_id && u.tenant_id == p.tenant_id)
        };
        if !passwords.iter().all(in_batch) {
            return Err(StoreError::NotFound);
        }
        let mut tx = self.write().await?;
        for user in users {
            insert_user_rows(&mut tx, user).await?;
        }
        for password in passwords {
            upsert_password(&mut tx, password).await?;
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    /// `expected_hash` set while the user has no password is a `Conflict` (the stored hash
    /// is not the one expected). Sessions are ended as `end_sessions` ends them (at `at`),
    /// except that `One(id)` naming no live session is not an error here.
    async fn set_password(
        &self,
        password: &PasswordCredential,
        expected_hash: Option<&str>,
        end_sessions: Option<SessionSelector>,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let (tenant, user) = (password.tenant_id.to_string(), password.user_id.to_string());
        let mut tx = self.write().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM users WHERE tenant_id = ? AND id = ?")
                .bind(&tenant)
                .bind(&user)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
        if exists.is_none() {
            return Err(StoreError::NotFound);
        }
        if let Some(expected) = expected_hash {
            let stored: Option<String> = sqlx::query_scalar(
                "SELECT hash FROM passwords WHERE tenant_id = ? AND user_id = ?",
            )
            .bind(&tenant)
            .bind(&user)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
            if stored.as_deref() != Some(expected) {
                return Err(StoreError::Conflict);
            }
        }
        upsert_password(&mut tx, password).await?;
        if let Some(which) = end_sessions {
            end_user_sessions(&mut tx, &tenant, &user, which, micros(at)?).await?;
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }
}
