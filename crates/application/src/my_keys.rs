//! API keys created by a signed-in administrator from their session: it must have passed a
//! second factor, recently; the key carries only permissions its creator holds for the whole
//! tenant.

use crate::api_keys::{ApiKeyCreated, NewApiKey};
use crate::app::App;
use crate::auth::assurance::restricted;
use crate::auth::sessions::SignedIn;
use crate::authz::guard::permission_of;
use crate::error::{Error, store_err};
use tessera_domain::api_key::Scope;
use tessera_domain::audit::Origin;
use tessera_domain::role::SystemRole;

impl App {
    /// An administrator creates an API key of their tenant from their session: it must have
    /// passed a second factor, recently; the key carries at most what their role allows.
    pub async fn create_my_api_key(
        &self,
        me: &SignedIn,
        origin: Origin,
        new: NewApiKey,
    ) -> Result<ApiKeyCreated, Error> {
        if let Some(r) = me.session.restriction {
            return Err(restricted(r));
        }
        let ctx = me.context(origin);
        let priority = self.caller_priority(&ctx, &me.tenant).await?;
        if priority < SystemRole::Owner.priority() {
            let e = Error::Forbidden("only administrators create API keys".to_owned());
            return Err(self.refused(&ctx, &me.tenant, "api_key.created", e).await);
        }
        if !me.session.has_mfa() {
            return Err(Error::Refused {
                code: "mfa_required",
                message: "API keys are created only from a sign-in that passed a second factor: sign in again with it".to_owned(),
            });
        }
        self.require_recent_auth(me)?;
        // `*` makes a key outrank every role, and tenant scopes manage the platform: only a
        // Super Admin hands those out.
        let root_only =
            |s: &Scope| matches!(s, Scope::All | Scope::TenantsRead | Scope::TenantsWrite);
        if priority < SystemRole::SuperAdmin.priority()
            && let Some(s) = new.scopes.iter().find(|s| root_only(s))
        {
            let e = Error::Forbidden(format!("only a Super Admin gives a key the scope `{s}`"));
            return Err(self.refused(&ctx, &me.tenant, "api_key.created", e).await);
        }
        for s in &new.scopes {
            if !self
                .caller_holds_tenant_wide(&ctx, &me.tenant, &permission_of(*s))
                .await?
            {
                let e = Error::Forbidden(format!(
                    "you cannot give a key the scope `{s}`: you do not hold it for the whole tenant"
                ));
                return Err(self.refused(&ctx, &me.tenant, "api_key.created", e).await);
            }
        }
        let mut created = self.mint_api_key(me.tenant.id, new)?;
        created.key.created_by = Some(me.user.id);
        let journal = self.journal(
            &ctx,
            &me.tenant,
            "api_key.created",
            ("api_key", created.key.id.to_string()),
            None,
            Some(&created.key),
        );
        self.store()
            .insert_api_key(&created.key, &journal)
            .await
            .map_err(store_err("api key"))?;
        Ok(created)
    }
}
