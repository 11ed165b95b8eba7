//! Second factors: a TOTP authenticator per user (pending until confirmed, each time step
//! accepted once and never one before it), backup codes (each used once) and passkeys (found
//! by their credential id, unique in the tenant).
//!
//! Single use is a conditional `UPDATE` (`... WHERE last_step < ?`, `... WHERE used_at IS
//! NULL`) in a `BEGIN IMMEDIATE` transaction: of several concurrent uses exactly one changes
//! the row, and only that one appends its journal.

use crate::audit::append_journal;
use crate::codec::{from_micros, id, micros, opt_from_micros, opt_micros};
use crate::error::{corrupt, duplicate_of, store_error, unexpected};
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use tessera_domain::mfa::{BackupCodeSummary, Passkey, TotpFactor};
use tessera_domain::ports::{FactorStore, Journal, StoreError};
use tessera_domain::{PasskeyId, TenantId, UserId};
use time::OffsetDateTime;

const TOTP_COLUMNS: &str = "tenant_id, user_id, secret_sealed, created_at, confirmed_at, last_step";

const PASSKEY_COLUMNS: &str = "tenant_id, id, user_id, credential_id, name, aaguid, credential, \
    sign_count, backup_eligible, created_at, last_used_at";

#[derive(sqlx::FromRow)]
struct TotpRow {
    tenant_id: String,
    user_id: String,
    secret_sealed: Vec<u8>,
    created_at: i64,
    confirmed_at: Option<i64>,
    last_step: i64,
}

