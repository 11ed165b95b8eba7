//! The audit trail: appending a journal to each tenant's hash chain inside the writer's
//! transaction, and reading it back for listing and verification.

use crate::codec::{
    fetch_limit, from_json, into_page, invalid_cursor, page_limit, to_json, variant,
};
use crate::epochs::advance_epoch;
use crate::error::store_error;
use crate::pool::{PostgresStore, commit, switch_tenant};
use async_trait::async_trait;
use sqlx::{PgConnection, Postgres, QueryBuilder};
use tessera_domain::audit::{Actor, ActorKind, AuditEvent, GENESIS_HASH, Origin, Outcome};
use tessera_domain::paging::{Cursor, Page, SortOrder};
use tessera_domain::ports::{AuditQuery, AuditStore, Journal, StoreError};
use tessera_domain::{AuditEventId, TenantId};
use time::OffsetDateTime;
use uuid::Uuid;

const EVENT_COLUMNS: &str = "tenant_id, seq, id, at, actor_kind, actor_id, actor_tenant_id, \
    action, subject_kind, subject_id, outcome, origin_ip, origin_user_agent, origin_request_id, \
    changes, prev_hash, hash";

/// A chain head locked by this transaction.
struct Head {
    tenant: TenantId,
    seq: i64,
    hash: String,
}

/// Appends every draft of `journal` to its tenant's chain, after the change it goes with.
/// `current` is the tenant the transaction is set to; the setting is switched for drafts of
/// other tenants (and left wherever the last one needed it). Each chain's head is locked
/// (`FOR UPDATE`) once, so concurrent writers to one chain queue; seq has no gaps. The events
/// are sealed in a loop and each run of consecutive drafts of one tenant is written by one
/// `INSERT ... SELECT FROM UNNEST(...)`, so a journal of N events costs a few round trips,
/// not N. A journal marked `authz_changed` also advances the authorization epoch of each of
/// its tenants, once.
pub(crate) async fn append_journal(
    conn: &mut PgConnection,
    journal: &Journal,
    current: Option<TenantId>,
) -> Result<(), StoreError> {
    append_journal_advancing(conn, journal, current, None).await
}

/// [`append_journal`], then the epoch advances: of every tenant of the journal when it is
/// marked `authz_changed`, and of `also` in any case, each once.
pub(crate) async fn append_journal_advancing(
    conn: &mut PgConnection,
    journal: &Journal,
    current: Option<TenantId>,
    also: Option<TenantId>,
) -> Result<(), StoreError> {
    let mut current = current;
    let mut heads: Vec<Head> = Vec::new();
    let mut run: Vec<AuditEvent> = Vec::new();
    for draft in &journal.events {
        let tenant = draft.tenant_id;
        if current != Some(tenant) {
            insert_events(conn, &run).await?;
            run.clear();
            switch_tenant(conn, tenant).await?;
            current = Some(tenant);
        }
        let index = match heads.iter().position(|h| h.tenant == tenant) {
            Some(index) => index,
            None => {
                heads.push(lock_head(conn, tenant).await?);
                heads.len() - 1
            }
        };
        let Some(head) = heads.get_mut(index) else {
            return Err(StoreError::Unexpected("audit head lost".into()));
        };
        let event = AuditEvent::seal(draft.clone(), head.seq + 1, head.hash.clone());
        head.seq = event.seq;
        head.hash.clone_from(&event.hash);
        run.push(event);
    }
    insert_events(conn, &run).await?;
    for head in &heads {
        if current != Some(head.tenant) {
            switch_tenant(conn, head.tenant).await?;
            current = Some(head.tenant);
        }
        sqlx::query("UPDATE audit_heads SET seq = $2, hash = $3 WHERE tenant_id = $1")
            .bind(head.tenant.as_uuid())
            .bind(head.seq)
            .bind(&head.hash)
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    let mut advance: Vec<TenantId> = also.into_iter().collect();
    if journal.authz_changed {
        for head in &heads {
            if !advance.contains(&head.tenant) {
                advance.push(head.tenant);
            }
        }
    }
    // One order for every writer, so that two journals of the same tenants cannot deadlock.
    advance.sort();
    for tenant in advance {
        if current != Some(tenant) {
            switch_tenant(conn, tenant).await?;
            current = Some(tenant);
        }
        advance_epoch(conn, tenant).await?;
    }
    Ok(())
}

/// Creates the chain's genesis head if it has none yet, then locks it.
async fn lock_head(conn: &mut PgConnection, tenant: TenantId) -> Result<Head, StoreError> {
    sqlx::query(
        "INSERT INTO audit_heads (tenant_id, seq, hash) VALUES ($1, 0, $2) \
         ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant.as_uuid())
    .bind(GENESIS_HASH)
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    let (seq, hash): (i64, String) =
        sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1 FOR UPDATE")
            .bind(tenant.as_uuid())
            .fetch_one(&mut *conn)
            .await
            .map_err(store_error)?;
    Ok(Head { tenant, seq, hash })
}

/// Writes sealed events in one statement (one array per column; the statement text is the
/// same whatever the count, so it is prepared once per connection).
async fn insert_events(conn: &mut PgConnection, events: &[AuditEvent]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO audit_events ({EVENT_COLUMNS}) \
         SELECT * FROM UNNEST($1::uuid[], $2::int8[], $3::uuid[], $4::timestamptz[], \
         $5::text[], $6::text[], $7::uuid[], $8::text[], $9::text[], $10::text[], $11::text[], \
         $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::text[])"
    );
    let changes = events
        .iter()
        .map(|e| to_json(&e.changes))
        .collect::<Result<Vec<_>, _>>()?;
    let column = |f: for<'a> fn(&'a AuditEvent) -> Option<&'a str>| text_column(events, f);
    sqlx::query(&sql)
        .bind(
            events
                .iter()
                .map(|e| e.tenant_id.into_uuid())
                .collect::<Vec<_>>(),
        )
        .bind(events.iter().map(|e| e.seq).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.id.into_uuid()).collect::<Vec<_>>())
        .bind(events.iter().map(|e| e.at).collect::<Vec<_>>())
        .bind(column(|e| Some(e.actor.kind.as_str())))
        .bind(column(|e| e.actor.id.as_deref()))
        .bind(
            events
                .iter()
                .map(|e| e.actor.tenant_id.map(TenantId::into_uuid))
                .collect::<Vec<_>>(),
        )
        .bind(column(|e| Some(e.action.as_str())))
        .bind(column(|e| e.subject_kind.as_deref()))
        .bind(column(|e| e.subject_id.as_deref()))
        .bind(column(|e| Some(e.outcome.as_str())))
        .bind(column(|e| e.origin.ip.as_deref()))
        .bind(column(|e| e.origin.user_agent.as_deref()))
        .bind(column(|e| e.origin.request_id.as_deref()))
        .bind(changes)
        .bind(column(|e| Some(e.prev_hash.as_str())))
        .bind(column(|e| Some(e.hash.as_str())))
        .execute(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// One text column of `events`, for an `UNNEST` insert.
fn text_column(
    events: &[AuditEvent],
    f: for<'b> fn(&'b AuditEvent) -> Option<&'b str>,
) -> Vec<Option<&str>> {
    events.iter().map(f).collect()
}

