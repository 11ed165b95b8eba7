//! System-role assignments through the admin API, and API keys created by a signed-in
//! administrator. Administrative roles make a second factor mandatory; granting one needs a
//! key holding every scope (`*`), and an administrator creates keys only from a session that
//! passed a second factor recently.

use crate::api_keys::{ApiKeyCreated, NewApiKey};
use crate::app::App;
use crate::auth::assurance::restricted;
use crate::auth::sessions::SignedIn;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_domain::UserId;
use tessera_domain::api_key::Scope;
use tessera_domain::audit::{FieldChange, Origin};
use tessera_domain::ports::Journal;
use tessera_domain::role::SystemRole;

/// The scopes a key created by a holder of `role` may carry.
fn scopes_of(role: SystemRole) -> &'static [Scope] {
    match role {
        SystemRole::SuperAdmin => &Scope::ALL,
        SystemRole::Admin => &[
            Scope::UsersRead,
            Scope::UsersWrite,
            Scope::OrgUnitsRead,
            Scope::OrgUnitsWrite,
            Scope::AuditRead,
            Scope::ApiKeysManage,
        ],
        SystemRole::Owner => &[
            Scope::UsersRead,
            Scope::UsersWrite,
            Scope::OrgUnitsRead,
            Scope::OrgUnitsWrite,
        ],
        SystemRole::Operator => &[Scope::UsersRead, Scope::OrgUnitsRead, Scope::AuditRead],
        _ => &[],
    }
}

impl App {
    /// Admin: the system roles a user holds.
    pub async fn user_system_roles(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
    ) -> Result<Vec<SystemRole>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersRead, "role.listed")
            .await?;
        let user = self.load_user(&tenant, user).await?;
        self.roles_of(&tenant, &user).await
    }

    /// Admin: grants (`grant`) or revokes a system role. Administrative roles need a key
    /// holding `*`.
    pub async fn set_user_role(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
        role: SystemRole,
        grant: bool,
    ) -> Result<(), Error> {
        let action = if grant {
            "role.granted"
        } else {
            "role.revoked"
        };
        let scope = if role.is_administrative() {
            Scope::All
        } else {
            Scope::UsersWrite
        };
        let tenant = self.authorize(ctx, slug, scope, action).await?;
        let user = self.load_user(&tenant, user).await?;
        let journal = Journal::one(self.draft(
            ctx,
            &tenant,
            action,
            ("user", user.id.to_string()),
            vec![FieldChange {
                field: "role".into(),
                before: if grant {
                    serde_json::Value::Null
                } else {
                    role.key().into()
                },
                after: if grant {
                    role.key().into()
                } else {
                    serde_json::Value::Null
                },
            }],
        ));
        let store = self.store();
        if grant {
            store
                .grant_role(tenant.id, user.id, role, self.now(), &journal)
                .await
        } else {
            store.revoke_role(tenant.id, user.id, role, &journal).await
        }
        .map_err(store_err("role assignment"))
    }

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
        let best = self
            .roles_of(&me.tenant, &me.user)
            .await?
            .into_iter()
            .filter(|r| r.is_administrative())
            .max();
        let Some(role) = best else {
            let e = Error::Forbidden("only administrators create API keys".to_owned());
            return Err(self.refused(&ctx, &me.tenant, "api_key.created", e).await);
        };
        if !me.session.has_mfa() {
            return Err(Error::Refused {
                code: "mfa_required",
                message: "API keys are created only from a sign-in that passed a second factor: sign in again with it".to_owned(),
            });
        }
        self.require_recent_auth(me)?;
        let allowed = scopes_of(role);
        if let Some(s) = new
            .scopes
            .iter()
            .find(|w| !allowed.iter().any(|h| h.grants(**w)))
        {
            let e = Error::Forbidden(format!("your role cannot grant the scope `{s}`"));
            return Err(self.refused(&ctx, &me.tenant, "api_key.created", e).await);
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
