//! One-time codes: at most one per (tenant, purpose, target), checked and consumed in one
//! write transaction so that a right code is accepted exactly once.

use crate::audit::append_journal;
use crate::codec::{from_micros, id, micros, opt_from_micros, opt_micros, variant};
use crate::error::{store_error, unexpected};
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use sqlx::SqliteConnection;
use tessera_domain::TenantId;
use tessera_domain::code::{CodeCheck, CodePurpose, OneTimeCode};
use tessera_domain::ports::{CodeStore, Journal, StoreError};
use time::OffsetDateTime;

const CODE_COLUMNS: &str = "tenant_id, id, user_id, purpose, target, code_hash, created_at, \
    expires_at, attempts, max_attempts, consumed_at";

/// "Live at ?": not used up, not expired, guesses left.
const LIVE: &str = "consumed_at IS NULL AND expires_at > ? AND attempts < max_attempts";

#[derive(sqlx::FromRow)]
struct CodeRow {
    tenant_id: String,
    id: String,
    user_id: String,
    purpose: String,
    target: String,
    code_hash: String,
    created_at: i64,
    expires_at: i64,
    attempts: i64,
    max_attempts: i64,
    consumed_at: Option<i64>,
}

impl CodeRow {
    fn into_code(self) -> Result<OneTimeCode, StoreError> {
        let count =
            |what: &str, v: i64| u32::try_from(v).map_err(|e| crate::error::corrupt(what, e));
        Ok(OneTimeCode {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            user_id: id(&self.user_id)?,
            purpose: variant("code purpose", &self.purpose, CodePurpose::parse)?,
            target: self.target,
            code_hash: self.code_hash,
            created_at: from_micros(self.created_at)?,
            expires_at: from_micros(self.expires_at)?,
            attempts: count("code attempts", self.attempts)?,
            max_attempts: count("code max attempts", self.max_attempts)?,
            consumed_at: opt_from_micros(self.consumed_at)?,
        })
    }
}

/// Stores a code in place of any earlier code of its tenant, purpose and target (only the
/// newest works, so the earlier one is deleted rather than kept used up).
pub(crate) async fn insert_code_rows(
    conn: &mut SqliteConnection,
    code: &OneTimeCode,
) -> Result<(), StoreError> {
    let tenant = code.tenant_id.to_string();
    sqlx::query("DELETE FROM one_time_codes WHERE tenant_id = ? AND purpose = ? AND target = ?")
        .bind(&tenant)
        .bind(code.purpose.as_str())
        .bind(&code.target)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    let sql = format!(
        "INSERT INTO one_time_codes ({CODE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    sqlx::query(&sql)
        .bind(&tenant)
        .bind(code.id.to_string())
        .bind(code.user_id.to_string())
        .bind(code.purpose.as_str())
        .bind(&code.target)
        .bind(&code.code_hash)
        .bind(micros(code.created_at)?)
        .bind(micros(code.expires_at)?)
        .bind(i64::from(code.attempts))
        .bind(i64::from(code.max_attempts))
        .bind(opt_micros(code.consumed_at)?)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

#[async_trait]
impl CodeStore for SqliteStore {
    async fn insert_code(&self, code: &OneTimeCode, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_code_rows(&mut tx, code).await?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    /// One `BEGIN IMMEDIATE` transaction (concurrent presentations queue on the write lock),
    /// and conditional updates (`consumed_at IS NULL`, `attempts < max_attempts`) that
    /// change nothing once the code is no longer live. A code is live at `now` while
    /// `now < expires_at`.
    async fn check_code(
        &self,
        tenant: TenantId,
        purpose: CodePurpose,
        target: &str,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<CodeCheck, StoreError> {
        let now_us = micros(now)?;
        let tenant = tenant.to_string();
        let mut tx = self.write().await?;
        let row: Option<CodeRow> = sqlx::query_as(&format!(
            "SELECT {CODE_COLUMNS} FROM one_time_codes \
             WHERE tenant_id = ? AND purpose = ? AND target = ? AND {LIVE}"
        ))
        .bind(&tenant)
        .bind(purpose.as_str())
        .bind(target)
        .bind(now_us)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let Some(row) = row else {
            return Ok(CodeCheck::NoneLive);
        };
        let code = row.into_code()?;
        let right = same_hash(&code.code_hash, code_hash);
        let update = if right {
            format!(
                "UPDATE one_time_codes SET consumed_at = ? WHERE tenant_id = ? AND id = ? AND {LIVE}"
            )
        } else {
            format!(
                "UPDATE one_time_codes SET attempts = attempts + 1 \
                 WHERE tenant_id = ? AND id = ? AND {LIVE}"
            )
        };
        let mut query = sqlx::query(&update);
        if right {
            query = query.bind(now_us);
        }
        let done = query
            .bind(&tenant)
            .bind(code.id.to_string())
            .bind(now_us)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() != 1 {
            return Ok(CodeCheck::NoneLive);
        }
        commit(tx).await?;
        if right {
            Ok(CodeCheck::Accepted(OneTimeCode {
                consumed_at: Some(from_micros(now_us)?),
                ..code
            }))
        } else {
            let remaining = code
                .max_attempts
                .checked_sub(code.attempts.saturating_add(1))
                .ok_or_else(|| unexpected("code attempts beyond the maximum"))?;
            Ok(CodeCheck::Wrong { remaining })
        }
    }
}

/// Compares two hashes in time independent of where they differ.
fn same_hash(stored: &str, presented: &str) -> bool {
    stored.len() == presented.len()
        && stored
            .bytes()
            .zip(presented.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}
