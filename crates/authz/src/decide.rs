//! Deciding an access request: RBAC (the compiled graph, scopes) and Cedar (the tenant's
//! policies), with the reason and what produced it.

use crate::cedar_request::{check, translate};
use crate::engine::Engine;
use crate::request::{AccessRequest, RequestError, ResourceFacts};
use cedar_policy::{AuthorizationError, Decision as CedarDecision};
use serde::Serialize;
use std::collections::BTreeSet;
use tessera_domain::authz::{AccessScope, Grant, PermissionGraph, RoleRef, Source};

/// Why a request was allowed or denied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// A role or template grants the permission in a scope covering the resource.
    AllowedByRole,
    /// No role grants it, but a Cedar `permit` does (registered resource types only).
    AllowedByPolicy,
    /// A role grants it, but a Cedar `forbid` applies.
    ForbiddenByPolicy,
    /// Neither a role nor a policy grants it.
    NoPermission,
    /// The user holds the permission, but not in a scope covering this resource.
    OutOfScope,
    /// The user is not active: every request is denied.
    SubjectInactive,
    /// A `forbid` policy failed to evaluate for this request: denied (fail closed).
    PolicyError,
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Self::AllowedByRole => "allowed_by_role",
            Self::AllowedByPolicy => "allowed_by_policy",
            Self::ForbiddenByPolicy => "forbidden_by_policy",
            Self::NoPermission => "no_permission",
            Self::OutOfScope => "out_of_scope",
            Self::SubjectInactive => "subject_inactive",
            Self::PolicyError => "policy_error",
        }
    }
}

/// What produced a decision: for an allow, the roles and templates that grant the permission
/// in a covering scope (and that scope); for a denial out of scope, the roles and templates
/// that hold it elsewhere; the determining policies either way.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Explanation {
    pub roles: Vec<RoleRef>,
    pub templates: Vec<String>,
    pub policies: Vec<String>,
    pub scope: Option<AccessScope>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub allowed: bool,
    pub reason: Reason,
    /// One sentence for a person.
    pub message: String,
    pub explanation: Explanation,
}

impl Decision {
    fn new(allowed: bool, reason: Reason, message: String, explanation: Explanation) -> Self {
        Self {
            allowed,
            reason,
            message,
            explanation,
        }
    }
}

fn quoted(items: &[String]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Roles and templates behind `grants`.
fn sources(grants: &[&Grant]) -> (Vec<RoleRef>, Vec<String>) {
    let mut roles = BTreeSet::new();
    let mut templates = BTreeSet::new();
    for grant in grants {
        match &grant.source {
            Source::SystemRole(role) => {
                roles.insert(role.clone());
            }
            Source::RoleTemplate { role, template } => {
                roles.insert(role.clone());
                templates.insert(template.clone());
            }
            Source::UserTemplate(template) => {
                templates.insert(template.clone());
            }
        }
    }
    (roles.into_iter().collect(), templates.into_iter().collect())
}

fn describe_sources(roles: &[RoleRef], templates: &[String]) -> String {
    let roles: Vec<String> = roles.iter().map(ToString::to_string).collect();
    match (roles.is_empty(), templates.is_empty()) {
        (false, true) => format!("role {}", quoted(&roles)),
        (true, false) => format!("template {}", quoted(templates)),
        _ => format!("role {} (template {})", quoted(&roles), quoted(templates)),
    }
}

/// The widest of the matching scopes: the tenant, else the highest unit of the resource's
/// chain, else the user's own records.
fn widest(matching: &[&Grant], facts: &ResourceFacts) -> Option<AccessScope> {
    let scopes: Vec<&AccessScope> = matching.iter().map(|g| &g.scope).collect();
    if scopes.contains(&&AccessScope::Tenant) {
        return Some(AccessScope::Tenant);
    }
    facts
        .units
        .iter()
        .rev()
        .map(|u| AccessScope::Unit(*u))
        .find(|s| scopes.contains(&s))
        .or_else(|| scopes.first().map(|s| (*s).clone()))
}

/// The RBAC half of a decision.
struct Rbac<'g> {
    matching: Vec<&'g Grant>,
    elsewhere: Vec<&'g Grant>,
}

impl Rbac<'_> {
    fn allows(&self) -> bool {
        !self.matching.is_empty()
    }

    fn allowed(&self, req: &AccessRequest, facts: &ResourceFacts) -> Decision {
        let (roles, templates) = sources(&self.matching);
        let scope = widest(&self.matching, facts);
        let message = format!(
            "Allowed: {} grants `{}`{}.",
            describe_sources(&roles, &templates),
            req.action,
            scope
                .as_ref()
                .map_or(String::new(), |s| format!(" in scope `{s}`"))
        );
        let explanation = Explanation {
            roles,
            templates,
            policies: Vec::new(),
            scope,
        };
        Decision::new(true, Reason::AllowedByRole, message, explanation)
    }

    /// The denial when RBAC does not allow (and no policy does): out of scope when the
    /// permission is held elsewhere.
    fn denied(&self, req: &AccessRequest, policies: Vec<String>) -> Decision {
        let forbidden = if policies.is_empty() {
            String::new()
        } else {
            format!(" Policy {} also forbids it.", quoted(&policies))
        };
        if self.elsewhere.is_empty() {
            let message = format!(
                "Denied: no role, template or policy grants `{}`.{forbidden}",
                req.action
            );
            let explanation = Explanation {
                policies,
                ..Explanation::default()
            };
            return Decision::new(false, Reason::NoPermission, message, explanation);
        }
        let (roles, templates) = sources(&self.elsewhere);
        let scopes: BTreeSet<String> = self.elsewhere.iter().map(|g| g.scope.to_string()).collect();
        let scopes: Vec<String> = scopes.into_iter().collect();
        let message = format!(
            "Denied: {} grants `{}` only in scope {}, which does not cover this {} resource.{forbidden}",
            describe_sources(&roles, &templates),
            req.action,
            quoted(&scopes),
            req.resource.kind
        );
        let explanation = Explanation {
            roles,
            templates,
            policies,
            scope: None,
        };
        Decision::new(false, Reason::OutOfScope, message, explanation)
    }
}

