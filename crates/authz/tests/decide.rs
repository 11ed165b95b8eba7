//! Deciding requests: every rule of RBAC ∧ Cedar, with reasons and explanations.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::json;
use support::*;
use tessera_authz::{
    Decision, Engine, Reason, RequestError, ResourceFacts, Subject, compile, decide,
};
use tessera_domain::authz::{AccessScope, PermissionGraph, RoleAssignment, TenantModel};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::role::SystemRole;

fn graph_with(m: &TenantModel, s: &Subject, a: &[RoleAssignment]) -> PermissionGraph {
    compile(m, s, a, &[], 1)
}

/// A model where `refunder` (custom, priority 40) gets `orders:read` and `orders:refund`.
fn shop() -> TenantModel {
    let mut m = model();
    m.roles = vec![role("refunder", 40, None), role("auditor", 30, None)];
    m.templates = vec![template("refunds", &["orders:read", "orders:refund"])];
    m.grants = vec![grant_to_role("refunds", custom("refunder"))];
    m
}

fn refunder(scope: AccessScope) -> PermissionGraph {
    graph_with(
        &shop(),
        &subject(1),
        &[assign(user(1), custom("refunder"), scope)],
    )
}

fn engine(policies: Option<&str>) -> Engine {
    Engine::build(&[orders()], policies).unwrap()
}

fn ok(
    g: &PermissionGraph,
    e: &Engine,
    req: &tessera_authz::AccessRequest,
    f: &ResourceFacts,
) -> Decision {
    decide(g, e, req, f).unwrap()
}

fn err(
    g: &PermissionGraph,
    e: &Engine,
    req: &tessera_authz::AccessRequest,
    f: &ResourceFacts,
) -> RequestError {
    match decide(g, e, req, f) {
        Ok(d) => panic!("decided: {d:?}"),
        Err(e) => e,
    }
}

fn refund(id: &str) -> tessera_authz::AccessRequest {
    request(user(1), "orders:refund", "orders", id)
}

fn uid(u: tessera_domain::OrgUnitId) -> String {
    u.to_string()
}

const FORBID_BIG: &str = r#"
@id("big-refunds")
forbid(principal, action == Action::"orders:refund", resource is orders)
when { resource has amount && resource.amount > 1000 }
unless { context has mfa && context.mfa };
"#;

#[test]
fn reason_codes_are_snake_case() {
    let all = [
        (Reason::AllowedByRole, "allowed_by_role"),
        (Reason::AllowedByPolicy, "allowed_by_policy"),
        (Reason::ForbiddenByPolicy, "forbidden_by_policy"),
        (Reason::NoPermission, "no_permission"),
        (Reason::OutOfScope, "out_of_scope"),
        (Reason::SubjectInactive, "subject_inactive"),
        (Reason::PolicyError, "policy_error"),
    ];
    for (reason, code) in all {
        assert_eq!(reason.code(), code);
        assert_eq!(serde_json::to_value(reason).unwrap(), json!(code));
    }
}

// Rule 1 ----------------------------------------------------------------------------------

