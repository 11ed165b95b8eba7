//! The check API (OpenID AuthZEN shape): one decision or a batch, each RBAC ∧ Cedar, with the
//! reason and, on request, the roles, templates and policies that produced it. The subject's
//! lifecycle state is part of the graph, so a suspended user is denied at once.

use crate::app::App;
use crate::context::RequestContext;
use crate::error::Error;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;
use tessera_authz::{AccessRequest, Decision, Engine, ResourceFacts, ResourceRef};
use tessera_domain::api_key::Scope;
use tessera_domain::authz::{BUILT_IN_RESOURCES, DecisionRecord, Permission, PermissionGraph};
use tessera_domain::tenant::Tenant;
use tessera_domain::{OrgUnitId, UserId, ValidationError};

/// The most evaluations in one batch.
pub const MAX_BATCH: usize = 200;

/// One question: may `subject` do `action` on `resource`, in `context`?
#[derive(Clone, Debug)]
pub struct Evaluation {
    /// The subject's type (`user` is the only one) and id.
    pub subject_type: String,
    pub subject_id: String,
    pub action: String,
    pub resource_type: String,
    pub resource_id: String,
    pub resource_properties: Map<String, Value>,
    pub context: Map<String, Value>,
}

/// The answer to one evaluation.
#[derive(Clone, Debug, Serialize)]
pub struct Verdict {
    pub decision: bool,
    /// A stable code: `allowed_by_role`, `allowed_by_policy`, `forbidden_by_policy`,
    /// `no_permission`, `out_of_scope`, `subject_inactive`, `unknown_subject`,
    /// `policy_error`.
    pub reason: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<tessera_authz::Explanation>,
}

/// How a batch stops early (AuthZEN `evaluations_semantic`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum BatchSemantic {
    #[default]
    ExecuteAll,
    DenyOnFirstDeny,
    PermitOnFirstPermit,
}

fn bad(field: &str, code: &'static str, message: String) -> Error {
    Error::invalid(ValidationError::new(field, code, message))
}

/// The model pieces one evaluation needs, resolved once per request.
pub(crate) struct Evaluator {
    pub tenant: Tenant,
    pub epoch: i64,
    pub engine: Arc<Engine>,
}

impl Verdict {
    fn from(d: Decision, explain: bool) -> Self {
        Self {
            decision: d.allowed,
            reason: d.reason.code().to_owned(),
            message: d.message,
            explanation: explain.then_some(d.explanation),
        }
    }

    fn unknown_subject() -> Self {
        Self {
            decision: false,
            reason: "unknown_subject".to_owned(),
            message: "the subject is not a user of this tenant".to_owned(),
            explanation: None,
        }
    }
}

impl App {
    /// `POST /t/{t}/access/v1/evaluation`.
    pub async fn evaluate(
        &self,
        ctx: &RequestContext,
        slug: &str,
        eval: Evaluation,
        explain: bool,
    ) -> Result<Verdict, Error> {
        let mut out = self
            .evaluate_batch(ctx, slug, vec![eval], BatchSemantic::ExecuteAll, explain)
            .await?;
        out.pop()
            .ok_or_else(|| Error::Unexpected(anyhow::anyhow!("no verdict")))
    }