impl TotpRow {
    fn into_factor(self) -> Result<TotpFactor, StoreError> {
        Ok(TotpFactor {
            tenant_id: id(&self.tenant_id)?,
            user_id: id(&self.user_id)?,
            secret_sealed: self.secret_sealed,
            created_at: from_micros(self.created_at)?,
            confirmed_at: opt_from_micros(self.confirmed_at)?,
            last_step: self.last_step,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PasskeyRow {
    tenant_id: String,
    id: String,
    user_id: String,
    credential_id: String,
    name: String,
    aaguid: Option<String>,
    credential: String,
    sign_count: i64,
    backup_eligible: bool,
    created_at: i64,
    last_used_at: Option<i64>,
}

impl PasskeyRow {
    fn into_passkey(self) -> Result<Passkey, StoreError> {
        Ok(Passkey {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            user_id: id(&self.user_id)?,
            credential_id: self.credential_id,
            name: self.name,
            aaguid: self.aaguid.as_deref().map(id).transpose()?,
            credential: self.credential,
            sign_count: u32::try_from(self.sign_count)
                .map_err(|e| corrupt("passkey sign count", e))?,
            backup_eligible: self.backup_eligible,
            created_at: from_micros(self.created_at)?,
            last_used_at: opt_from_micros(self.last_used_at)?,
        })
    }
}

#[async_trait]
impl FactorStore for SqliteStore {
    async fn totp(&self, tenant: TenantId, user: UserId) -> Result<Option<TotpFactor>, StoreError> {
        let sql =
            format!("SELECT {TOTP_COLUMNS} FROM totp_factors WHERE tenant_id = ? AND user_id = ?");
        let row: Option<TotpRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(user.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(TotpRow::into_factor).transpose()
    }

    /// One statement: the upsert only replaces a row that is still unconfirmed, so a
    /// confirmed factor is never overwritten, even by a concurrent call. The factor is stored
    /// unconfirmed whatever its `confirmed_at` says.
    async fn put_pending_totp(&self, factor: &TotpFactor) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO totp_factors ({TOTP_COLUMNS}) VALUES (?, ?, ?, ?, NULL, ?) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET \
             secret_sealed = excluded.secret_sealed, created_at = excluded.created_at, \
             last_step = excluded.last_step \
             WHERE totp_factors.confirmed_at IS NULL"
        );
        let done = sqlx::query(&sql)
            .bind(factor.tenant_id.to_string())
            .bind(factor.user_id.to_string())
            .bind(&factor.secret_sealed)
            .bind(micros(factor.created_at)?)
            .bind(factor.last_step)
            .execute(self.pool())
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        Ok(())
    }

    async fn confirm_totp(
        &self,
        tenant: TenantId,
        user: UserId,
        step: i64,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE totp_factors SET confirmed_at = ?, last_step = ? \
             WHERE tenant_id = ? AND user_id = ? AND confirmed_at IS NULL",
        )
        .bind(micros(at)?)
        .bind(step)
        .bind(tenant.to_string())
        .bind(user.to_string())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn use_totp_step(
        &self,
        tenant: TenantId,
        user: UserId,
        step: i64,
        journal: &Journal,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE totp_factors SET last_step = ? WHERE tenant_id = ? AND user_id = ? \
             AND confirmed_at IS NOT NULL AND last_step < ?",
        )
        .bind(step)
        .bind(tenant.to_string())
        .bind(user.to_string())
        .bind(step)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn delete_totp(
        &self,
        tenant: TenantId,
        user: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query("DELETE FROM totp_factors WHERE tenant_id = ? AND user_id = ?")
            .bind(tenant.to_string())
            .bind(user.to_string())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    /// A hash given twice is stored once. Codes of a user that does not exist: `NotFound`.
    async fn replace_backup_codes(
        &self,
        tenant: TenantId,
        user: UserId,
        hashes: &[String],
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let (tenant, user) = (tenant.to_string(), user.to_string());
        let at = micros(at)?;
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM backup_codes WHERE tenant_id = ? AND user_id = ?")
            .bind(&tenant)
            .bind(&user)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        for hash in hashes {
            sqlx::query(
                "INSERT INTO backup_codes (tenant_id, user_id, code_hash, created_at, used_at) \
                 VALUES (?, ?, ?, ?, NULL) ON CONFLICT DO NOTHING",
            )
            .bind(&tenant)
            .bind(&user)
            .bind(hash)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn use_backup_code(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &str,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE backup_codes SET used_at = ? \
             WHERE tenant_id = ? AND user_id = ? AND code_hash = ? AND used_at IS NULL",
        )
        .bind(micros(at)?)
        .bind(tenant.to_string())
        .bind(user.to_string())
        .bind(hash)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn backup_codes(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<BackupCodeSummary, StoreError> {
        let (total, remaining, created_at): (i64, i64, Option<i64>) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE used_at IS NULL), max(created_at) \
             FROM backup_codes WHERE tenant_id = ? AND user_id = ?",
        )
        .bind(tenant.to_string())
        .bind(user.to_string())
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        let count = |n: i64| u32::try_from(n).map_err(|_| unexpected("too many backup codes"));
        Ok(BackupCodeSummary {
            total: count(total)?,
            remaining: count(remaining)?,
            created_at: opt_from_micros(created_at)?,
        })
    }

    /// A passkey id already used in the tenant is `Duplicate { field: "id" }`.
    async fn insert_passkey(&self, passkey: &Passkey, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let sql = format!(
            "INSERT INTO passkeys ({PASSKEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        sqlx::query(&sql)
            .bind(passkey.tenant_id.to_string())
            .bind(passkey.id.to_string())
            .bind(passkey.user_id.to_string())
            .bind(&passkey.credential_id)
            .bind(&passkey.name)
            .bind(passkey.aaguid.map(|a| a.to_string()))
            .bind(&passkey.credential)
            .bind(i64::from(passkey.sign_count))
            .bind(passkey.backup_eligible)
            .bind(micros(passkey.created_at)?)
            .bind(opt_micros(passkey.last_used_at)?)
            .execute(&mut *tx)
            .await
            .map_err(duplicate_of("credential_id", &passkey.credential_id))?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn passkeys(&self, tenant: TenantId, user: UserId) -> Result<Vec<Passkey>, StoreError> {
        let sql = format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE tenant_id = ? AND user_id = ? \
             ORDER BY created_at, id"
        );
        let rows: Vec<PasskeyRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(user.to_string())
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        rows.into_iter().map(PasskeyRow::into_passkey).collect()
    }

    async fn passkey_by_credential_id(
        &self,
        tenant: TenantId,
        credential_id: &str,
    ) -> Result<Option<Passkey>, StoreError> {
        let sql = format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE tenant_id = ? AND credential_id = ?"
        );
        let row: Option<PasskeyRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(credential_id)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(PasskeyRow::into_passkey).transpose()
    }

    /// `NotFound` if the passkey does not exist in the tenant.
    async fn record_passkey_use(
        &self,
        tenant: TenantId,
        id: PasskeyId,
        sign_count: u32,
        credential: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        // One statement in autocommit: it takes the write lock at once, no upgrade to fail.
        let done = sqlx::query(
            "UPDATE passkeys SET sign_count = ?, credential = ?, last_used_at = ? \
             WHERE tenant_id = ? AND id = ?",
        )
        .bind(i64::from(sign_count))
        .bind(credential)
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

    async fn rename_passkey(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PasskeyId,
        name: &str,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE passkeys SET name = ? WHERE tenant_id = ? AND user_id = ? AND id = ?",
        )
        .bind(name)
        .bind(tenant.to_string())
        .bind(user.to_string())
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

    async fn delete_passkey(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PasskeyId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let done =
            sqlx::query("DELETE FROM passkeys WHERE tenant_id = ? AND user_id = ? AND id = ?")
                .bind(tenant.to_string())
                .bind(user.to_string())
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