#[test]
fn an_inactive_subject_is_denied_whatever_it_holds_and_whatever_the_policies() {
    let s = Subject {
        state: LifecycleState::Suspended,
        ..subject(1)
    };
    let g = graph_with(
        &shop(),
        &s,
        &[assign(
            user(1),
            system(SystemRole::SuperAdmin),
            AccessScope::Tenant,
        )],
    );
    let e = engine(Some(r#"permit(principal, action, resource);"#));
    // Even a request Cedar could not evaluate (wrong context type): nothing is evaluated.
    let req = with_context(refund("o1"), json!({ "mfa": "yes" }));
    let d = ok(&g, &e, &req, &no_facts());
    assert!(!d.allowed);
    assert_eq!(d.reason, Reason::SubjectInactive);
    assert!(d.message.contains("suspended"), "{}", d.message);
    assert!(d.explanation.roles.is_empty() && d.explanation.policies.is_empty());
}

// Rule 2 ----------------------------------------------------------------------------------

#[test]
fn a_tenant_wide_grant_allows_and_is_explained() {
    let g = refunder(AccessScope::Tenant);
    let d = ok(&g, &engine(None), &refund("o1"), &no_facts());
    assert!(d.allowed);
    assert_eq!(d.reason, Reason::AllowedByRole);
    assert_eq!(d.explanation.roles, [custom("refunder")]);
    assert_eq!(d.explanation.templates, ["refunds"]);
    assert_eq!(d.explanation.scope, Some(AccessScope::Tenant));
    assert!(d.explanation.policies.is_empty());
    assert!(d.message.contains("refunder"), "{}", d.message);
}

#[test]
fn without_any_grant_the_request_is_denied_no_permission() {
    let g = graph_with(&shop(), &subject(1), &[]);
    let d = ok(&g, &engine(None), &refund("o1"), &no_facts());
    assert!(!d.allowed);
    assert_eq!(d.reason, Reason::NoPermission);
    assert_eq!(d.explanation, Default::default());
}

#[test]
fn a_unit_grant_covers_the_units_subtree_through_the_ancestors() {
    let g = refunder(AccessScope::Unit(unit(1)));
    // The order is in unit 3, below unit 2, below unit 1.
    let below = in_units(&[unit(3), unit(2), unit(1)]);
    let d = ok(&g, &engine(None), &refund("o1"), &below);
    assert!(d.allowed, "{d:?}");
    assert_eq!(d.explanation.scope, Some(AccessScope::Unit(unit(1))));

    // A sibling subtree is out of scope; the explanation names the role held elsewhere.
    let sibling = in_units(&[unit(4), unit(9)]);
    let d = ok(&g, &engine(None), &refund("o1"), &sibling);
    assert!(!d.allowed);
    assert_eq!(d.reason, Reason::OutOfScope);
    assert_eq!(d.explanation.roles, [custom("refunder")]);
    assert_eq!(d.explanation.templates, ["refunds"]);
    assert!(d.message.contains(&uid(unit(1))), "{}", d.message);

    // A resource in no unit is not covered by a unit grant either.
    let d = ok(&g, &engine(None), &refund("o1"), &no_facts());
    assert_eq!(d.reason, Reason::OutOfScope);
}

#[test]
fn the_widest_matching_scope_is_reported() {
    let g = graph_with(
        &shop(),
        &subject(1),
        &[
            assign(user(1), custom("refunder"), AccessScope::Unit(unit(2))),
            assign(user(1), custom("refunder"), AccessScope::Unit(unit(1))),
        ],
    );
    let d = ok(
        &g,
        &engine(None),
        &refund("o1"),
        &in_units(&[unit(3), unit(2), unit(1)]),
    );
    assert_eq!(d.explanation.scope, Some(AccessScope::Unit(unit(1))));
}

#[test]
fn a_self_grant_covers_only_the_subjects_own_record() {
    let g = graph_with(
        &shop(),
        &subject(1),
        &[assign(
            user(1),
            system(SystemRole::Customer),
            AccessScope::SelfOnly,
        )],
    );
    let own = ResourceFacts {
        units: vec![],
        owner: Some(user(1)),
    };
    let req = request(user(1), "users:read", "users", &user(1).to_string());
    let d = ok(&g, &engine(None), &req, &own);
    assert!(d.allowed);
    assert_eq!(d.explanation.roles, [system(SystemRole::Customer)]);
    assert_eq!(d.explanation.scope, Some(AccessScope::SelfOnly));

    let other = ResourceFacts {
        units: vec![],
        owner: Some(user(2)),
    };
    let req = request(user(1), "users:read", "users", &user(2).to_string());
    let d = ok(&g, &engine(None), &req, &other);
    assert!(!d.allowed);
    assert_eq!(d.reason, Reason::OutOfScope);
    assert!(d.message.contains("`self`"), "{}", d.message);

    // Self does not grant what the role does not hold.
    let req = request(user(1), "users:write", "users", &user(1).to_string());
    assert_eq!(
        ok(&g, &engine(None), &req, &own).reason,
        Reason::NoPermission
    );
}

#[test]
fn write_implies_read_and_patterns_grant() {
    let g = graph_with(
        &shop(),
        &subject(1),
        &[assign(
            user(1),
            system(SystemRole::Owner),
            AccessScope::Tenant,
        )],
    );
    let req = request(user(1), "users:read", "users", "x");
    assert!(ok(&g, &engine(None), &req, &no_facts()).allowed);
    let g = graph_with(
        &shop(),
        &subject(1),
        &[assign(
            user(1),
            system(SystemRole::Admin),
            AccessScope::Tenant,
        )],
    );
    assert!(ok(&g, &engine(None), &refund("o1"), &no_facts()).allowed);
}

// Rule 3 and 4: Cedar --------------------------------------------------------------------

#[test]
fn a_forbid_overrides_a_role_allow() {
    let g = refunder(AccessScope::Tenant);
    let e = engine(Some(FORBID_BIG));
    let big = with_properties(refund("o1"), json!({ "amount": 5000 }));
    let d = ok(&g, &e, &big, &no_facts());
    assert!(!d.allowed);
    assert_eq!(d.reason, Reason::ForbiddenByPolicy);
    assert_eq!(d.explanation.policies, ["big-refunds"]);
    assert_eq!(d.explanation.roles, [custom("refunder")]);
    assert!(d.message.contains("big-refunds"), "{}", d.message);

    // The forbid's `unless`: with a second factor the role allow stands.
    let with_mfa = with_context(big.clone(), json!({ "mfa": true }));
    let d = ok(&g, &e, &with_mfa, &no_facts());
    assert!(d.allowed);
    assert_eq!(d.reason, Reason::AllowedByRole);
    assert!(d.explanation.policies.is_empty());

    // A small refund is not forbidden.
    let small = with_properties(refund("o1"), json!({ "amount": 50 }));
    assert_eq!(
        ok(&g, &e, &small, &no_facts()).reason,
        Reason::AllowedByRole
    );
}

#[test]
fn a_forbid_applies_to_built_in_resources_too() {
    let g = graph_with(
        &shop(),
        &subject(1),
        &[assign(
            user(1),
            system(SystemRole::Admin),
            AccessScope::Tenant,
        )],
    );
    let e = engine(Some(
        r#"forbid(principal, action == Action::"api_keys:manage", resource) unless { context has mfa && context.mfa };"#,
    ));
    let req = request(user(1), "api_keys:manage", "api_keys", "k1");
    let d = ok(&g, &e, &req, &no_facts());
    assert_eq!(d.reason, Reason::ForbiddenByPolicy);
    assert_eq!(d.explanation.policies, ["policy0"]);
    let req = with_context(req, json!({ "mfa": true, "channel": "web" }));
    assert_eq!(ok(&g, &e, &req, &no_facts()).reason, Reason::AllowedByRole);
}

#[test]
fn a_permit_grants_a_registered_type_without_a_role() {
    let g = graph_with(&shop(), &subject(1), &[]);
    let e = engine(Some(
        r#"
permit(principal, action == Action::"orders:read", resource is orders)
when { resource has status && resource.status == "public" };
"#,
    ));
    let req = with_properties(
        request(user(1), "orders:read", "orders", "o1"),
        json!({ "status": "public" }),
    );
    let d = ok(&g, &e, &req, &no_facts());
    assert!(d.allowed);
    assert_eq!(d.reason, Reason::AllowedByPolicy);
    assert_eq!(d.explanation.policies, ["policy0"]);
    assert!(d.explanation.roles.is_empty());

    let private = with_properties(
        request(user(1), "orders:read", "orders", "o1"),
        json!({ "status": "private" }),
    );
    assert_eq!(
        ok(&g, &e, &private, &no_facts()).reason,
        Reason::NoPermission
    );
}

#[test]
fn a_permit_never_grants_a_built_in_resource() {
    let g = graph_with(&shop(), &subject(1), &[]);
    let e = engine(Some(r#"permit(principal, action, resource);"#));
    for (action, kind) in [
        ("users:write", "users"),
        ("policies:write", "policies"),
        ("roles:grant", "roles"),
        ("tenants:write", "tenants"),
    ] {
        let d = ok(&g, &e, &request(user(1), action, kind, "x"), &no_facts());
        assert!(!d.allowed, "{action}");
        assert_eq!(d.reason, Reason::NoPermission, "{action}");
    }
    // The same policy does grant a registered type.
    assert_eq!(
        ok(&g, &e, &refund("o1"), &no_facts()).reason,
        Reason::AllowedByPolicy
    );
}

#[test]
fn a_permit_can_grant_what_is_held_only_out_of_scope() {
    let g = refunder(AccessScope::Unit(unit(1)));
    let e = engine(Some(
        r#"permit(principal, action == Action::"orders:read", resource is orders) when { resource has flagged && !resource.flagged };"#,
    ));
    let req = with_properties(
        request(user(1), "orders:read", "orders", "o1"),
        json!({ "flagged": false }),
    );
    let d = ok(&g, &e, &req, &in_units(&[unit(7)]));
    assert_eq!(d.reason, Reason::AllowedByPolicy);
    let req = with_properties(req, json!({ "flagged": true }));
    let d = ok(&g, &e, &req, &in_units(&[unit(7)]));
    assert_eq!(d.reason, Reason::OutOfScope);
    assert_eq!(d.explanation.roles, [custom("refunder")]);
}

#[test]
fn cedar_sees_only_the_roles_held_in_a_scope_covering_the_resource() {
    let m = shop();
    let g = graph_with(
        &m,
        &subject(1),
        &[assign(
            user(1),
            custom("auditor"),
            AccessScope::Unit(unit(1)),
        )],
    );
    let e = engine(Some(
        r#"permit(principal in Role::"auditor", action == Action::"orders:read", resource) when { principal.roles.contains("auditor") };"#,
    ));
    let req = request(user(1), "orders:read", "orders", "o1");
    let d = ok(&g, &e, &req, &in_units(&[unit(2), unit(1)]));
    assert_eq!(d.reason, Reason::AllowedByPolicy);
    let d = ok(&g, &e, &req, &in_units(&[unit(5)]));
    assert_eq!(d.reason, Reason::NoPermission);
}

#[test]
fn cedar_sees_the_unit_chain_and_the_facts() {
    let g = refunder(AccessScope::Tenant);
    let policy = format!(
        r#"
@id("frozen-region")
forbid(principal, action == Action::"orders:refund", resource in OrgUnit::"{}");
@id("own-orders")
forbid(principal, action == Action::"orders:refund", resource)
when {{ resource has owner && resource.owner == principal }};
"#,
        uid(unit(1))
    );
    let e = engine(Some(&policy));
    // Two levels below the frozen unit.
    let d = ok(
        &g,
        &e,
        &refund("o1"),
        &in_units(&[unit(3), unit(2), unit(1)]),
    );
    assert_eq!(d.reason, Reason::ForbiddenByPolicy);
    assert_eq!(d.explanation.policies, ["frozen-region"]);
    assert_eq!(
        ok(&g, &e, &refund("o1"), &in_units(&[unit(3), unit(2)])).reason,
        Reason::AllowedByRole
    );
    // The owner comes from the facts, not from a property of the same name.
    let mine = ResourceFacts {
        units: vec![],
        owner: Some(user(1)),
    };
    let d = ok(&g, &e, &refund("o1"), &mine);
    assert_eq!(d.explanation.policies, ["own-orders"]);
    let spoofed = with_properties(refund("o1"), json!({ "owner": user(2).to_string() }));
    assert_eq!(
        ok(&g, &e, &spoofed, &mine).reason,
        Reason::ForbiddenByPolicy
    );
    let spoofed = with_properties(refund("o1"), json!({ "owner": user(1).to_string() }));
    assert_eq!(
        ok(&g, &e, &spoofed, &no_facts()).reason,
        Reason::AllowedByRole
    );
}

#[test]
fn cedar_sees_the_principals_attributes_and_every_property_type() {
    let g = refunder(AccessScope::Tenant);
    let e = engine(Some(&format!(
        r#"
forbid(principal, action == Action::"orders:refund", resource)
when {{ principal.priority < 50 && principal.state == "active" &&
        resource has tags && resource.tags.contains("locked") &&
        resource has buyer && resource.buyer == User::"{}" &&
        resource has branch && resource.branch == OrgUnit::"{}" &&
        context has hour && context.hour >= 22 }};
"#,
        user(9),
        uid(unit(4))
    )));
    let props = json!({
        "tags": ["vip", "locked"],
        "buyer": user(9).to_string(),
        "branch": uid(unit(4)),
        "undeclared": { "ignored": true },
    });
    let req = with_context(
        with_properties(refund("o1"), props.clone()),
        json!({ "hour": 23, "extra": [1] }),
    );
    assert_eq!(
        ok(&g, &e, &req, &no_facts()).reason,
        Reason::ForbiddenByPolicy
    );
    let req = with_context(with_properties(refund("o1"), props), json!({ "hour": 9 }));
    assert_eq!(ok(&g, &e, &req, &no_facts()).reason, Reason::AllowedByRole);
}

#[test]
fn a_forbid_that_fails_to_evaluate_denies() {
    let g = refunder(AccessScope::Tenant);
    let e = engine(Some(
        r#"
@id("overflowing")
forbid(principal, action == Action::"orders:refund", resource)
when { resource has amount && resource.amount * 1000000 < 0 };
"#,
    ));
    let huge = with_properties(refund("o1"), json!({ "amount": i64::MAX / 2 }));
    let d = ok(&g, &e, &huge, &no_facts());
    assert!(!d.allowed);
    assert_eq!(d.reason, Reason::PolicyError);
    assert_eq!(d.explanation.policies, ["overflowing"]);
    assert!(d.message.contains("overflowing"), "{}", d.message);
    let fine = with_properties(refund("o1"), json!({ "amount": 10 }));
    assert_eq!(ok(&g, &e, &fine, &no_facts()).reason, Reason::AllowedByRole);
}

#[test]
fn a_permit_that_fails_to_evaluate_is_skipped() {
    let g = graph_with(&shop(), &subject(1), &[]);
    let e = engine(Some(
        r#"permit(principal, action == Action::"orders:read", resource) when { resource has amount && resource.amount * 1000000 < 0 };"#,
    ));
    let huge = with_properties(
        request(user(1), "orders:read", "orders", "o1"),
        json!({ "amount": i64::MAX / 2 }),
    );
    assert_eq!(ok(&g, &e, &huge, &no_facts()).reason, Reason::NoPermission);
}

// Request errors --------------------------------------------------------------------------

#[test]
fn a_context_value_of_the_wrong_type_is_a_request_error() {
    let g = refunder(AccessScope::Tenant);
    let e = engine(Some(FORBID_BIG));
    for ctx in [
        json!({ "mfa": "true" }),
        json!({ "hour": 1.5 }),
        json!({ "now": "2026-01-01" }),
        json!({ "ip": 10 }),
    ] {
        let req = with_context(refund("o1"), ctx.clone());
        let e = err(&g, &e, &req, &no_facts());
        assert!(e.message.starts_with("context `"), "{ctx}: {}", e.message);
    }
    // null is taken as absent
    let req = with_context(refund("o1"), json!({ "mfa": null }));
    assert!(ok(&g, &e, &req, &no_facts()).allowed);
}

#[test]
fn a_declared_property_of_the_wrong_type_is_a_request_error() {
    let g = refunder(AccessScope::Tenant);
    let e = engine(Some(FORBID_BIG));
    for props in [
        json!({ "amount": "5000" }),
        json!({ "flagged": 1 }),
        json!({ "tags": ["a", 1] }),
        json!({ "buyer": 42 }),
        json!({ "status": ["open"] }),
    ] {
        let req = with_properties(refund("o1"), props.clone());
        let e = err(&g, &e, &req, &no_facts());
        assert!(
            e.message.contains("resource property"),
            "{props}: {}",
            e.message
        );
    }
    // Undeclared properties are ignored, whatever their type.
    let req = with_properties(refund("o1"), json!({ "colour": 5 }));
    assert!(ok(&g, &e, &req, &no_facts()).allowed);
}

#[test]
fn unknown_types_and_actions_are_request_errors_when_cedar_is_consulted() {
    let g = refunder(AccessScope::Tenant);
    let e = engine(Some(FORBID_BIG));
    let unknown_kind = request(user(1), "invoices:read", "invoices", "i1");
    assert!(
        err(&g, &e, &unknown_kind, &no_facts())
            .message
            .contains("unknown resource type")
    );
    let misapplied = request(user(1), "orders:read", "users", "u1");
    assert!(
        err(&g, &e, &misapplied, &no_facts())
            .message
            .contains("not an action")
    );
    let undeclared = request(user(1), "orders:cancel", "orders", "o1");
    assert!(
        err(&g, &e, &undeclared, &no_facts())
            .message
            .contains("not an action")
    );
    // Without policies, RBAC alone answers.
    let d = ok(&g, &engine(None), &undeclared, &no_facts());
    assert_eq!(d.reason, Reason::NoPermission);
}

#[test]
fn a_pattern_action_or_a_foreign_graph_is_a_request_error() {
    let g = refunder(AccessScope::Tenant);
    let e = engine(None);
    let pattern = request(user(1), "orders:*", "orders", "o1");
    assert!(
        err(&g, &e, &pattern, &no_facts())
            .message
            .contains("pattern")
    );
    let other = request(user(2), "orders:refund", "orders", "o1");
    assert!(decide(&g, &e, &other, &no_facts()).is_err());
}

#[test]
fn decisions_serialize_for_the_api() {
    let g = refunder(AccessScope::Unit(unit(1)));
    let d = ok(&g, &engine(None), &refund("o1"), &in_units(&[unit(1)]));
    let v = serde_json::to_value(&d).unwrap();
    assert_eq!(v["allowed"], json!(true));
    assert_eq!(v["reason"], json!("allowed_by_role"));
    assert_eq!(v["explanation"]["roles"], json!(["refunder"]));
    assert_eq!(
        v["explanation"]["scope"],
        json!(format!("unit:{}", uid(unit(1))))
    );
}

#[test]
fn requests_are_checked_even_when_cedar_cannot_change_the_outcome() {
    // No role and a built-in resource: Cedar is not evaluated, the request is still checked.
    let g = graph_with(&shop(), &subject(1), &[]);
    let e = engine(Some(FORBID_BIG));
    let req = with_context(
        request(user(1), "users:read", "users", "u"),
        json!({ "mfa": 1 }),
    );
    assert!(err(&g, &e, &req, &no_facts()).message.contains("`mfa`"));
    let req = request(user(1), "users:read", "users", "u");
    assert_eq!(ok(&g, &e, &req, &no_facts()).reason, Reason::NoPermission);
}

#[test]
fn a_cycle_in_the_unit_facts_is_cut() {
    let g = refunder(AccessScope::Unit(unit(2)));
    let e = engine(Some(&format!(
        r#"forbid(principal, action == Action::"orders:refund", resource in OrgUnit::"{}");"#,
        uid(unit(9))
    )));
    let looped = in_units(&[unit(1), unit(2), unit(1), unit(9)]);
    // unit 9 is past the repetition: not an ancestor.
    assert_eq!(
        ok(&g, &e, &refund("o1"), &looped).reason,
        Reason::AllowedByRole
    );
}

#[test]
fn a_redeclared_unit_attribute_comes_from_the_properties() {
    let mut tickets = orders();
    tickets.name = "tickets".into();
    tickets
        .attributes
        .insert("unit".into(), tessera_domain::authz::AttributeType::String);
    let e = Engine::build(
        &[tickets],
        Some(
            r#"permit(principal, action == Action::"tickets:read", resource) when { resource has unit && resource.unit == "desk-4" };"#,
        ),
    )
    .unwrap();
    let g = graph_with(&shop(), &subject(1), &[]);
    let req = with_properties(
        request(user(1), "tickets:read", "tickets", "t1"),
        json!({ "unit": "desk-4" }),
    );
    let d = ok(&g, &e, &req, &in_units(&[unit(1)]));
    assert_eq!(d.reason, Reason::AllowedByPolicy);
}

#[test]
fn a_forbid_reading_an_entity_that_is_not_sent_fails_closed() {
    let g = refunder(AccessScope::Tenant);
    let e = engine(Some(
        r#"@id("owner-rank") forbid(principal, action == Action::"orders:refund", resource) when { resource has owner && resource.owner.priority > principal.priority };"#,
    ));
    let others = ResourceFacts {
        units: vec![],
        owner: Some(user(2)),
    };
    let d = ok(&g, &e, &refund("o1"), &others);
    assert_eq!(d.reason, Reason::PolicyError);
    assert_eq!(d.explanation.policies, ["owner-rank"]);
    // The subject's own resource: the owner is the principal, which is sent.
    let own = ResourceFacts {
        units: vec![],
        owner: Some(user(1)),
    };
    assert_eq!(
        ok(&g, &e, &refund("o1"), &own).reason,
        Reason::AllowedByRole
    );
}
