//! In-process decision latency: one request (`orders:refund` on an order of 5,000 in the
//! store, with MFA, at 14:00) decided four ways, each sample timed alone, in rounds that
//! alternate the four so that a change of machine load hits all of them alike.
//!
//! - raw Cedar, entities prebuilt: `Authorizer::is_authorized` on a request and entities
//!   built once (Cedar's evaluation alone);
//! - raw Cedar, built per request (**the floor**): the same, building the request, the
//!   principal (with its roles), the resource, the unit chain and the context with
//!   cedar-policy's own API for every decision, as any caller of Cedar must (type names
//!   parsed once, as an engine does). The authz crate's benchmark found this the fair
//!   floor: a decision is always about a new request;
//! - `tessera_authz::decide` with the graph the application compiled and the tenant's
//!   engine (RBAC, type checks, translation, Cedar, explanation);
//! - `App::evaluate`, the application's public use case behind
//!   `POST /t/{t}/access/v1/evaluation`, with the API key's `RequestContext`: tenant, epoch,
//!   engine and graph from their caches, the unit chain, the request checked, decided and
//!   answered with its reason.
//!
//! Also timed, for the breakdown of an HTTP request: `App::authenticate_api_key`, what the
//! HTTP layer does with the bearer key before it calls `evaluate` (not a decision).

use super::world::{POLICIES, World, err};
use crate::report::Latency;
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, RestrictedExpression,
};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::hint::black_box;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;
use tessera_application::Evaluation;
use tessera_authz::{AccessRequest, Engine, Reason, ResourceFacts, ResourceRef, decide};
use tessera_domain::authz::{Permission, PermissionGraph};

pub struct Figures {
    pub raw_prebuilt: Latency,
    pub raw_built: Latency,
    pub decide: Latency,
    pub app: Latency,
    /// `App::authenticate_api_key`: what the HTTP layer does with the bearer key before
    /// calling `evaluate` (not a decision; for the breakdown of an HTTP request).
    pub auth: Latency,
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The request's context: every key Tessera would add (`now`, `hour`, `weekday`) is given,
/// so that the application and raw Cedar see the same values.
fn context() -> Map<String, Value> {
    object(json!({
        "mfa": true, "hour": 14, "now": 1_700_000_000, "weekday": 3,
        "ip": "10.0.0.1", "channel": "pos"
    }))
}

/// The resource's properties, `unit` (the store) included.
pub fn properties(w: &World) -> Map<String, Value> {
    object(json!({
        "amount": 5000, "status": "open", "tags": ["vip"], "unit": w.units[2].to_string()
    }))
}

/// The evaluation as the HTTP layer hands it to the application.
pub fn evaluation(w: &World) -> Evaluation {
    Evaluation {
        subject_type: "user".into(),
        subject_id: w.alice.to_string(),
        action: "orders:refund".into(),
        resource_type: "orders".into(),
        resource_id: "o-1".into(),
        resource_properties: properties(w),
        context: context(),
    }
}

/// The same as an HTTP body (`POST .../evaluation`).
pub fn evaluation_body(w: &World) -> Value {
    json!({
        "subject": {"type": "user", "id": w.alice.to_string()},
        "action": {"name": "orders:refund"},
        "resource": {"type": "orders", "id": "o-1", "properties": properties(w)},
        "context": context(),
    })
}

/// What raw Cedar needs, prepared once (as an engine would): type names, the action, the
/// policies, the principal's roles.
struct Raw {
    policies: PolicySet,
    user: EntityTypeName,
    role: EntityTypeName,
    unit: EntityTypeName,
    orders: EntityTypeName,
    refund: EntityUid,
    principal_id: String,
    roles: Vec<String>,
    priority: i64,
    /// Store, area, region.
    units: Vec<String>,
}

impl Raw {
    fn new(w: &World, graph: &PermissionGraph) -> anyhow::Result<Self> {
        let parsed = PolicySet::from_str(POLICIES)?;
        let mut policies = PolicySet::new();
        for p in parsed.policies() {
            let id = p.annotation("id").unwrap_or_default().to_owned();
            policies.add(p.new_id(PolicyId::new(id)))?;
        }
        let ty = |n: &str| EntityTypeName::from_str(n).map_err(|e| anyhow::anyhow!("{n}: {e}"));
        let mut roles: Vec<String> = graph
            .roles
            .iter()
            .map(|r| r.role.key().to_owned())
            .collect();
        roles.sort();
        roles.dedup();
        Ok(Self {
            policies,
            user: ty("User")?,
            role: ty("Role")?,
            unit: ty("OrgUnit")?,
            orders: ty("orders")?,
            refund: EntityUid::from_type_name_and_id(ty("Action")?, EntityId::new("orders:refund")),
            principal_id: w.alice.to_string(),
            roles,
            priority: i64::from(graph.priority),
            units: w.units.iter().rev().map(ToString::to_string).collect(),
        })
    }