/// Decides `req` for the user whose compiled graph is `graph`.
///
/// 1. A user who is not active is denied (`SubjectInactive`), without evaluating anything.
/// 2. RBAC: the grants covering the action whose scope covers the resource (see
///    [`ResourceFacts::covers`]) allow it; holding it only in other scopes is `OutOfScope`.
/// 3. When the tenant has policies, the request is translated for Cedar (an unknown
///    resource type, an action not on that type, or a value of the wrong type is a
///    [`RequestError`]) and evaluated when the policies can change the outcome.
/// 4. An RBAC allow stands unless a `forbid` is satisfied (`ForbiddenByPolicy`). Without an
///    RBAC allow, a Cedar allow grants registered resource types only (`AllowedByPolicy`);
///    Tessera's built-in resources are granted by roles alone. A `forbid` that fails to
///    evaluate denies (`PolicyError`).
///
/// Errors: [`RequestError`] for a request that cannot be evaluated as sent (including a
/// pattern such as `orders:*` as the action, or a graph compiled for another user).
pub fn decide(
    graph: &PermissionGraph,
    engine: &Engine,
    req: &AccessRequest,
    facts: &ResourceFacts,
) -> Result<Decision, RequestError> {
    if req.subject != graph.user_id {
        return Err(RequestError::new(
            "the permission graph was compiled for another user than the request's subject",
        ));
    }
    if req.action.is_pattern() {
        return Err(RequestError::new(format!(
            "`{}` is a pattern: a request names one action, such as `orders:refund`",
            req.action
        )));
    }
    if !graph.may_act() {
        let message = format!(
            "Denied: the user is {} and only an active user may act.",
            graph.state
        );
        return Ok(Decision::new(
            false,
            Reason::SubjectInactive,
            message,
            Explanation::default(),
        ));
    }

    let (matching, elsewhere): (Vec<&Grant>, Vec<&Grant>) = graph
        .grants_for(&req.action)
        .partition(|g| facts.covers(&g.scope, graph.user_id));
    let rbac = Rbac {
        matching,
        elsewhere,
    };

    let Some(policies) = engine.policies() else {
        return Ok(if rbac.allows() {
            rbac.allowed(req, facts)
        } else {
            rbac.denied(req, Vec::new())
        });
    };
    let kind = engine.kinds.get(&req.resource.kind).ok_or_else(|| {
        RequestError::new(format!(
            "unknown resource type `{}`: neither a built-in resource nor a registered type",
            req.resource.kind
        ))
    })?;
    let action = check(kind, req)?;
    // Cedar can only take an RBAC allow away (with a forbid), and only give what RBAC does
    // not for a registered type: skip the evaluation when it cannot change the outcome.
    let can_change = if rbac.allows() {
        engine.has_forbids()
    } else {
        kind.registered
    };
    if !can_change {
        return Ok(if rbac.allows() {
            rbac.allowed(req, facts)
        } else {
            rbac.denied(req, Vec::new())
        });
    }

    let query = translate(engine, kind, action, graph, req, facts)?;
    let response = engine
        .authorizer
        .is_authorized(&query.request, policies, &query.entities);
    let mut failed: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    for error in response.diagnostics().errors() {
        let AuthorizationError::PolicyEvaluationError(e) = error;
        if engine.is_forbid(e.policy_id()) {
            failed.push(e.policy_id().to_string());
            failures.push(e.inner().to_string());
        }
    }
    if !failed.is_empty() {
        let message = format!(
            "Denied: forbid policy {} could not be evaluated for this request ({}), so the request is refused.",
            quoted(&failed),
            failures.join("; ")
        );
        let explanation = Explanation {
            policies: failed,
            ..Explanation::default()
        };
        return Ok(Decision::new(
            false,
            Reason::PolicyError,
            message,
            explanation,
        ));
    }
    let mut determining: Vec<String> = response
        .diagnostics()
        .reason()
        .map(ToString::to_string)
        .collect();
    determining.sort();

    Ok(match (rbac.allows(), response.decision()) {
        (true, CedarDecision::Deny) if !determining.is_empty() => {
            let (roles, templates) = sources(&rbac.matching);
            let message = format!(
                "Denied: policy {} forbids `{}`, although {} grants it.",
                quoted(&determining),
                req.action,
                describe_sources(&roles, &templates)
            );
            let explanation = Explanation {
                roles,
                templates,
                policies: determining,
                scope: widest(&rbac.matching, facts),
            };
            Decision::new(false, Reason::ForbiddenByPolicy, message, explanation)
        }
        (true, _) => rbac.allowed(req, facts),
        (false, CedarDecision::Allow) => {
            let message = format!(
                "Allowed: policy {} permits `{}` (no role grants it).",
                quoted(&determining),
                req.action
            );
            let explanation = Explanation {
                policies: determining,
                ..Explanation::default()
            };
            Decision::new(true, Reason::AllowedByPolicy, message, explanation)
        }
        (false, CedarDecision::Deny) => rbac.denied(req, determining),
    })
}
