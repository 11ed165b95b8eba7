//! Who is asking, from where, and what they may do.

use crate::error::Error;
use tessera_domain::api_key::Scope;
use tessera_domain::audit::{Actor, ActorKind, Origin};
use tessera_domain::tenant::Tenant;
use tessera_domain::{ApiKeyId, TenantId};

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
        }
    }

    fn has_scope(&self, wanted: Scope) -> bool {
        match self {
            Self::ApiKey { scopes, .. } => scopes.iter().any(|s| s.grants(wanted)),
            Self::Cli => true,
        }
    }

    /// Platform-level permission (tenant registry): operator keys only.
    pub fn require_platform(&self, wanted: Scope) -> Result<(), Error> {
        match self {
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
        if !self.has_scope(wanted) {
            return Err(missing(wanted));
        }
        Ok(())
    }
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
}
