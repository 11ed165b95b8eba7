//! One-time codes: a new code uses up the earlier ones of its (purpose, target); a check locks
//! the newest unconsumed code (`SELECT ... FOR UPDATE`), so of several concurrent right
//! answers exactly one consumes it and every wrong guess is counted.

use crate::audit::append_journal;
use crate::codec::variant;
use crate::error::{store_error, unexpected};
use crate::pool::{PostgresStore, commit};
use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_domain::code::{CodeCheck, CodePurpose, OneTimeCode};
use tessera_domain::ports::{CodeStore, Journal, StoreError};
use tessera_domain::{CodeId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(sqlx::FromRow)]
struct CodeRow {
    tenant_id: Uuid,
    id: Uuid,
    user_id: Uuid,
    purpose: String,
    target: String,
    code_hash: String,
    created_at: OffsetDateTime,
    expires_at: OffsetDateTime,
    attempts: i32,
    max_attempts: i32,
    consumed_at: Option<OffsetDateTime>,
}

impl CodeRow {
    fn into_code(self) -> Result<OneTimeCode, StoreError> {
        let count = |what: &str, n: i32| {
            u32::try_from(n).map_err(|_| unexpected(format!("corrupt code {what}: {n}")))
        };
        Ok(OneTimeCode {
            id: CodeId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
            user_id: UserId::from_uuid(self.user_id),
            purpose: variant("code purpose", &self.purpose, CodePurpose::parse)?,
            target: self.target,
            code_hash: self.code_hash,
            created_at: self.created_at,
            expires_at: self.expires_at,
            attempts: count("attempts", self.attempts)?,
            max_attempts: count("max_attempts", self.max_attempts)?,
            consumed_at: self.consumed_at,
        })
    }
}

fn column_count(n: u32) -> Result<i32, StoreError> {
    i32::try_from(n).map_err(|_| unexpected("a code's attempt count is out of range"))
}

/// Uses up the unconsumed codes of the code's (purpose, target) (at the new code's
/// `created_at`), then stores the code.
pub(crate) async fn insert_code_row(
    conn: &mut PgConnection,
    code: &OneTimeCode,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE one_time_codes SET consumed_at = $4 \
         WHERE tenant_id = $1 AND purpose = $2 AND target = $3 AND consumed_at IS NULL",
    )
    .bind(code.tenant_id.as_uuid())
    .bind(code.purpose.as_str())
    .bind(&code.target)
    .bind(code.created_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    sqlx::query(
        "INSERT INTO one_time_codes (tenant_id, id, user_id, purpose, target, code_hash, \
         created_at, expires_at, attempts, max_attempts, consumed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(code.tenant_id.as_uuid())
    .bind(code.id.as_uuid())
    .bind(code.user_id.as_uuid())
    .bind(code.purpose.as_str())
    .bind(&code.target)
    .bind(&code.code_hash)
    .bind(code.created_at)
    .bind(code.expires_at)
    .bind(column_count(code.attempts)?)
    .bind(column_count(code.max_attempts)?)
    .bind(code.consumed_at)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

/// Compares two hashes in time independent of where they differ.
fn same_hash(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[async_trait]
impl CodeStore for PostgresStore {
    async fn insert_code(&self, code: &OneTimeCode, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(code.tenant_id).await?;
        insert_code_row(&mut tx, code).await?;
        append_journal(&mut tx, journal, Some(code.tenant_id)).await?;
        commit(tx).await
    }

    async fn check_code(
        &self,
        tenant: TenantId,
        purpose: CodePurpose,
        target: &str,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<CodeCheck, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        // Concurrent checks queue on the row; a waiting one re-reads it after the winner
        // commits (consumed: no longer selected; wrong guess: the new count).
        let row: Option<CodeRow> = sqlx::query_as(
            "SELECT tenant_id, id, user_id, purpose, target, code_hash, created_at, expires_at, \
             attempts, max_attempts, consumed_at FROM one_time_codes \
             WHERE tenant_id = $1 AND purpose = $2 AND target = $3 AND consumed_at IS NULL \
             ORDER BY created_at DESC, id DESC LIMIT 1 FOR UPDATE",
        )
        .bind(tenant.as_uuid())
        .bind(purpose.as_str())
        .bind(target)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
        let Some(mut code) = row.map(CodeRow::into_code).transpose()? else {
            commit(tx).await?;
            return Ok(CodeCheck::NoneLive);
        };
        if now >= code.expires_at || code.attempts >= code.max_attempts {
            commit(tx).await?;
            return Ok(CodeCheck::NoneLive);
        }
        if same_hash(&code.code_hash, code_hash) {
            let done = sqlx::query(
                "UPDATE one_time_codes SET consumed_at = $3 \
                 WHERE tenant_id = $1 AND id = $2 AND consumed_at IS NULL",
            )
            .bind(tenant.as_uuid())
            .bind(code.id.as_uuid())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
            commit(tx).await?;
            if done.rows_affected() != 1 {
                return Ok(CodeCheck::NoneLive);
            }
            code.consumed_at = Some(now);
            return Ok(CodeCheck::Accepted(code));
        }
        sqlx::query(
            "UPDATE one_time_codes SET attempts = attempts + 1 WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant.as_uuid())
        .bind(code.id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        commit(tx).await?;
        Ok(CodeCheck::Wrong {
            remaining: code.max_attempts.saturating_sub(code.attempts + 1),
        })
    }
}
