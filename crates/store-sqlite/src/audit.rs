//! The audit trail: appending a journal to each tenant's hash chain inside the writer's
//! transaction, and reading it back for listing and verification.

use crate::codec::{
    fetch_limit, from_json, from_micros, id, into_page, invalid_cursor, micros, opt_id, page_limit,
    to_json, variant,
};
use crate::epochs::advance_epoch;
use crate::error::store_error;
use crate::pool::{SqliteStore, commit};
use async_trait::async_trait;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tessera_domain::TenantId;
use tessera_domain::audit::{Actor, ActorKind, AuditEvent, GENESIS_HASH, Origin, Outcome};
use tessera_domain::paging::{Cursor, Page, SortOrder};
use tessera_domain::ports::{AuditQuery, AuditStore, Journal, StoreError};

const EVENT_COLUMNS: &str = "tenant_id, seq, id, at, actor_kind, actor_id, actor_tenant_id, \
    action, subject_kind, subject_id, outcome, origin_ip, origin_user_agent, origin_request_id, \
    changes, prev_hash, hash";

/// Appends every draft of `journal` to its tenant's chain. Must run inside a write
/// transaction (`BEGIN IMMEDIATE` holds the database's write lock, which serialises appends).
/// Each chain's head is read once and written once per journal, however many events it
/// holds; the events are inserted by one prepared statement in a loop. A journal marked
/// `authz_changed` also advances the authorization epoch of each of its tenants, once.
pub(crate) async fn append_journal(
    conn: &mut SqliteConnection,
    journal: &Journal,
) -> Result<(), StoreError> {
    // (tenant, seq, hash) of each chain touched so far.
    let mut heads: Vec<(String, i64, String)> = Vec::new();
    for draft in &journal.events {
        let tenant = draft.tenant_id.to_string();
        let index = match heads.iter().position(|(t, _, _)| *t == tenant) {
            Some(index) => index,
            None => {
                let (seq, hash) = read_head(conn, &tenant).await?;
                heads.push((tenant, seq, hash));
                heads.len() - 1
            }
        };
        let Some((_, seq, hash)) = heads.get_mut(index) else {
            return Err(StoreError::Unexpected("audit head lost".into()));
        };
        let event = AuditEvent::seal(draft.clone(), *seq + 1, hash.clone());
        insert_event(conn, &event).await?;
        *seq = event.seq;
        *hash = event.hash;
    }
    for (tenant, seq, hash) in &heads {
        sqlx::query("UPDATE audit_heads SET seq = ?, hash = ? WHERE tenant_id = ?")
            .bind(seq)
            .bind(hash)
            .bind(tenant)
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    if journal.authz_changed {
        for (tenant, _, _) in &heads {
            advance_epoch(conn, tenant).await?;
        }
    }
    Ok(())
}

/// The chain's head, created at genesis if the tenant has none yet.
async fn read_head(conn: &mut SqliteConnection, tenant: &str) -> Result<(i64, String), StoreError> {
    sqlx::query(
        "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES (?, 0, ?) \
         ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant)
    .bind(GENESIS_HASH)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = ?")
        .bind(tenant)
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)
}

async fn insert_event(conn: &mut SqliteConnection, event: &AuditEvent) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO audit_events ({EVENT_COLUMNS}) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    sqlx::query(&sql)
        .bind(event.tenant_id.to_string())
        .bind(event.seq)
        .bind(event.id.to_string())
        .bind(micros(event.at)?)
        .bind(event.actor.kind.as_str())
        .bind(event.actor.id.as_deref())
        .bind(event.actor.tenant_id.map(|t| t.to_string()))
        .bind(&event.action)
        .bind(event.subject_kind.as_deref())
        .bind(event.subject_id.as_deref())
        .bind(event.outcome.as_str())
        .bind(event.origin.ip.as_deref())
        .bind(event.origin.user_agent.as_deref())
        .bind(event.origin.request_id.as_deref())
        .bind(to_json(&event.changes)?)
        .bind(&event.prev_hash)
        .bind(&event.hash)
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EventRow {
    tenant_id: String,
    seq: i64,
    id: String,
    at: i64,
    actor_kind: String,
    actor_id: Option<String>,
    actor_tenant_id: Option<String>,
    action: String,
    subject_kind: Option<String>,
    subject_id: Option<String>,
    outcome: String,
    origin_ip: Option<String>,
    origin_user_agent: Option<String>,
    origin_request_id: Option<String>,
    changes: String,
    prev_hash: String,
    hash: String,
}

impl EventRow {
    fn into_event(self) -> Result<AuditEvent, StoreError> {
        Ok(AuditEvent {
            tenant_id: id(&self.tenant_id)?,
            seq: self.seq,
            id: id(&self.id)?,
            at: from_micros(self.at)?,
            actor: Actor {
                kind: variant("actor kind", &self.actor_kind, ActorKind::parse)?,
                id: self.actor_id,
                tenant_id: opt_id(self.actor_tenant_id.as_deref())?,
            },
            action: self.action,
            subject_kind: self.subject_kind,
            subject_id: self.subject_id,
            outcome: variant("outcome", &self.outcome, Outcome::parse)?,
            origin: Origin {
                ip: self.origin_ip,
                user_agent: self.origin_user_agent,
                request_id: self.origin_request_id,
            },
            changes: from_json("audit changes", &self.changes)?,
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn append(&self, journal: &Journal) -> Result<(), StoreError> {
        if journal.events.is_empty() {
            return Ok(());
        }
        let mut tx = self.write().await?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    /// `since` is inclusive, `until` exclusive; the cursor key is the decimal `seq`.
    async fn list_audit(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Page<AuditEvent>, StoreError> {
        let limit = page_limit(query.limit);
        let mut sql =
            QueryBuilder::<Sqlite>::new(format!("SELECT {EVENT_COLUMNS} FROM audit_events"));
        sql.push(" WHERE tenant_id = ")
            .push_bind(tenant.to_string());
        if let Some(action) = &query.action {
            sql.push(" AND action = ").push_bind(action.clone());
        }
        if let Some(prefix) = &query.action_prefix {
            // A plain comparison of the leading characters: no LIKE, so `_` and `%` in the
            // prefix are literal and the match is case-sensitive. The lower bound lets the
            // (tenant_id, action) index narrow the scan.
            sql.push(" AND action >= ")
                .push_bind(prefix.clone())
                .push(" AND substr(action, 1, length(")
                .push_bind(prefix.clone())
                .push(")) = ")
                .push_bind(prefix.clone());
        }
        if let Some(actor) = &query.actor_id {
            sql.push(" AND actor_id = ").push_bind(actor.clone());
        }
        if let Some(subject) = &query.subject_id {
            sql.push(" AND subject_id = ").push_bind(subject.clone());
        }
        if let Some(outcome) = query.outcome {
            sql.push(" AND outcome = ").push_bind(outcome.as_str());
        }
        if let Some(since) = query.since {
            sql.push(" AND at >= ").push_bind(micros(since)?);
        }
        if let Some(until) = query.until {
            sql.push(" AND at < ").push_bind(micros(until)?);
        }
        let (cmp, dir) = match query.order {
            SortOrder::Asc => (">", "ASC"),
            SortOrder::Desc => ("<", "DESC"),
        };
        if let Some(after) = &query.after {
            let seq: i64 = after.key.parse().map_err(invalid_cursor)?;
            sql.push(format_args!(" AND seq {cmp} ")).push_bind(seq);
        }
        sql.push(format_args!(" ORDER BY seq {dir} LIMIT "))
            .push_bind(fetch_limit(limit));
        let rows: Vec<EventRow> = sql
            .build_query_as()
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        let events = rows
            .into_iter()
            .map(EventRow::into_event)
            .collect::<Result<Vec<_>, _>>()?;
        into_page(events, limit, |e| {
            Ok(Cursor {
                key: e.seq.to_string(),
                id: e.id.to_string(),
            })
        })
    }

    async fn audit_head(&self, tenant: TenantId) -> Result<Option<(i64, String)>, StoreError> {
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = ? AND seq > 0")
                .bind(tenant.to_string())
                .fetch_optional(self.pool())
                .await
                .map_err(store_error)?;
        Ok(head)
    }
}