    fn uid(t: &EntityTypeName, id: &str) -> EntityUid {
        EntityUid::from_type_name_and_id(t.clone(), EntityId::new(id))
    }

    /// The request and entities, built with cedar-policy's API.
    fn build(&self) -> anyhow::Result<(Request, Entities)> {
        let units: Vec<EntityUid> = self
            .units
            .iter()
            .map(|u| Self::uid(&self.unit, u))
            .collect();
        let principal = Entity::new(
            Self::uid(&self.user, &self.principal_id),
            HashMap::from([
                (
                    "state".to_owned(),
                    RestrictedExpression::new_string("active".into()),
                ),
                (
                    "priority".to_owned(),
                    RestrictedExpression::new_long(self.priority),
                ),
                (
                    "roles".to_owned(),
                    RestrictedExpression::new_set(
                        self.roles
                            .iter()
                            .map(|r| RestrictedExpression::new_string(r.clone())),
                    ),
                ),
            ]),
            self.roles
                .iter()
                .map(|r| Self::uid(&self.role, r))
                .collect(),
        )?;
        let resource = Entity::new(
            Self::uid(&self.orders, "o-1"),
            HashMap::from([
                ("amount".to_owned(), RestrictedExpression::new_long(5000)),
                (
                    "status".to_owned(),
                    RestrictedExpression::new_string("open".into()),
                ),
                (
                    "tags".to_owned(),
                    RestrictedExpression::new_set([RestrictedExpression::new_string("vip".into())]),
                ),
                (
                    "unit".to_owned(),
                    RestrictedExpression::new_entity_uid(units[0].clone()),
                ),
            ]),
            HashSet::from([units[0].clone()]),
        )?;
        let context = Context::from_pairs([
            ("mfa".to_owned(), RestrictedExpression::new_bool(true)),
            ("hour".to_owned(), RestrictedExpression::new_long(14)),
            (
                "now".to_owned(),
                RestrictedExpression::new_long(1_700_000_000),
            ),
            ("weekday".to_owned(), RestrictedExpression::new_long(3)),
            (
                "ip".to_owned(),
                RestrictedExpression::new_string("10.0.0.1".into()),
            ),
            (
                "channel".to_owned(),
                RestrictedExpression::new_string("pos".into()),
            ),
        ])?;
        let request = Request::new(
            principal.uid(),
            self.refund.clone(),
            resource.uid(),
            context,
            None,
        )?;
        let mut entities = vec![principal, resource];
        for (i, unit) in units.iter().enumerate() {
            let parents: HashSet<EntityUid> = units.get(i + 1).cloned().into_iter().collect();
            entities.push(Entity::new_no_attrs(unit.clone(), parents));
        }
        Ok((request, Entities::from_entities(entities, None)?))
    }
}

fn timed(samples: &mut Vec<u64>, n: usize, mut f: impl FnMut()) {
    for _ in 0..n {
        let t = Instant::now();
        f();
        samples.push(t.elapsed().as_nanos() as u64);
    }
}

pub async fn run(w: &World, iterations: usize, rounds: usize) -> anyhow::Result<Figures> {
    let graph = w
        .app
        .subject_permissions(&w.ctx, &w.slug, w.alice)
        .await
        .map_err(err("the subject's graph"))?;
    let engine = Arc::new(Engine::build(
        std::slice::from_ref(&w.orders),
        Some(POLICIES),
    )?);
    let req = AccessRequest {
        subject: w.alice,
        action: Permission::parse("orders:refund").map_err(|e| anyhow::anyhow!("{e}"))?,
        resource: ResourceRef {
            kind: "orders".into(),
            id: "o-1".into(),
            properties: properties(w),
        },
        context: context(),
    };
    let facts = ResourceFacts {
        units: w.units.iter().rev().copied().collect(),
        owner: None,
    };
    let d = decide(&graph, &engine, &req, &facts)?;
    anyhow::ensure!(
        d.allowed && d.reason == Reason::AllowedByRole,
        "unexpected decision: {d:?}"
    );
    let verdict = w
        .app
        .evaluate(&w.ctx, &w.slug, evaluation(w), false)
        .await
        .map_err(err("evaluate"))?;
    anyhow::ensure!(
        verdict.decision && verdict.reason == "allowed_by_role",
        "unexpected verdict: {verdict:?}"
    );
    let raw = Arc::new(Raw::new(w, &graph)?);
    let authorizer = Arc::new(Authorizer::new());
    let (request, entities) = raw.build()?;
    let response = authorizer.is_authorized(&request, &raw.policies, &entities);
    anyhow::ensure!(
        response.diagnostics().errors().count() == 0,
        "raw Cedar: {:?}",
        response.diagnostics().errors().collect::<Vec<_>>()
    );
    let prebuilt = Arc::new((request, entities));

    let per_round = (iterations / rounds.max(1)).max(1);
    let (mut a, mut b, mut c, mut e) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut k = Vec::new();
    let eval = evaluation(w);
    for round in 0..=rounds {
        // Round 0 warms up (discarded).
        let (raw2, auth2, pre2, graph2, engine2) = (
            raw.clone(),
            authorizer.clone(),
            prebuilt.clone(),
            graph.clone(),
            engine.clone(),
        );
        let (req2, facts2) = (req.clone(), facts.clone());
        let (ra, rb, rc) = tokio::task::spawn_blocking(move || {
            let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
            timed(&mut a, per_round, || {
                black_box(auth2.is_authorized(&pre2.0, &raw2.policies, &pre2.1));
            });
            timed(&mut b, per_round, || {
                if let Ok((request, entities)) = raw2.build() {
                    black_box(auth2.is_authorized(&request, &raw2.policies, &entities));
                }
            });
            timed(&mut c, per_round, || {
                black_box(decide(&graph2, &engine2, black_box(&req2), &facts2).ok());
            });
            (a, b, c)
        })
        .await?;
        let mut re = Vec::with_capacity(per_round);
        for _ in 0..per_round {
            let one = eval.clone();
            let t = Instant::now();
            let v = w.app.evaluate(&w.ctx, &w.slug, one, false).await;
            re.push(t.elapsed().as_nanos() as u64);
            anyhow::ensure!(v.is_ok_and(|v| v.decision), "an evaluation failed");
        }
        let mut rk = Vec::with_capacity(per_round);
        for _ in 0..per_round {
            let t = Instant::now();
            let p = w.app.authenticate_api_key(&w.key_secret).await;
            rk.push(t.elapsed().as_nanos() as u64);
            anyhow::ensure!(p.is_ok(), "the API key was refused");
        }
        if round > 0 {
            k.extend(rk);
            a.extend(ra);
            b.extend(rb);
            c.extend(rc);
            e.extend(re);
        }
    }
    Ok(Figures {
        raw_prebuilt: Latency::of(&mut a),
        raw_built: Latency::of(&mut b),
        decide: Latency::of(&mut c),
        app: Latency::of(&mut e),
        auth: Latency::of(&mut k),
    })
}
