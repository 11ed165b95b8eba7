//! Decision latency as the tenant's rules grow, against casbin-rs on the same RBAC model.
//!
//! The model: R roles, each with its own template of `--per-role` permissions (`doc<i>:op<j>`),
//! i.e. R × per-role role → permission rules; the user holds three roles (R/3, 2R/3, R-1).
//! The requests cycle through four questions: one permission of each held role (allowed) and
//! one of role 0, which the user does not hold (denied).
//!
//! - Tessera: the model is a `TenantModel`; the user's graph is compiled once (`compile`, timed
//!   separately: it happens once per user and tenant epoch) and kept, with the tenant's
//!   engine, in `tessera_authz::Caches`; each decision looks both up and calls `decide`, which
//!   is what the application does per decision once its caches are warm.
//! - casbin: `r = sub, obj, act; p = sub, obj, act; g = _, _;
//!   e = some(where (p.eft == allow)); m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act`
//!   (casbin's `rbac_model.conf`), with one `p, role<i>, doc<i>, op<j>` line per rule and one
//!   `g, alice, role<i>` line per held role, in a `MemoryAdapter`; each decision is
//!   `Enforcer::enforce((sub, obj, act))` (no decision cache: the `cached` feature is off).

use crate::report::{Latency, progress};
use casbin::{CoreApi, DefaultModel, Enforcer, MemoryAdapter, MgmtApi};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tessera_authz::{AccessRequest, Caches, Engine, ResourceFacts, ResourceRef, Subject};
use tessera_domain::authz::{
    AccessScope, CustomRole, GrantTarget, Permission, RoleAssignment, RoleKey, RoleRef, Template,
    TemplateGrant, TenantModel,
};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::{TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

const CASBIN_MODEL: &str = r#"
[request_definition]
r = sub, obj, act

[policy_definition]
p = sub, obj, act

[role_definition]
g = _, _

[policy_effect]
e = some(where (p.eft == allow))

[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act
"#;

pub struct Size {
    pub rules: usize,
    pub roles: usize,
    pub compile: Latency,
    pub tessera: Latency,
    pub casbin_load_secs: f64,
    pub casbin: Latency,
}

fn held(roles: usize) -> [usize; 3] {
    [roles / 3, 2 * roles / 3, roles - 1]
}

/// The four questions: (role whose permission is asked, permission index, allowed).
fn questions(roles: usize, per_role: usize) -> Vec<(usize, usize, bool)> {
    let [a, b, c] = held(roles);
    vec![
        (a, per_role / 2, true),
        (b, per_role - 1, true),
        (c, 0, true),
        (0, per_role / 2, false),
    ]
}

fn model(tenant: TenantId, roles: usize, per_role: usize) -> anyhow::Result<TenantModel> {
    let at = OffsetDateTime::UNIX_EPOCH;
    let mut m = TenantModel::default();
    for i in 0..roles {
        let key = RoleKey::parse(&format!("role{i}")).map_err(|e| anyhow::anyhow!("{e}"))?;
        m.roles.push(CustomRole {
            tenant_id: tenant,
            key: key.clone(),
            name: format!("Role {i}"),
            description: String::new(),
            priority: 40,
            parent: None,
            created_at: at,
            updated_at: at,
            version: 1,
        });
        let permissions = (0..per_role)
            .map(|j| Permission::parse(&format!("doc{i}:op{j}")))
            .collect::<Result<BTreeSet<_>, _>>()
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        m.templates.push(Template {
            tenant_id: tenant,
            key: format!("t{i}"),
            name: format!("Template {i}"),
            description: String::new(),
            permissions,
            menu: Vec::new(),
            created_at: at,
            updated_at: at,
            version: 1,
        });
        m.grants.push(TemplateGrant {
            template: format!("t{i}"),
            target: GrantTarget::Role(RoleRef::Custom(key)),
            granted_at: at,
        });
    }
    Ok(m)
}

/// Adds samples of `op` to `samples` until `duration` has passed and at least `min` were
/// taken.
fn sample(
    samples: &mut Vec<u64>,
    duration: Duration,
    min: usize,
    mut op: impl FnMut(usize) -> bool,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let mut i = 0;
    while start.elapsed() < duration || i < min {
        let t = Instant::now();
        let ok = op(i);
        samples.push(t.elapsed().as_nanos() as u64);
        anyhow::ensure!(ok, "a decision came out wrong");
        i += 1;
    }
    Ok(())
}

/// Tessera with one rule count: the user's graph and the tenant's engine in the caches.
struct TesseraCase {
    tenant: TenantId,
    user: UserId,
    epoch: i64,
    caches: Caches,
    requests: Vec<(AccessRequest, bool)>,
    facts: ResourceFacts,
}

impl TesseraCase {
    fn decide(&self, i: usize) -> bool {
        let (req, allowed) = &self.requests[i % self.requests.len()];
        let (Some(graph), Some(engine)) = (
            self.caches.graph(self.tenant, self.user, self.epoch),
            self.caches.engine(self.tenant, self.epoch),
        ) else {
            return false;
        };
        tessera_authz::decide(&graph, &engine, req, &self.facts)
            .is_ok_and(|d| d.allowed == *allowed)
    }
}

/// The case, and the time `compile` takes for this model.
fn tessera(
    roles: usize,
    per_role: usize,
    duration: Duration,
) -> anyhow::Result<(Latency, TesseraCase)> {
    let tenant = TenantId::from_uuid(Uuid::from_u128(0xB0));
    let user = UserId::from_uuid(Uuid::from_u128(0xA1));
    let m = model(tenant, roles, per_role)?;
    let subject = Subject {
        tenant,
        id: user,
        state: LifecycleState::Active,
    };
    let assignments = held(roles)
        .iter()
        .map(|i| {
            Ok(RoleAssignment {
                user_id: user,
                role: RoleRef::Custom(
                    RoleKey::parse(&format!("role{i}")).map_err(|e| anyhow::anyhow!("{e}"))?,
                ),
                scope: AccessScope::Tenant,
                granted_at: OffsetDateTime::UNIX_EPOCH,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let epoch = 7;
    let mut compile = Vec::new();
    sample(&mut compile, duration, 5, |_| {
        let g = tessera_authz::compile(&m, &subject, &assignments, &[], epoch);
        std::hint::black_box(g.grants.len()) == 3 * per_role
    })?;
    let caches = Caches::new(100_000);
    caches.put_graph(Arc::new(tessera_authz::compile(
        &m,
        &subject,
        &assignments,
        &[],
        epoch,
    )));
    caches.put_engine(tenant, epoch, Arc::new(Engine::build(&[], None)?));
    let requests = questions(roles, per_role)
        .into_iter()
        .map(|(role, j, allowed)| {
            let action = Permission::parse(&format!("doc{role}:op{j}"))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok((
                AccessRequest {
                    subject: user,
                    action,
                    resource: ResourceRef {
                        kind: format!("doc{role}"),
                        id: "d-1".into(),
                        properties: serde_json::Map::new(),
                    },
                    context: serde_json::Map::new(),
                },
                allowed,
            ))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok((
        Latency::of(&mut compile),
        TesseraCase {
            tenant,
            user,
            epoch,
            caches,
            requests,
            facts: ResourceFacts::default(),
        },
    ))
}

/// casbin with one rule count.
struct CasbinCase {
    enforcer: Enforcer,
    asked: Vec<(String, String, bool)>,
}

impl CasbinCase {
    fn decide(&self, i: usize) -> bool {
        let (obj, act, allowed) = &self.asked[i % self.asked.len()];
        self.enforcer
            .enforce(("alice", obj.as_str(), act.as_str()))
            .is_ok_and(|d| d == *allowed)
    }
}

async fn casbin(roles: usize, per_role: usize) -> anyhow::Result<CasbinCase> {
    let model = DefaultModel::from_str(CASBIN_MODEL).await?;
    let mut e = Enforcer::new(model, MemoryAdapter::default()).await?;
    let rules: Vec<Vec<String>> = (0..roles)
        .flat_map(|i| {
            (0..per_role)
                .map(move |j| vec![format!("role{i}"), format!("doc{i}"), format!("op{j}")])
        })
        .collect();
    e.add_policies(rules).await?;
    let groups: Vec<Vec<String>> = held(roles)
        .iter()
        .map(|i| vec!["alice".to_owned(), format!("role{i}")])
        .collect();
    e.add_grouping_policies(groups).await?;
    // Without the `incremental` feature the role links are built on demand.
    e.build_role_links()?;
    let asked = questions(roles, per_role)
        .into_iter()
        .map(|(role, j, allowed)| (format!("doc{role}"), format!("op{j}"), allowed))
        .collect();
    Ok(CasbinCase { enforcer: e, asked })
}

/// Prepares every rule count, then measures them in `slices` rounds, each round giving every
/// rule count and both engines `duration / slices` in turn.
pub async fn run(
    sizes: &[usize],
    per_role: usize,
    duration: Duration,
    slices: usize,
) -> anyhow::Result<Vec<Size>> {
    let mut cases = Vec::new();
    for &rules in sizes {
        let roles = (rules / per_role.max(1)).max(3);
        progress(&format!(
            "rules: {} ({roles} roles x {per_role} permissions): compiling, loading casbin",
            roles * per_role
        ));
        let (compile, ours) =
            tokio::task::spawn_blocking(move || tessera(roles, per_role, duration / 4)).await??;
        let started = Instant::now();
        let theirs = casbin(roles, per_role).await?;
        let load = started.elapsed().as_secs_f64();
        cases.push((roles, compile, load, ours, theirs));
    }
    let slices = slices.max(1);
    let slice = duration / u32::try_from(slices).unwrap_or(1);
    progress(&format!(
        "rules: deciding, {} rule counts x 2 engines in {slices} rounds of {:.1} s each",
        cases.len(),
        slice.as_secs_f64()
    ));
    let measured = tokio::task::spawn_blocking(move || {
        let mut samples: Vec<(Vec<u64>, Vec<u64>)> =
            cases.iter().map(|_| (Vec::new(), Vec::new())).collect();
        for _ in 0..slices {
            for ((_, _, _, ours, theirs), (a, b)) in cases.iter().zip(samples.iter_mut()) {
                sample(a, slice, 1000 / slices, |i| ours.decide(i))?;
                sample(b, slice, 20_usize.div_ceil(slices), |i| theirs.decide(i))?;
            }
        }
        anyhow::Ok(
            cases
                .into_iter()
                .zip(samples)
                .map(|((roles, compile, load, _, _), (mut a, mut b))| Size {
                    rules: roles * per_role,
                    roles,
                    compile,
                    tessera: Latency::of(&mut a),
                    casbin_load_secs: load,
                    casbin: Latency::of(&mut b),
                })
                .collect::<Vec<_>>(),
        )
    })
    .await??;
    Ok(measured)
}
