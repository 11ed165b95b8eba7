//! `decide` against raw Cedar: the same policies, the same entities, the same request.
//!
//! `cargo bench -p tessera-authz --bench decide` prints the time per decision of
//! - raw: `Authorizer::is_authorized` with a request and entities built once (the floor);
//! - raw + entities: the same, building the request and entities each time with cedar-policy's
//!   own API (what any caller of Cedar pays per request);
//! - decide: Tessera's decision (RBAC, type checks, entities, Cedar, explanation).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, Request,
    RestrictedExpression,
};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hint::black_box;
use std::str::FromStr;
use std::time::{Duration, Instant};
use tessera_authz::{AccessRequest, Engine, ResourceFacts, ResourceRef, Subject, compile, decide};
use tessera_domain::authz::{
    AccessScope, AttributeType, GrantTarget, Permission, ResourceType, RoleAssignment, RoleKey,
    RoleRef, Template, TemplateGrant, TenantModel,
};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::{OrgUnitId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

const POLICIES: &str = r#"
@id("big-refunds-need-mfa")
forbid(principal, action == Action::"orders:refund", resource is orders)
when { resource has amount && resource.amount > 1000 }
unless { context has mfa && context.mfa };
@id("night")
forbid(principal, action == Action::"orders:refund", resource)
when { context has hour && (context.hour < 6 || context.hour > 22) };
@id("locked")
forbid(principal, action, resource is orders)
when { resource has tags && resource.tags.contains("locked") };
@id("low-priority")
forbid(principal, action == Action::"orders:refund", resource)
when { principal.priority < 20 };
@id("public-read")
permit(principal, action == Action::"orders:read", resource is orders)
when { resource has status && resource.status == "public" };
@id("managers")
permit(principal in Role::"manager", action, resource is orders);
"#;

fn time(label: &str, iterations: u32, mut f: impl FnMut()) -> Duration {
    for _ in 0..iterations / 10 {
        f();
    }
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let per = start.elapsed() / iterations;
    println!("{label:<18} {:>8.2} µs", per.as_secs_f64() * 1e6);
    per
}

fn main() {
    let unit = |n: u128| OrgUnitId::from_uuid(Uuid::from_u128(0x2000 + n));
    let user = UserId::from_uuid(Uuid::from_u128(0x1001));
    let tenant = TenantId::from_uuid(Uuid::from_u128(0xAAAA));
    let orders = ResourceType {
        name: "orders".into(),
        description: String::new(),
        actions: BTreeMap::from([
            ("read".to_owned(), String::new()),
            ("refund".to_owned(), String::new()),
        ]),
        attributes: BTreeMap::from([
            ("amount".to_owned(), AttributeType::Long),
            ("status".to_owned(), AttributeType::String),
            ("tags".to_owned(), AttributeType::StringSet),
        ]),
    };
    let key = RoleKey::parse("refunder").unwrap();
    let model = TenantModel {
        roles: vec![tessera_domain::authz::CustomRole {
            tenant_id: tenant,
            key: key.clone(),
            name: "Refunder".into(),
            description: String::new(),
            priority: 40,
            parent: None,
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            version: 1,
        }],
        templates: vec![Template {
            tenant_id: tenant,
            key: "refunds".into(),
            name: "Refunds".into(),
            description: String::new(),
            permissions: ["orders:read", "orders:refund"]
                .iter()
                .map(|p| Permission::parse(p).unwrap())
                .collect(),
            menu: Vec::new(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            updated_at: OffsetDateTime::UNIX_EPOCH,
            version: 1,
        }],
        grants: vec![TemplateGrant {
            template: "refunds".into(),
            target: GrantTarget::Role(RoleRef::Custom(key.clone())),
            granted_at: OffsetDateTime::UNIX_EPOCH,
        }],
        resource_types: vec![orders.clone()],
        policies: None,
    };
    let subject = Subject {
        tenant,
        id: user,
        state: LifecycleState::Active,
    };
    let assignment = RoleAssignment {
        user_id: user,
        role: RoleRef::Custom(key),
        scope: AccessScope::Unit(unit(1)),
        granted_at: OffsetDateTime::UNIX_EPOCH,
    };
    let graph = compile(&model, &subject, &[assignment], &[], 1);
    let engine = Engine::build(&[orders], Some(POLICIES)).unwrap();
    let props = json!({ "amount": 5000, "status": "open", "tags": ["vip"], "colour": "red" });
    let ctx = json!({ "mfa": true, "hour": 14, "ip": "10.0.0.1", "channel": "pos" });
    let as_map = |v: Value| match v {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let req = AccessRequest {
        subject: user,
        action: Permission::parse("orders:refund").unwrap(),
        resource: ResourceRef {
            kind: "orders".into(),
            id: "o-1".into(),
            properties: as_map(props),
        },
        context: as_map(ctx),
    };
    let facts = ResourceFacts {
        units: vec![unit(3), unit(2), unit(1)],
        owner: None,
    };
    let d = decide(&graph, &engine, &req, &facts).unwrap();
    assert!(d.allowed, "{d:?}");

    // The same request for raw Cedar.
    let policies = {
        let parsed = PolicySet::from_str(POLICIES).unwrap();
        let mut set = PolicySet::new();
        for p in parsed.policies() {
            let id = p.annotation("id").unwrap().to_owned();
            set.add(p.new_id(cedar_policy::PolicyId::new(id))).unwrap();
        }
        set
    };
    // Type names parsed once, as an engine does; ids and entities built per request.
    let ty = |name: &str| EntityTypeName::from_str(name).unwrap();
    let (user_ty, role_ty, unit_ty, orders_ty, action_ty) = (
        ty("User"),
        ty("Role"),
        ty("OrgUnit"),
        ty("orders"),
        ty("Action"),
    );
    let refund_uid = EntityUid::from_type_name_and_id(action_ty, EntityId::new("orders:refund"));
    let build = || {
        let e = |t: &EntityTypeName, id: &str| {
            EntityUid::from_type_name_and_id(t.clone(), EntityId::new(id))
        };
        let unit_uid = |n: u128| e(&unit_ty, &unit(n).to_string());
        let principal = Entity::new(
            e(&user_ty, &user.to_string()),
            HashMap::from([
                (
                    "state".to_owned(),
                    RestrictedExpression::new_string("active".into()),
                ),
                ("priority".to_owned(), RestrictedExpression::new_long(40)),
                (
                    "roles".to_owned(),
                    RestrictedExpression::new_set([RestrictedExpression::new_string(
                        "refunder".into(),
                    )]),
                ),
            ]),
            HashSet::from([e(&role_ty, "refunder")]),
        )
        .unwrap();
        let resource = Entity::new(
            e(&orders_ty, "o-1"),
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
                    RestrictedExpression::new_entity_uid(unit_uid(3)),
                ),
            ]),
            HashSet::from([unit_uid(3)]),
        )
        .unwrap();
        let context = Context::from_pairs([
            ("mfa".to_owned(), RestrictedExpression::new_bool(true)),
            ("hour".to_owned(), RestrictedExpression::new_long(14)),
            (
                "ip".to_owned(),
                RestrictedExpression::new_string("10.0.0.1".into()),
            ),
            (
                "channel".to_owned(),
                RestrictedExpression::new_string("pos".into()),
            ),
        ])
        .unwrap();
        let request = Request::new(
            principal.uid(),
            refund_uid.clone(),
            resource.uid(),
            context,
            None,
        )
        .unwrap();
        let entities = Entities::from_entities(
            [
                principal,
                resource,
                Entity::new_no_attrs(unit_uid(3), HashSet::from([unit_uid(2)])),
                Entity::new_no_attrs(unit_uid(2), HashSet::from([unit_uid(1)])),
                Entity::new_no_attrs(unit_uid(1), HashSet::new()),
            ],
            None,
        )
        .unwrap();
        (request, entities)
    };
    let authorizer = Authorizer::new();
    let (request, entities) = build();
    let response = authorizer.is_authorized(&request, &policies, &entities);
    assert_eq!(response.diagnostics().errors().count(), 0);

    let n = 20_000;
    let raw = time("raw", n, || {
        black_box(authorizer.is_authorized(black_box(&request), &policies, &entities));
    });
    let raw_built = time("raw + entities", n, || {
        let (request, entities) = build();
        black_box(authorizer.is_authorized(&request, &policies, &entities));
    });
    let ours = time("decide", n, || {
        black_box(decide(&graph, &engine, black_box(&req), &facts).unwrap());
    });
    let rbac_only = Engine::build(&[], None).unwrap();
    time("decide, no policy", n, || {
        black_box(decide(&graph, &rbac_only, black_box(&req), &facts).unwrap());
    });
    println!(
        "decide / raw = {:.2}; decide / (raw + entities) = {:.2}",
        ours.as_secs_f64() / raw.as_secs_f64(),
        ours.as_secs_f64() / raw_built.as_secs_f64()
    );
}