    /// `POST /t/{t}/access/v1/evaluations`: every evaluation is checked before any is
    /// decided, so a malformed one refuses the whole batch.
    pub async fn evaluate_batch(
        &self,
        ctx: &RequestContext,
        slug: &str,
        evals: Vec<Evaluation>,
        semantic: BatchSemantic,
        explain: bool,
    ) -> Result<Vec<Verdict>, Error> {
        if evals.is_empty() {
            return Err(bad(
                "evaluations",
                "empty_batch",
                "give at least one evaluation".into(),
            ));
        }
        if evals.len() > MAX_BATCH {
            return Err(bad(
                "evaluations",
                "batch_too_large",
                format!(
                    "at most {MAX_BATCH} evaluations per request; this one has {}",
                    evals.len()
                ),
            ));
        }
        let tenant = self
            .authorize(ctx, slug, Scope::AccessEvaluate, "access.evaluated")
            .await?;
        let ev = self.evaluator(tenant).await?;
        let now = self.now();
        let mut requests = Vec::with_capacity(evals.len());
        for (i, e) in evals.into_iter().enumerate() {
            // Only sampled decisions keep a copy of their request, for the log.
            let keep = self.sampled(&ev.tenant);
            requests.push(
                self.prepare(&ev, e, now, keep)
                    .await
                    .map_err(|err| at_index(err, i))?,
            );
        }
        let mut verdicts = Vec::with_capacity(requests.len());
        let mut records = Vec::new();
        for (i, (req, facts, raw)) in requests.into_iter().enumerate() {
            let verdict = match self.permission_graph(ev.tenant.id, req.subject).await? {
                None => Verdict::unknown_subject(),
                Some(graph) => Verdict::from(
                    decide(&graph, &ev.engine, &req, &facts).map_err(|e| at_index(e, i))?,
                    explain,
                ),
            };
            if let Some(raw) = raw {
                records.push(DecisionRecord {
                    id: self.ports.random.new_id(),
                    tenant_id: ev.tenant.id,
                    at: now,
                    request: raw,
                    allowed: verdict.decision,
                    reason: verdict.reason.clone(),
                });
            }
            let stop = match semantic {
                BatchSemantic::ExecuteAll => false,
                BatchSemantic::DenyOnFirstDeny => !verdict.decision,
                BatchSemantic::PermitOnFirstPermit => verdict.decision,
            };
            verdicts.push(verdict);
            if stop {
                break;
            }
        }
        if !records.is_empty()
            && let Err(e) = self.store().record_decisions(&records).await
        {
            // The decision log is a sample for support and simulation: losing a sample must
            // not fail the decision.
            tracing::warn!(error = %e, "could not record sampled decisions");
        }
        Ok(verdicts)
    }

