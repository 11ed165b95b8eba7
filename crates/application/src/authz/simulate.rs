//! Policy simulation: a proposed change (a policy set, a custom role, a template or a role
//! assignment) evaluated against a list of requests, or against the last recorded decisions,
//! before anything is saved. The answer lists the requests whose outcome would change, with
//! the reasons before and after.

use super::evaluate::{Evaluation, decide};
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::Arc;
use tessera_authz::{Engine, Subject};
use tessera_domain::api_key::Scope;
use tessera_domain::authz::{
    AccessScope, CustomRole, MenuItem, Permission, PermissionGraph, RoleAssignment, RoleKey,
    RoleRef, Template, TenantModel,
};
use tessera_domain::{UserId, ValidationError};

/// The most requests one simulation replays.
pub const MAX_SIMULATED: usize = 1_000;

/// What would change.
#[derive(Clone, Debug)]
pub enum ProposedChange {
    /// A new policy set text.
    Policies(String),
    /// A custom role created or changed (key, priority, parent).
    Role {
        key: RoleKey,
        priority: u32,
        parent: Option<RoleRef>,
    },
    /// A template created or changed (key and permissions; grants stay).
    Template {
        key: String,
        permissions: BTreeSet<Permission>,
    },
    /// A role granted or revoked.
    Assignment {
        user: UserId,
        role: RoleRef,
        scope: AccessScope,
        grant: bool,
    },
}

/// Which requests to replay.
#[derive(Clone, Debug)]
pub enum Replay {
    Given(Vec<Evaluation>),
    /// The newest `n` entries of the decision log.
    Recent(u32),
}

#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub decision: bool,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChangedDecision {
    pub index: usize,
    pub request: serde_json::Value,
    pub before: Outcome,
    pub after: Outcome,
}

#[derive(Clone, Debug, Serialize)]
pub struct SimulationReport {
    pub evaluated: usize,
    pub changed: Vec<ChangedDecision>,
}

fn invalid(field: &str, code: &'static str, message: String) -> Error {
    Error::invalid(ValidationError::new(field, code, message))
}

/// The model with the change applied (assignment changes apply to graphs, not the model).
fn apply(
    model: &TenantModel,
    change: &ProposedChange,
    now: time::OffsetDateTime,
) -> Result<TenantModel, Error> {
    let mut m = model.clone();
    match change {
        ProposedChange::Policies(text) => {
            let mut set = m
                .policies
                .clone()
                .unwrap_or(tessera_domain::authz::PolicySet {
                    tenant_id: tessera_domain::TenantId::from_uuid(uuid::Uuid::nil()),
                    version: 0,
                    text: String::new(),
                    comment: String::new(),
                    created_at: now,
                    created_by: None,
                });
            set.text = text.clone();
            m.policies = Some(set);
        }
        ProposedChange::Role {
            key,
            priority,
            parent,
        } => match m.roles.iter_mut().find(|r| &r.key == key) {
            Some(r) => {
                r.priority = *priority;
                r.parent = parent.clone();
            }
            None => m.roles.push(CustomRole {
                tenant_id: tessera_domain::TenantId::from_uuid(uuid::Uuid::nil()),
                key: key.clone(),
                name: key.as_str().to_owned(),
                description: String::new(),
                priority: *priority,
                parent: parent.clone(),
                created_at: now,
                updated_at: now,
                version: 0,
            }),
        },
        ProposedChange::Template { key, permissions } => {
            match m.templates.iter_mut().find(|t| &t.key == key) {
                Some(t) => t.permissions = permissions.clone(),
                None => m.templates.push(Template {
                    tenant_id: tessera_domain::TenantId::from_uuid(uuid::Uuid::nil()),
                    key: key.clone(),
                    name: key.clone(),
                    description: String::new(),
                    permissions: permissions.clone(),
                    menu: Vec::<MenuItem>::new(),
                    created_at: now,
                    updated_at: now,
                    version: 0,
                }),
            }
        }
        ProposedChange::Assignment { .. } => {}
    }
    Ok(m)
}

