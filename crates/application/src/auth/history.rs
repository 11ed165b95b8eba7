//! Login history: the sign-in attempts (and other authentication events) of a user, read
//! from the audit trail.

use super::sessions::SignedIn;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_domain::UserId;
use tessera_domain::api_key::Scope;
use tessera_domain::audit::AuditEvent;
use tessera_domain::paging::{Cursor, Page, SortOrder, page_size};
use tessera_domain::ports::AuditQuery;
use tessera_domain::tenant::Tenant;

impl App {
    async fn history(
        &self,
        tenant: &Tenant,
        user: UserId,
        after: Option<Cursor>,
        limit: Option<u32>,
    ) -> Result<Page<AuditEvent>, Error> {
        self.store()
            .list_audit(
                tenant.id,
                &AuditQuery {
                    subject_id: Some(user.to_string()),
                    action_prefix: Some("auth.".to_owned()),
                    order: SortOrder::Desc,
                    after,
                    limit: page_size(limit),
                    ..AuditQuery::default()
                },
            )
            .await
            .map_err(store_err("audit event"))
    }

    /// The signed-in user's own login history, newest first.
    pub async fn my_login_history(
        &self,
        me: &SignedIn,
        after: Option<Cursor>,
        limit: Option<u32>,
    ) -> Result<Page<AuditEvent>, Error> {
        self.history(&me.tenant, me.user.id, after, limit).await
    }

    /// Admin: a user's login history, newest first.
    pub async fn user_login_history(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
        after: Option<Cursor>,
        limit: Option<u32>,
    ) -> Result<Page<AuditEvent>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::AuditRead, "audit.read")
            .await?;
        self.load_user(&tenant, user).await?;
        self.history(&tenant, user, after, limit).await
    }
}
