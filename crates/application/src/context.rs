//! Who is asking, from where, and what they may do.

use crate::error::Error;
use tessera_domain::api_key::Scope;
use tessera_domain::audit::{Actor, ActorKind, Origin};
use tessera_domain::tenant::Tenant;
use tessera_domain::{ApiKeyId, SessionId, TenantId, UserId};

/// An authenticated caller.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Principal {
    /// An admin API key of a tenant. Keys of the operator tenant (`system`) act on every tenant.
    ApiKey {
        id: ApiKeyId,
        tenant_id: TenantId,
        operator: bool,
        scopes: Vec<Scope>,
    },
    /// The command line on the server host (bootstrap, audit verify): trusted.
    Cli,
    /// A signed-in user (session cookie or access token). Acts on their own account only;
    /// the admin API needs an API key until roles are granted (authorization issue).
    User {
        tenant_id: TenantId,
        user_id: UserId,
        session_id: SessionId,
    },
    /// Nobody yet: a sign-in, registration or recovery request.
    Anonymous,
    /// Tessera itself (schedulers).
    System,
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self {
            Self::ApiKey { id, tenant_id, .. } => Actor {
                kind: ActorKind::ApiKey,
                id: Some(id.to_string()),
                tenant_id: Some(*tenant_id),
            },
            Self::Cli => Actor::cli(),
            Self::User {
                tenant_id, user_id, ..
            } => Actor {
                kind: ActorKind::User,
                id: Some(user_id.to_string()),
                tenant_id: Some(*tenant_id),
            },
            Self::System => Actor {
                kind: ActorKind::System,
                id: None,
                tenant_id: None,
            },
            Self::Anonymous => Actor {
                kind: ActorKind::User,
                id: None,
                tenant_id: None,
            },
        }
    }

    fn has_scope(&self, wanted: Scope) -> bool {
        match self {
            Self::ApiKey { scopes, .. } => scopes.iter().any(|s| s.grants(wanted)),
            Self::Cli | Self::System => true,
            Self::User { .. } | Self::Anonymous => false,
        }
    }

    /// Platform-level permission (tenant registry): operator keys only.
    pub fn require_platform(&self, wanted: Scope) -> Result<(), Error> {
        match self {
            Self::User { .. } | Self::Anonymous => Err(user_forbidden()),
            Self::ApiKey {
                operator: false, ..
            } => Err(Error::Forbidden(
                "only API keys of the operator tenant `system` manage tenants".to_owned(),
            )),
            _ if !self.has_scope(wanted) => Err(missing(wanted)),
            _ => Ok(()),
        }
    }

    /// Permission on one tenant's data: an operator key, or a key of that very tenant, holding
    /// the scope. A disabled tenant accepts only operator keys.
    pub fn require_on(&self, tenant: &Tenant, wanted: Scope) -> Result<(), Error> {
        if let Self::ApiKey {
            tenant_id,
            operator,
            ..
        } = self
        {
            if !operator && *tenant_id != tenant.id {
                // Same answer as a tenant that does not exist: do not reveal other tenants.
                return Err(Error::NotFound("tenant"));
            }
            if !operator && tenant.state == tessera_domain::tenant::TenantState::Disabled {
                return Err(Error::Forbidden(format!(
                    "the tenant `{}` is disabled",
                    tenant.slug
                )));
            }
        }
        if let Self::User { tenant_id, .. } = self {
            if *tenant_id != tenant.id {
                return Err(Error::NotFound("tenant"));
            }
            return Err(user_forbidden());
        }
        if matches!(self, Self::Anonymous) {
            return Err(user_forbidden());
        }
        if !self.has_scope(wanted) {
            return Err(missing(wanted));
        }
        Ok(())
    }
}

fn user_forbidden() -> Error {
    Error::Forbidden(
        "the admin API takes an API key; a signed-in user manages their own account under /t/{tenant}/api/v1/me"
            .to_owned(),
    )
}

fn missing(wanted: Scope) -> Error {
    Error::Forbidden(format!("this API key lacks the scope `{wanted}`"))
}

/// A request to the application: the principal and the origin recorded in audit events.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub principal: Principal,
    pub origin: Origin,
}

impl RequestContext {
    pub fn cli() -> Self {
        Self {
            principal: Principal::Cli,
            origin: Origin::default(),
        }
    }

    /// Tessera's own background work.
    pub fn system() -> Self {
        Self {
            principal: Principal::System,
            origin: Origin::default(),
        }
    }

    /// An unauthenticated request (sign-in, registration, recovery) from `origin`.
    pub fn anonymous(origin: Origin) -> Self {
        Self {
            principal: Principal::Anonymous,
            origin,
        }
    }
}
