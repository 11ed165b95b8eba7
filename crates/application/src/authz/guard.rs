//! Who may use the admin API, and on which records: API keys by their scopes (as before),
//! signed-in users by their compiled permission graph. A user holding a permission only
//! within organization units or for themself gets a data filter; use cases that do not take
//! one require the permission tenant-wide (fail closed).

use crate::app::App;
use crate::context::{Principal, RequestContext};
use crate::error::{Error, store_err};
use std::sync::Arc;
use tessera_domain::OrgUnitId;
use tessera_domain::api_key::Scope;
use tessera_domain::authz::{AccessScope, DataFilter, Permission, PermissionGraph, Within};
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;

/// The priority of callers above every role (the command line, the server itself, a key
/// holding `*`): they may grant Super Admin.
pub const ROOT_PRIORITY: u32 = 1_000;
/// The priority of an API key without `*`: just below Admin.
pub const KEY_PRIORITY: u32 = 89;

/// The tenant of an authorized request and what the caller may see in it.
pub(crate) struct Scoped {
    pub tenant: Tenant,
    pub filter: DataFilter,
    /// The caller's graph when the caller is a user.
    pub graph: Option<Arc<PermissionGraph>>,
}

impl Scoped {
    /// The store filter for listing users (`None`: everyone).
    pub fn within(&self) -> Option<Within> {
        match (&self.filter, &self.graph) {
            (DataFilter::All, _) => None,
            (DataFilter::Within(scopes), Some(g)) => Some(Within::of(g.user_id, scopes)),
            (DataFilter::Within(_), None) => Some(Within::default()),
        }
    }
}

pub(crate) fn permission_of(scope: Scope) -> Permission {
    Permission::parse(scope.as_str()).unwrap_or_else(|_| Permission::all())
}

fn lacks(perm: &Permission) -> Error {
    Error::Forbidden(format!("you need the permission `{perm}` for this"))
}

impl App {
    /// Resolves the tenant and checks that the caller holds `scope` on it, tenant-wide.
    /// A refusal is recorded in the tenant's trail as `action` with outcome failure.
    pub(crate) async fn authorize(
        &self,
        ctx: &RequestContext,
        slug: &str,
        scope: Scope,
        action: &str,
    ) -> Result<Tenant, Error> {
        let scoped = self.authorize_scoped(ctx, slug, scope, action).await?;
        match scoped.filter {
            DataFilter::All => Ok(scoped.tenant),
            DataFilter::Within(_) => {
                let e = Error::Forbidden(format!(
                    "you hold `{}` only within some organization units or for yourself; this needs it for the whole tenant",
                    scope.as_str()
                ));
                Err(self.refused(ctx, &scoped.tenant, action, e).await)
            }
        }
    }

    /// Resolves the tenant and checks that the caller holds `scope` in some scope; the answer
    /// says which records they may touch.
    pub(crate) async fn authorize_scoped(
        &self,
        ctx: &RequestContext,
        slug: &str,
        scope: Scope,
        action: &str,
    ) -> Result<Scoped, Error> {
        let tenant = self.tenant(slug).await?;
        let Principal::User {
            tenant_id, user_id, ..
        } = &ctx.principal
        else {
            return match ctx.principal.require_on(&tenant, scope) {
                Ok(()) => Ok(Scoped {
                    tenant,
                    filter: DataFilter::All,
                    graph: None,
                }),
                Err(e) => Err(self.refused(ctx, &tenant, action, e).await),
            };
        };
        if *tenant_id != tenant.id {
            // Same answer as a tenant that does not exist.
            return Err(Error::NotFound("tenant"));
        }
        let perm = permission_of(scope);
        let graph = self
            .permission_graph(tenant.id, *user_id)
            .await?
            .ok_or(Error::Unauthenticated(crate::error::AuthFailure::NoSession))?;
        let scopes = if graph.may_act() {
            graph.scopes_for(&perm)
        } else {
            vec![]
        };
        if scopes.is_empty() {
            return Err(self.refused(ctx, &tenant, action, lacks(&perm)).await);
        }
        Ok(Scoped {
            filter: DataFilter::from_scopes(scopes, graph.bypasses_filters),
            tenant,
            graph: Some(graph),
        })
    }

