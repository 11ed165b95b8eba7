//! An access request (who wants to do what to which resource, in which context) and the facts
//! about the resource that the application looks up for it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tessera_domain::authz::{AccessScope, Permission};
use tessera_domain::{OrgUnitId, UserId};

/// The resource a request is about: its type (a built-in resource such as `users`, or a
/// registered resource type such as `orders`), its id, and the properties the caller
/// supplies. Only the properties declared for the type reach Cedar; the others are ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceRef {
    pub kind: String,
    pub id: String,
    #[serde(default)]
    pub properties: Map<String, Value>,
}

/// One access question: may `subject` perform `action` on `resource`?
///
/// `context` may carry `ip` (string), `mfa` (bool), `now` (unix seconds), `hour` (0-23 UTC),
/// `weekday` (1 = Monday .. 7) and `channel` (string); other keys are ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccessRequest {
    pub subject: UserId,
    pub action: Permission,
    pub resource: ResourceRef,
    #[serde(default)]
    pub context: Map<String, Value>,
}

/// What the application knows about the resource, for scopes and Cedar's unit hierarchy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceFacts {
    /// The resource's organization unit, then its ancestors up to the root (empty when the
    /// resource belongs to no unit).
    pub units: Vec<OrgUnitId>,
    /// The user the resource belongs to (for a `users` resource, the user itself).
    pub owner: Option<UserId>,
}

impl ResourceFacts {
    /// Whether a grant in `scope` reaches this resource for `subject`: `tenant` always, a
    /// unit when the resource is in it or below it, `self` when the resource is the
    /// subject's own.
    pub fn covers(&self, scope: &AccessScope, subject: UserId) -> bool {
        match scope {
            AccessScope::Tenant => true,
            AccessScope::Unit(unit) => self.units.contains(unit),
            AccessScope::SelfOnly => self.owner == Some(subject),
        }
    }
}

/// A request Cedar cannot evaluate as sent: an unknown resource type, an action that does not
/// apply to the resource type, a context value or a declared resource property of the wrong
/// type. The caller answers it as a bad request.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    pub message: String,
}

impl RequestError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}
