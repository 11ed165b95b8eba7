//! Versioned Cedar policy sets and the decision log.

use crate::{TenantId, ValidationError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The largest policy set a tenant may store (bytes of Cedar text).
pub const MAX_POLICY_BYTES: usize = 512 * 1024;

/// One version of a tenant's policy set. The newest version is in force; older versions are
/// kept, never changed, and can be restored by saving their text as a new version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicySet {
    pub tenant_id: TenantId,
    /// 1, 2, 3... per tenant.
    pub version: i64,
    /// Cedar source text. It parsed and validated against the tenant's schema when saved.
    pub text: String,
    pub comment: String,
    pub created_at: OffsetDateTime,
    /// Who saved it (an actor description, e.g. `user:<id>` or `api_key:<id>`).
    pub created_by: Option<String>,
}

impl PolicySet {
    pub fn check_size(text: &str) -> Result<(), ValidationError> {
        if text.len() > MAX_POLICY_BYTES {
            return Err(ValidationError::new(
                "policies",
                "too_large",
                format!("a policy set has at most {MAX_POLICY_BYTES} bytes"),
            ));
        }
        Ok(())
    }
}

/// One recorded decision (sampled at the tenant's configured rate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub id: uuid::Uuid,
    pub tenant_id: TenantId,
    pub at: OffsetDateTime,
    /// The request as evaluated (AuthZEN shape), so that it can be replayed by a simulation.
    pub request: serde_json::Value,
    pub allowed: bool,
    pub reason: String,
}

/// A tenant's authorization settings (`settings.authz`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthzSettings {
    /// The share of decisions recorded in the decision log (0 to 1). Default 0.01.
    pub decision_log_rate: f64,
}

impl Default for AuthzSettings {
    fn default() -> Self {
        Self {
            decision_log_rate: 0.01,
        }
    }
}

impl AuthzSettings {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if !(0.0..=1.0).contains(&self.decision_log_rate) {
            return Err(ValidationError::new(
                "authz.decision_log_rate",
                "out_of_range",
                "the decision log rate is between 0 and 1",
            ));
        }
        Ok(())
    }
}
