//! Reading and verifying the audit trail.

use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_domain::api_key::Scope;
use tessera_domain::audit::{AuditEvent, ChainBreak, ChainVerifier};
use tessera_domain::paging::{MAX_PAGE_SIZE, Page, SortOrder};
use tessera_domain::ports::AuditQuery;
use tessera_domain::tenant::Tenant;

/// The outcome of verifying one tenant's chain.
#[derive(Clone, Debug)]
pub struct VerifyReport {
    pub tenant: String,
    /// Events checked (up to the first break).
    pub events: u64,
    pub result: Result<(), ChainBreak>,
}

impl App {
    /// One page of a tenant's audit events.
    pub async fn list_audit(
        &self,
        ctx: &RequestContext,
        slug: &str,
        query: AuditQuery,
    ) -> Result<Page<AuditEvent>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::AuditRead, "audit.read")
            .await?;
        self.store()
            .list_audit(tenant.id, &query)
            .await
            .map_err(store_err("audit event"))
    }

    /// Verifies the hash chain of one tenant, or of every tenant when `slug` is `None`.
    /// Only for trusted callers (the command line, operator keys with `audit:read`).
    pub async fn verify_audit(
        &self,
        ctx: &RequestContext,
        slug: Option<&str>,
    ) -> Result<Vec<VerifyReport>, Error> {
        ctx.principal.require_platform(Scope::AuditRead)?;
        let tenants = match slug {
            Some(s) => vec![self.tenant(s).await?],
            None => self.all_tenants().await?,
        };
        let mut reports = Vec::with_capacity(tenants.len());
        for tenant in tenants {
            reports.push(self.verify_tenant_chain(&tenant).await?);
        }
        Ok(reports)
    }

    async fn all_tenants(&self) -> Result<Vec<Tenant>, Error> {
        let mut all = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store()
                .list_tenants(after.as_ref(), MAX_PAGE_SIZE)
                .await
                .map_err(store_err("tenant"))?;
            all.extend(page.items);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(all),
            }
        }
    }

    async fn verify_tenant_chain(&self, tenant: &Tenant) -> Result<VerifyReport, Error> {
        let mut verifier = ChainVerifier::default();
        let mut checked = 0u64;
        // Read the head first: events appended while we walk are after it and not checked.
        let head = self
            .store()
            .audit_head(tenant.id)
            .await
            .map_err(store_err("audit head"))?;
        let mut query = AuditQuery {
            order: SortOrder::Asc,
            limit: MAX_PAGE_SIZE,
            ..AuditQuery::default()
        };
        let head_seq = head.as_ref().map_or(0, |h| h.0);
        let report = |events, result| VerifyReport {
            tenant: tenant.slug.to_string(),
            events,
            result,
        };
        loop {
            let page = self
                .store()
                .list_audit(tenant.id, &query)
                .await
                .map_err(store_err("audit event"))?;
            for event in page.items.iter().filter(|e| e.seq <= head_seq) {
                if let Err(brk) = verifier.check(event) {
                    return Ok(report(checked, Err(brk)));
                }
                checked += 1;
            }
            match page.next {
                Some(next) if page.items.last().is_some_and(|e| e.seq < head_seq) => {
                    query.after = Some(next)
                }
                _ => break,
            }
        }
        let result = verifier
            .finish(head.as_ref().map(|(s, h)| (*s, h.as_str())))
            .map(|_| ());
        Ok(report(checked, result))
    }
}