    /// Whether a unit lies within the caller's filter (one of their units or below it).
    pub(crate) async fn unit_in_scope(
        &self,
        scoped: &Scoped,
        unit: OrgUnitId,
    ) -> Result<bool, Error> {
        let DataFilter::Within(scopes) = &scoped.filter else {
            return Ok(true);
        };
        let ancestors = self.unit_chain(scoped.tenant.id, unit).await?;
        Ok(scopes.iter().any(|s| match s {
            AccessScope::Unit(u) => ancestors.contains(u),
            _ => false,
        }))
    }

    /// Whether a user record lies within the caller's filter: themself (self scope), or
    /// attached to a unit within it (an employee assigned there, a customer linked there).
    pub(crate) async fn user_in_scope(&self, scoped: &Scoped, user: &User) -> Result<bool, Error> {
        let DataFilter::Within(scopes) = &scoped.filter else {
            return Ok(true);
        };
        if scopes.contains(&AccessScope::SelfOnly)
            && scoped.graph.as_ref().is_some_and(|g| g.user_id == user.id)
        {
            return Ok(true);
        }
        let mut units: Vec<OrgUnitId> = user.org_unit_id.into_iter().collect();
        units.extend(
            self.store()
                .user_assignments(scoped.tenant.id, user.id)
                .await
                .map_err(store_err("assignment"))?
                .into_iter()
                .map(|a| a.unit_id),
        );
        for unit in units {
            if self.unit_in_scope(scoped, unit).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Refuses (as not found, so as not to reveal it) a user outside the caller's filter.
    pub(crate) async fn require_user_in_scope(
        &self,
        scoped: &Scoped,
        user: &User,
    ) -> Result<(), Error> {
        if self.user_in_scope(scoped, user).await? {
            Ok(())
        } else {
            Err(Error::NotFound("user"))
        }
    }

    /// The unit and its ancestors (cached per tenant epoch: moving a unit advances it).
    pub(crate) async fn unit_chain(
        &self,
        tenant: tessera_domain::TenantId,
        unit: OrgUnitId,
    ) -> Result<Vec<OrgUnitId>, Error> {
        let epoch = self.authz_epoch(tenant).await?;
        let key = format!("v1:authz:units:{tenant}:{epoch}:{unit}");
        if let Some(bytes) = self.ports.cache.get(&key).await
            && let Ok(chain) = serde_json::from_slice::<Vec<OrgUnitId>>(&bytes)
        {
            return Ok(chain);
        }
        let chain = self
            .store()
            .unit_ancestors(tenant, unit)
            .await
            .map_err(store_err("organization unit"))?;
        if let Ok(bytes) = serde_json::to_vec(&chain) {
            self.ports.cache.put(&key, &bytes).await;
        }
        Ok(chain)
    }

    /// The caller's priority: what roles they may create, grant, edit and revoke (strictly
    /// below it).
    pub(crate) async fn caller_priority(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
    ) -> Result<u32, Error> {
        Ok(match &ctx.principal {
            Principal::Cli | Principal::System => ROOT_PRIORITY,
            Principal::ApiKey { scopes, .. } if scopes.contains(&Scope::All) => ROOT_PRIORITY,
            Principal::ApiKey { .. } => KEY_PRIORITY,
            Principal::User { user_id, .. } => self
                .permission_graph(tenant.id, *user_id)
                .await?
                .filter(|g| g.may_act())
                .map_or(0, |g| g.priority),
            Principal::Anonymous => 0,
        })
    }

    /// Whether the caller holds `perm` for the whole tenant (what they may hand on through a
    /// template).
    pub(crate) async fn caller_holds_tenant_wide(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        perm: &Permission,
    ) -> Result<bool, Error> {
        Ok(match &ctx.principal {
            Principal::Cli | Principal::System => true,
            Principal::ApiKey { scopes, .. } => {
                scopes.iter().any(|s| permission_of(*s).grants(perm))
            }
            Principal::User { user_id, .. } => self
                .permission_graph(tenant.id, *user_id)
                .await?
                .filter(|g| g.may_act())
                .is_some_and(|g| {
                    g.grants_for(perm)
                        .any(|grant| grant.scope == AccessScope::Tenant)
                }),
            Principal::Anonymous => false,
        })
    }
}
