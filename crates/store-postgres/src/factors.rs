//! Second factors: a TOTP authenticator per user (pending until confirmed, each time step
//! accepted once and never one before it), backup codes (each used once) and passkeys (found
//! by their credential id, unique in the tenant).
//!
//! Single use is a conditional `UPDATE` (`... WHERE last_step < $step`, `... WHERE used_at IS
//! NULL`): under READ COMMITTED a concurrent updater waits for the first and re-checks the
//! condition on the row it committed, so exactly one of several concurrent uses changes the
//! row, and only that one appends its journal.

use crate::audit::append_journal;
use crate::error::{duplicate_of, store_error, unexpected};
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use tessera_domain::mfa::{BackupCodeSummary, Passkey, TotpFactor};
use tessera_domain::ports::{FactorStore, Journal, StoreError};
use tessera_domain::{PasskeyId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

const TOTP_COLUMNS: &str = "tenant_id, user_id, secret_sealed, created_at, confirmed_at, last_step";

const PASSKEY_COLUMNS: &str = "tenant_id, id, user_id, credential_id, name, aaguid, credential, \
    sign_count, backup_eligible, created_at, last_used_at";

#[derive(sqlx::FromRow)]
struct TotpRow {
    tenant_id: Uuid,
    user_id: Uuid,
    secret_sealed: Vec<u8>,
    created_at: OffsetDateTime,
    confirmed_at: Option<OffsetDateTime>,
    last_step: i64,
}

impl From<TotpRow> for TotpFactor {
    fn from(row: TotpRow) -> Self {
        TotpFactor {
            tenant_id: TenantId::from_uuid(row.tenant_id),
            user_id: UserId::from_uuid(row.user_id),
            secret_sealed: row.secret_sealed,
            created_at: row.created_at,
            confirmed_at: row.confirmed_at,
            last_step: row.last_step,
        }
    }
}

#[derive(sqlx::FromRow)]
struct PasskeyRow {
    tenant_id: Uuid,
    id: Uuid,
    user_id: Uuid,
    credential_id: String,
    name: String,
    aaguid: Option<Uuid>,
    credential: String,
    sign_count: i64,
    backup_eligible: bool,
    created_at: OffsetDateTime,
    last_used_at: Option<OffsetDateTime>,
}

impl PasskeyRow {
    fn into_passkey(self) -> Result<Passkey, StoreError> {
        Ok(Passkey {
            id: PasskeyId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            credential_id: self.credential_id,
            name: self.name,
            aaguid: self.aaguid,
            credential: self.credential,
            sign_count: u32::try_from(self.sign_count).map_err(|_| {
                unexpected(format!("corrupt passkey sign count: {}", self.sign_count))
            })?,
            backup_eligible: self.backup_eligible,
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        })
    }
}

#[async_trait]
impl FactorStore for PostgresStore {
    async fn totp(&self, tenant: TenantId, user: UserId) -> Result<Option<TotpFactor>, StoreError> {
        let sql = format!(
            "SELECT {TOTP_COLUMNS} FROM totp_factors WHERE tenant_id = $1 AND user_id = $2"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<TotpRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        Ok(row.map(TotpFactor::from))
    }

    /// One statement: the upsert only replaces a row that is still unconfirmed, so a
    /// confirmed factor is never overwritten, even by a concurrent call. The factor is stored
    /// unconfirmed whatever its `confirmed_at` says.
    async fn put_pending_totp(&self, factor: &TotpFactor) -> Result<(), StoreError> {
        let tenant = factor.tenant_id;
        let sql = format!(
            "INSERT INTO totp_factors ({TOTP_COLUMNS}) VALUES ($1, $2, $3, $4, NULL, $5) \
             ON CONFLICT (tenant_id, user_id) DO UPDATE SET \
             secret_sealed = excluded.secret_sealed, created_at = excluded.created_at, \
             last_step = excluded.last_step \
             WHERE totp_factors.confirmed_at IS NULL"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(factor.user_id.as_uuid())
            .bind(&factor.secret_sealed)
            .bind(factor.created_at)
            .bind(factor.last_step)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict);
        }
        commit(tx).await
    }

    async fn confirm_totp(
        &self,
        tenant: TenantId,
        user: UserId,
        step: i64,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<bool, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE totp_factors SET confirmed_at = $3, last_step = $4 \
             WHERE tenant_id = $1 AND user_id = $2 AND confirmed_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(at)
        .bind(step)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE totp_factors SET last_step = $3 WHERE tenant_id = $1 AND user_id = $2 \
             AND confirmed_at IS NOT NULL AND last_step < $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(step)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn delete_totp(
        &self,
        tenant: TenantId,
        user: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query("DELETE FROM totp_factors WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }

    /// One `INSERT ... SELECT FROM UNNEST` for the new set; a hash given twice is stored
    /// once. Codes of a user that does not exist: `NotFound`.
    async fn replace_backup_codes(
        &self,
        tenant: TenantId,
        user: UserId,
        hashes: &[String],
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query("DELETE FROM backup_codes WHERE tenant_id = $1 AND user_id = $2")
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if !hashes.is_empty() {
            sqlx::query(
                "INSERT INTO backup_codes (tenant_id, user_id, code_hash, created_at, used_at) \
                 SELECT $1, $2, h, $4, NULL FROM UNNEST($3::text[]) AS h \
                 ON CONFLICT DO NOTHING",
            )
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .bind(hashes)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE backup_codes SET used_at = $4 \
             WHERE tenant_id = $1 AND user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(hash)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await?;
        Ok(true)
    }

    async fn backup_codes(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<BackupCodeSummary, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let (total, remaining, created_at): (i64, i64, Option<OffsetDateTime>) = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE used_at IS NULL), max(created_at) \
             FROM backup_codes WHERE tenant_id = $1 AND user_id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        let count = |n: i64| u32::try_from(n).map_err(|_| unexpected("too many backup codes"));
        Ok(BackupCodeSummary {
            total: count(total)?,
            remaining: count(remaining)?,
            created_at,
        })
    }

    /// A passkey id already used in the tenant is `Duplicate { field: "id" }`.
    async fn insert_passkey(&self, passkey: &Passkey, journal: &Journal) -> Result<(), StoreError> {
        let tenant = passkey.tenant_id;
        let sql = format!(
            "INSERT INTO passkeys ({PASSKEY_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(passkey.id.as_uuid())
            .bind(passkey.user_id.as_uuid())
            .bind(&passkey.credential_id)
            .bind(&passkey.name)
            .bind(passkey.aaguid)
            .bind(&passkey.credential)
            .bind(i64::from(passkey.sign_count))
            .bind(passkey.backup_eligible)
            .bind(passkey.created_at)
            .bind(passkey.last_used_at)
            .execute(&mut *tx)
            .await
            .map_err(duplicate_of("credential_id", &passkey.credential_id))?;
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }

    async fn passkeys(&self, tenant: TenantId, user: UserId) -> Result<Vec<Passkey>, StoreError> {
        let sql = format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE tenant_id = $1 AND user_id = $2 \
             ORDER BY created_at, id"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<PasskeyRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        rows.into_iter().map(PasskeyRow::into_passkey).collect()
    }

    async fn passkey_by_credential_id(
        &self,
        tenant: TenantId,
        credential_id: &str,
    ) -> Result<Option<Passkey>, StoreError> {
        let sql = format!(
            "SELECT {PASSKEY_COLUMNS} FROM passkeys WHERE tenant_id = $1 AND credential_id = $2"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<PasskeyRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(credential_id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE passkeys SET sign_count = $3, credential = $4, last_used_at = $5 \
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .bind(i64::from(sign_count))
        .bind(credential)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        commit(tx).await
    }

    async fn rename_passkey(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PasskeyId,
        name: &str,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done = sqlx::query(
            "UPDATE passkeys SET name = $4 WHERE tenant_id = $1 AND user_id = $2 AND id = $3",
        )
        .bind(tenant.as_uuid())
        .bind(user.as_uuid())
        .bind(id.as_uuid())
        .bind(name)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }

    async fn delete_passkey(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PasskeyId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let done =
            sqlx::query("DELETE FROM passkeys WHERE tenant_id = $1 AND user_id = $2 AND id = $3")
                .bind(tenant.as_uuid())
                .bind(user.as_uuid())
                .bind(id.as_uuid())
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }
}
