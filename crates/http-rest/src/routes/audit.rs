use crate::caller::Caller;
use crate::convert::audit_response;
use crate::errors::{ApiError, ApiResult, problem};
use crate::paging;
use crate::state::RestState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tessera_api_types::audit::AuditEventResponse;
use tessera_api_types::common::Page;
use tessera_application::{Error, RequestContext};
use tessera_domain::ValidationError;
use tessera_domain::audit::Outcome;
use tessera_domain::paging::{MAX_PAGE_SIZE, SortOrder};
use tessera_domain::ports::AuditQuery;
use tessera_http_kit::{PathParam, QueryParams};
use time::OffsetDateTime;
use utoipa::IntoParams;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditParams {
    pub limit: Option<u32>,
    pub cursor: Option<String>,
    /// Exact action, for example `user.created`.
    pub action: Option<String>,
    /// The id of the API key or user that acted.
    pub actor_id: Option<String>,
    /// The id of the thing acted upon.
    pub subject_id: Option<String>,
    /// `success` or `failure`.
    pub outcome: Option<String>,
    /// RFC 3339 time, inclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    pub since: Option<OffsetDateTime>,
    /// RFC 3339 time, exclusive.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>)]
    pub until: Option<OffsetDateTime>,
    /// `asc` (oldest first, default) or `desc`.
    pub order: Option<String>,
    /// Export only: `jsonl` (default) or `csv`.
    pub format: Option<String>,
}

fn query(p: &AuditParams, limit: u32) -> Result<AuditQuery, ApiError> {
    let invalid = |f: &str, c: &'static str, m: &str| {
        ApiError::from(Error::invalid(ValidationError::new(f, c, m)))
    };
    let outcome = match p.outcome.as_deref() {
        None => None,
        Some(o) => Some(Outcome::parse(o).ok_or_else(|| {
            invalid(
                "outcome",
                "invalid_outcome",
                "outcome is success or failure",
            )
        })?),
    };
    let order = match p.order.as_deref() {
        None | Some("asc") => SortOrder::Asc,
        Some("desc") => SortOrder::Desc,
        Some(_) => return Err(invalid("order", "invalid_order", "order is asc or desc")),
    };
    Ok(AuditQuery {
        action: p.action.clone(),
        action_prefix: None,
        actor_id: p.actor_id.clone(),
        subject_id: p.subject_id.clone(),
        outcome,
        since: p.since,
        until: p.until,
        order,
        after: paging::cursor(p.cursor.as_deref())?,
        limit,
    })
}

/// Query the tenant's audit trail.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/audit", tag = "audit", params(("t" = String, Path), AuditParams),
    responses((status = 200, body = Page<AuditEventResponse>)), security(("api_key" = [])))]
pub async fn list(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(p): QueryParams<AuditParams>,
) -> ApiResult<Json<Page<AuditEventResponse>>> {
    let q = query(&p, paging::limit(p.limit))?;
    let page = s.app.list_audit(&ctx, &t, q).await?;
    Ok(Json(paging::page(page, audit_response)))
}

#[derive(Clone, Copy)]
enum Format {
    JsonLines,
    Csv,
}

const CSV_HEADER: [&str; 16] = [
    "seq",
    "id",
    "at",
    "tenant_id",
    "actor_kind",
    "actor_id",
    "action",
    "subject_kind",
    "subject_id",
    "outcome",
    "ip",
    "user_agent",
    "request_id",
    "changes",
    "prev_hash",
    "hash",
];

fn csv_rows(events: Vec<AuditEventResponse>, with_header: bool) -> Result<Bytes, std::io::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if with_header {
        w.write_record(CSV_HEADER)?;
    }
    for e in events {
        let opt = |v: &Option<String>| v.clone().unwrap_or_default();
        let at =
            e.at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default();
        w.write_record([
            e.seq.to_string(),
            e.id.to_string(),
            at,
            e.tenant_id.to_string(),
            e.actor.kind.clone(),
            opt(&e.actor.id),
            e.action.clone(),
            opt(&e.subject_kind),
            opt(&e.subject_id),
            e.outcome.clone(),
            opt(&e.ip),
            opt(&e.user_agent),
            opt(&e.request_id),
            serde_json::to_string(&e.changes).unwrap_or_default(),
            e.prev_hash.clone(),
            e.hash.clone(),
        ])?;
    }
    w.into_inner()
        .map(Bytes::from)
        .map_err(|e| std::io::Error::other(e.to_string()))
}

fn jsonl_rows(events: Vec<AuditEventResponse>) -> Bytes {
    let mut out = Vec::new();
    for e in events {
        if let Ok(line) = serde_json::to_vec(&e) {
            out.extend_from_slice(&line);
            out.push(b'\n');
        }
    }
    Bytes::from(out)
}

struct Export {
    app: tessera_application::App,
    ctx: RequestContext,
    tenant: String,
    query: AuditQuery,
    format: Format,
    first: bool,
    done: bool,
}

/// Fetches the next page and renders it; `None` at the end.
async fn next_chunk(mut st: Export) -> Option<(Result<Bytes, std::io::Error>, Export)> {
    if st.done {
        return None;
    }
    let page = match st
        .app
        .list_audit(&st.ctx, &st.tenant, st.query.clone())
        .await
    {
        Ok(page) => page,
        Err(e) => {
            tracing::error!(error = %e, "audit export failed mid-stream");
            st.done = true;
            return Some((Err(std::io::Error::other("audit export failed")), st));
        }
    };
    st.done = page.next.is_none();
    st.query.after = page.next;
    let events: Vec<_> = page.items.into_iter().map(audit_response).collect();
    let chunk = match st.format {
        Format::JsonLines => Ok(jsonl_rows(events)),
        Format::Csv => csv_rows(events, st.first),
    };
    st.first = false;
    Some((chunk, st))
}

/// Export the (filtered) audit trail as JSON Lines or CSV, streamed page by page.
#[utoipa::path(get, path = "/api/v1/tenants/{t}/audit/export", tag = "audit", params(("t" = String, Path), AuditParams),
    responses((status = 200, description = "JSON Lines (application/x-ndjson) or CSV (text/csv)")), security(("api_key" = [])))]
pub async fn export(
    State(s): State<RestState>,
    Caller(ctx): Caller,
    PathParam(t): PathParam<String>,
    QueryParams(p): QueryParams<AuditParams>,
) -> ApiResult<Response> {
    let format = match p.format.as_deref() {
        None | Some("jsonl") => Format::JsonLines,
        Some("csv") => Format::Csv,
        Some(_) => {
            return Err(Error::invalid(ValidationError::new(
                "format",
                "invalid_format",
                "format is jsonl or csv",
            ))
            .into());
        }
    };
    let q = query(&p, MAX_PAGE_SIZE)?;
    // Check access (and the filters) before the 200 goes out: afterwards errors cannot change
    // the status any more.
    let mut probe = q.clone();
    probe.limit = 1;
    if let Err(e) = s.app.list_audit(&ctx, &t, probe).await {
        return Ok(problem(e).into_response());
    }
    let state = Export {
        app: s.app.clone(),
        ctx,
        tenant: t.clone(),
        query: q,
        format,
        first: true,
        done: false,
    };
    let body = Body::from_stream(futures::stream::unfold(state, next_chunk));
    let (content_type, ext) = match format {
        Format::JsonLines => ("application/x-ndjson", "jsonl"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"audit-{t}.{ext}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}