#[derive(sqlx::FromRow)]
struct EventRow {
    tenant_id: Uuid,
    seq: i64,
    id: Uuid,
    at: OffsetDateTime,
    actor_kind: String,
    actor_id: Option<String>,
    actor_tenant_id: Option<Uuid>,
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
            tenant_id: TenantId::from_uuid(self.tenant_id),
            seq: self.seq,
            id: AuditEventId::from_uuid(self.id),
            at: self.at,
            actor: Actor {
                kind: variant("actor kind", &self.actor_kind, ActorKind::parse)?,
                id: self.actor_id,
                tenant_id: self.actor_tenant_id.map(TenantId::from_uuid),
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
impl AuditStore for PostgresStore {
    async fn append(&self, journal: &Journal) -> Result<(), StoreError> {
        let Some(first) = journal.events.first() else {
            return Ok(());
        };
        let mut tx = self.tenant_tx(first.tenant_id).await?;
        append_journal(&mut tx, journal, Some(first.tenant_id)).await?;
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
            QueryBuilder::<Postgres>::new(format!("SELECT {EVENT_COLUMNS} FROM audit_events"));
        sql.push(" WHERE tenant_id = ")
            .push_bind(tenant.into_uuid());
        if let Some(action) = &query.action {
            sql.push(" AND action = ").push_bind(action.clone());
        }
        if let Some(prefix) = &query.action_prefix {
            // A plain prefix comparison: `%` and `_` in the prefix are characters, not
            // wildcards.
            sql.push(" AND starts_with(action, ")
                .push_bind(prefix.clone())
                .push(")");
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
            sql.push(" AND at >= ").push_bind(since);
        }
        if let Some(until) = query.until {
            sql.push(" AND at < ").push_bind(until);
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

        let mut tx = self.tenant_tx(tenant).await?;
        let rows: Vec<EventRow> = sql
            .build_query_as()
            .fetch_all(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
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
        let mut tx = self.tenant_tx(tenant).await?;
        let head: Option<(i64, String)> =
            sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE tenant_id = $1 AND seq > 0")
                .bind(tenant.as_uuid())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_error)?;
        commit(tx).await?;
        Ok(head)
    }
}