    fn sampled(&self, tenant: &Tenant) -> bool {
        let rate = tenant.settings.authz.decision_log_rate;
        if rate <= 0.0 {
            return false;
        }
        let bytes = self.ports.random.secret_bytes(8);
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[..8.min(bytes.len())]);
        (u64::from_le_bytes(word) as f64 / u64::MAX as f64) < rate
    }

    /// The tenant's engine at its current epoch.
    pub(crate) async fn evaluator(&self, tenant: Tenant) -> Result<Evaluator, Error> {
        let epoch = self.authz_epoch(tenant.id).await?;
        let engine = self.engine(tenant.id, epoch).await?;
        Ok(Evaluator {
            tenant,
            epoch,
            engine,
        })
    }

    /// Parses one evaluation into a request for the engine, with the facts about its resource
    /// (its unit and that unit's ancestors, its owner) and, when `keep`, its JSON for the
    /// decision log.
    pub(crate) async fn prepare(
        &self,
        ev: &Evaluator,
        e: Evaluation,
        now: time::OffsetDateTime,
        keep: bool,
    ) -> Result<(AccessRequest, ResourceFacts, Option<Value>), Error> {
        let raw = keep.then(|| {
            serde_json::json!({
                "subject": {"type": e.subject_type, "id": e.subject_id},
                "action": {"name": e.action},
                "resource": {"type": e.resource_type, "id": e.resource_id, "properties": e.resource_properties},
                "context": e.context,
            })
        });
        if e.subject_type != "user" {
            return Err(bad(
                "subject.type",
                "unknown_entity_type",
                format!(
                    "subjects are of type `user`, not `{}`",
                    e.subject_type.chars().take(64).collect::<String>()
                ),
            ));
        }
        let subject: UserId = e
            .subject_id
            .parse()
            .map_err(|_| bad("subject.id", "invalid_id", "a user id is a UUID".into()))?;
        let action = Permission::parse(&e.action)
            .ok()
            .filter(|p| !p.is_pattern())
            .ok_or_else(|| {
                bad(
                    "action.name",
                    "invalid_action",
                    "an action is a permission `resource:action`, for example `orders:refund`"
                        .into(),
                )
            })?;
        if action.resource() != e.resource_type {
            return Err(bad(
                "action.name",
                "action_mismatch",
                format!(
                    "the action `{action}` applies to resources of type `{}`, not `{}`",
                    action.resource(),
                    e.resource_type.chars().take(64).collect::<String>()
                ),
            ));
        }
        if e.resource_id.is_empty() || e.resource_id.len() > 256 {
            return Err(bad(
                "resource.id",
                "invalid_id",
                "a resource id has 1 to 256 characters".into(),
            ));
        }
        let kind = e.resource_type.as_str();
        if !BUILT_IN_RESOURCES.contains(&kind) && !ev.engine.knows_type(kind) {
            return Err(bad(
                "resource.type",
                "unknown_entity_type",
                format!(
                    "`{}` is not a resource type of this tenant",
                    kind.chars().take(64).collect::<String>()
                ),
            ));
        }
        let unit = match e.resource_properties.get("unit") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.parse::<OrgUnitId>().map_err(|_| {
                bad(
                    "resource.properties.unit",
                    "invalid_id",
                    "`unit` is an organization unit id".into(),
                )
            })?),
            Some(_) => {
                return Err(bad(
                    "resource.properties.unit",
                    "invalid_type",
                    "`unit` is a string".into(),
                ));
            }
        };
        let owner = match e.resource_properties.get("owner") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.parse::<UserId>().map_err(|_| {
                bad(
                    "resource.properties.owner",
                    "invalid_id",
                    "`owner` is a user id".into(),
                )
            })?),
            Some(_) => {
                return Err(bad(
                    "resource.properties.owner",
                    "invalid_type",
                    "`owner` is a string".into(),
                ));
            }
        };
        let owner = if kind == "users" {
            e.resource_id.parse::<UserId>().ok().or(owner)
        } else {
            owner
        };
        let units = match unit {
            Some(u) => self.unit_chain(ev.tenant.id, u).await?,
            None => vec![],
        };
        let mut context = e.context;
        context
            .entry("now")
            .or_insert_with(|| now.unix_timestamp().into());
        context
            .entry("hour")
            .or_insert_with(|| u64::from(now.hour()).into());
        context
            .entry("weekday")
            .or_insert_with(|| u64::from(now.weekday().number_from_monday()).into());
        let req = AccessRequest {
            subject,
            action,
            resource: ResourceRef {
                kind: e.resource_type,
                id: e.resource_id,
                properties: e.resource_properties,
            },
            context,
        };
        Ok((req, ResourceFacts { units, owner }, raw))
    }

    /// `GET /t/{t}/access/v1/subjects/{id}/permissions`: the compiled graph.
    pub async fn subject_permissions(
        &self,
        ctx: &RequestContext,
        slug: &str,
        subject: UserId,
    ) -> Result<Arc<PermissionGraph>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::AccessEvaluate, "access.permissions_read")
            .await?;
        self.permission_graph(tenant.id, subject)
            .await?
            .ok_or(Error::NotFound("user"))
    }
}

/// Decides one prepared request (a Cedar type error is the caller's: 400).
pub(crate) fn decide(
    graph: &PermissionGraph,
    engine: &Engine,
    req: &AccessRequest,
    facts: &ResourceFacts,
) -> Result<Decision, Error> {
    tessera_authz::decide(graph, engine, req, facts)
        .map_err(|e| bad("request", "invalid_request", e.message))
}

/// Says which evaluation of a batch was refused.
fn at_index(err: Error, i: usize) -> Error {
    match err {
        Error::Invalid(errs) => Error::Invalid(
            errs.into_iter()
                .map(|e| {
                    let field = format!("evaluations[{i}].{}", e.field);
                    e.at(field)
                })
                .collect(),
        ),
        other => other,
    }
}