impl App {
    pub async fn simulate(
        &self,
        ctx: &RequestContext,
        slug: &str,
        change: ProposedChange,
        replay: Replay,
    ) -> Result<SimulationReport, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::AccessSimulate, "access.simulated")
            .await?;
        let evaluations = match replay {
            Replay::Given(list) => list,
            Replay::Recent(n) => {
                let n = n.clamp(1, MAX_SIMULATED as u32);
                self.store()
                    .recent_decisions(tenant.id, n)
                    .await
                    .map_err(store_err("decision log"))?
                    .into_iter()
                    .filter_map(|r| evaluation_of(&r.request))
                    .collect()
            }
        };
        if evaluations.len() > MAX_SIMULATED {
            return Err(invalid(
                "requests",
                "too_many",
                format!("at most {MAX_SIMULATED} requests per simulation"),
            ));
        }
        let ev = self.evaluator(tenant.clone()).await?;
        let current = self.tenant_model(tenant.id, ev.epoch).await?;
        let proposed = apply(&current, &change, self.now())?;
        let engine_after = Arc::new(
            Engine::build(
                &proposed.resource_types,
                proposed.policies.as_ref().map(|p| p.text.as_str()),
            )
            .map_err(|e| invalid("change.policies", "invalid_policy", e.message))?,
        );
        let now = self.now();
        let mut changed = Vec::new();
        let mut evaluated = 0;
        for (i, e) in evaluations.into_iter().enumerate() {
            let (req, facts, raw) = self.prepare(&ev, e, now, true).await?;
            let Some(before_graph) = self.permission_graph(tenant.id, req.subject).await? else {
                continue;
            };
            let after_graph = self
                .proposed_graph(&tenant, &proposed, &change, req.subject, ev.epoch)
                .await?;
            let before = decide(&before_graph, &ev.engine, &req, &facts)?;
            let after = decide(&after_graph, &engine_after, &req, &facts)?;
            evaluated += 1;
            if before.allowed != after.allowed || before.reason.code() != after.reason.code() {
                changed.push(ChangedDecision {
                    index: i,
                    request: raw.unwrap_or_default(),
                    before: Outcome {
                        decision: before.allowed,
                        reason: before.reason.code().to_owned(),
                    },
                    after: Outcome {
                        decision: after.allowed,
                        reason: after.reason.code().to_owned(),
                    },
                });
            }
        }
        Ok(SimulationReport { evaluated, changed })
    }

    async fn proposed_graph(
        &self,
        tenant: &tessera_domain::tenant::Tenant,
        model: &TenantModel,
        change: &ProposedChange,
        subject: UserId,
        epoch: i64,
    ) -> Result<PermissionGraph, Error> {
        let user = self.load_user(tenant, subject).await?;
        let store = self.store();
        let mut assignments = store
            .user_roles(tenant.id, subject)
            .await
            .map_err(store_err("role"))?;
        if let ProposedChange::Assignment {
            user: u,
            role,
            scope,
            grant,
        } = change
            && *u == subject
        {
            assignments.retain(|a| !(&a.role == role && &a.scope == scope));
            if *grant {
                assignments.push(RoleAssignment {
                    user_id: subject,
                    role: role.clone(),
                    scope: scope.clone(),
                    granted_at: self.now(),
                });
            }
        }
        let templates = store
            .user_templates(tenant.id, subject)
            .await
            .map_err(store_err("template"))?;
        Ok(tessera_authz::compile(
            model,
            &Subject {
                tenant: tenant.id,
                id: user.id,
                state: user.state,
            },
            &assignments,
            &templates,
            epoch,
        ))
    }
}

/// A logged request back into an evaluation.
fn evaluation_of(v: &serde_json::Value) -> Option<Evaluation> {
    let s = |p: &str| v.pointer(p).and_then(|x| x.as_str()).map(str::to_owned);
    let map = |p: &str| {
        v.pointer(p)
            .and_then(|x| x.as_object())
            .cloned()
            .unwrap_or_default()
    };
    Some(Evaluation {
        subject_type: s("/subject/type")?,
        subject_id: s("/subject/id")?,
        action: s("/action/name")?,
        resource_type: s("/resource/type")?,
        resource_id: s("/resource/id")?,
        resource_properties: map("/resource/properties"),
        context: map("/context"),
    })
}
