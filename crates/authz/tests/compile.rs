//! Compiling permission graphs: inheritance, cycles, unknown parents, scopes, user templates,
//! priority, filter bypass, determinism.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::*;
use tessera_authz::{Subject, compile};
use tessera_domain::authz::{AccessScope, HeldRole, PermissionGraph, RoleRef, Source};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::role::SystemRole;

fn held(g: &PermissionGraph) -> Vec<(String, String, Option<String>)> {
    g.roles
        .iter()
        .map(
            |HeldRole {
                 role,
                 scope,
                 inherited_through,
                 ..
             }| {
                (
                    role.to_string(),
                    scope.to_string(),
                    inherited_through.as_ref().map(ToString::to_string),
                )
            },
        )
        .collect()
}

fn grants(g: &PermissionGraph) -> Vec<(String, String)> {
    g.grants
        .iter()
        .map(|gr| (gr.permission.to_string(), gr.scope.to_string()))
        .collect()
}

#[test]
fn nothing_assigned_compiles_to_an_empty_graph() {
    let g = compile(&model(), &subject(1), &[], &[], 7);
    assert_eq!(g.tenant_id, tenant());
    assert_eq!(g.user_id, user(1));
    assert_eq!(g.epoch, 7);
    assert_eq!(g.priority, 0);
    assert!(!g.bypasses_filters);
    assert!(g.roles.is_empty() && g.grants.is_empty());
    assert_eq!(g.state, LifecycleState::Active);
}

#[test]
fn custom_role_inherits_through_custom_to_system_parent_in_the_same_scope() {
    let mut m = model();
    m.roles = vec![
        role("shift_lead", 60, Some(custom("senior_cashier"))),
        role("senior_cashier", 55, Some(system(SystemRole::Cashier))),
    ];
    m.templates = vec![
        template("refunds", &["orders:refund"]),
        template("reading", &["orders:read"]),
    ];
    m.grants = vec![
        grant_to_role("refunds", custom("senior_cashier")),
        grant_to_role("reading", system(SystemRole::Cashier)),
    ];
    let scope = AccessScope::Unit(unit(1));
    let g = compile(
        &m,
        &subject(1),
        &[assign(user(1), custom("shift_lead"), scope.clone())],
        &[],
        1,
    );
    let s = scope.to_string();
    assert_eq!(
        held(&g),
        [
            ("cashier".into(), s.clone(), Some("shift_lead".into())),
            (
                "senior_cashier".into(),
                s.clone(),
                Some("shift_lead".into())
            ),
            ("shift_lead".into(), s.clone(), None),
        ]
    );
    assert_eq!(g.priority, 60);
    // Cashier's built-ins, the template of the system parent, the template of the middle role.
    assert_eq!(
        grants(&g),
        [
            ("orders:read".into(), s.clone()),
            ("orders:refund".into(), s.clone()),
            ("org_units:read".into(), s.clone()),
            ("users:read".into(), s.clone()),
        ]
    );
    assert!(g.grants.iter().all(|gr| gr.scope == scope));
    assert!(g.grants.contains(&tessera_domain::authz::Grant {
        permission: p("orders:refund"),
        scope: scope.clone(),
        source: Source::RoleTemplate {
            role: custom("senior_cashier"),
            template: "refunds".into()
        },
    }));
    assert!(
        g.grants
            .iter()
            .any(|gr| gr.source == Source::SystemRole(system(SystemRole::Cashier)))
    );
    assert!(!g.bypasses_filters);
}

#[test]
fn a_cycle_of_parents_stops() {
    let mut m = model();
    m.roles = vec![
        role("a", 10, Some(custom("b"))),
        role("b", 20, Some(custom("c"))),
        role("c", 30, Some(custom("a"))),
    ];
    m.templates = vec![template("t", &["orders:read"])];
    m.grants = vec![grant_to_role("t", custom("c"))];
    let g = compile(
        &m,
        &subject(1),
        &[assign(user(1), custom("a"), AccessScope::Tenant)],
        &[],
        1,
    );
    let names: Vec<String> = g.roles.iter().map(|r| r.role.to_string()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(g.priority, 30);
    assert_eq!(grants(&g), [("orders:read".into(), "tenant".into())]);
}

#[test]
fn an_unknown_parent_stops_and_an_unknown_role_gives_nothing() {
    let mut m = model();
    m.roles = vec![role("a", 10, Some(custom("gone")))];
    let g = compile(
        &m,
        &subject(1),
        &[
            assign(user(1), custom("a"), AccessScope::Tenant),
            assign(user(1), custom("deleted"), AccessScope::Tenant),
        ],
        &[],
        1,
    );
    let names: Vec<String> = g.roles.iter().map(|r| r.role.to_string()).collect();
    assert_eq!(names, ["a"]);
    assert_eq!(g.priority, 10);
}

#[test]
fn system_roles_bring_their_built_in_permissions_and_bypass_only_tenant_wide() {
    let g = compile(
        &model(),
        &subject(1),
        &[assign(
            user(1),
            system(SystemRole::Admin),
            AccessScope::Unit(unit(1)),
        )],
        &[],
        1,
    );
    assert_eq!(
        grants(&g),
        [("*".into(), AccessScope::Unit(unit(1)).to_string())]
    );
    assert!(
        !g.bypasses_filters,
        "an admin of one unit sees only that unit"
    );
    assert_eq!(g.priority, 90);

    let g = compile(
        &model(),
        &subject(1),
        &[assign(
            user(1),
            system(SystemRole::SuperAdmin),
            AccessScope::Tenant,
        )],
        &[],
        1,
    );
    assert!(g.bypasses_filters);
    assert_eq!(g.priority, 100);

    let g = compile(
        &model(),
        &subject(1),
        &[assign(
            user(1),
            system(SystemRole::Operator),
            AccessScope::Tenant,
        )],
        &[],
        1,
    );
    assert!(!g.bypasses_filters);
}

#[test]
fn scopes_are_carried_per_assignment() {
    let g = compile(
        &model(),
        &subject(1),
        &[
            assign(user(1), system(SystemRole::Customer), AccessScope::SelfOnly),
            assign(
                user(1),
                system(SystemRole::Employee),
                AccessScope::Unit(unit(2)),
            ),
        ],
        &[],
        1,
    );
    let u2 = AccessScope::Unit(unit(2)).to_string();
    assert_eq!(
        grants(&g),
        [
            ("org_units:read".into(), u2.clone()),
            ("users:read".into(), u2.clone()),
            ("users:read".into(), "self".into()),
        ]
    );
    assert_eq!(g.priority, 50);
    assert_eq!(g.scopes_for(&p("users:read")).len(), 2);
}

#[test]
fn user_templates_apply_tenant_wide_from_the_list_and_from_the_model() {
    let mut m = model();
    m.templates = vec![
        template("reading", &["orders:read"]),
        template("refunds", &["orders:refund"]),
    ];
    m.grants = vec![
        grant_to_user("refunds", user(1)),
        grant_to_user("reading", user(2)),
    ];
    let g = compile(
        &m,
        &subject(1),
        &[],
        &["reading".into(), "unknown".into()],
        1,
    );
    assert_eq!(
        grants(&g),
        [
            ("orders:read".into(), "tenant".into()),
            ("orders:refund".into(), "tenant".into()),
        ]
    );
    assert!(
        g.grants
            .iter()
            .any(|gr| gr.source == Source::UserTemplate("refunds".into()))
    );
    assert_eq!(g.priority, 0, "templates are not roles");
}

#[test]
fn identical_grants_are_deduplicated_and_order_is_deterministic() {
    let mut m = model();
    m.roles = vec![role("helper", 40, Some(system(SystemRole::Cashier)))];
    let assignments = vec![
        assign(user(1), custom("helper"), AccessScope::Tenant),
        assign(user(1), system(SystemRole::Cashier), AccessScope::Tenant),
        assign(user(1), system(SystemRole::Cashier), AccessScope::Tenant),
    ];
    let g = compile(&m, &subject(1), &assignments, &[], 1);
    let mut reversed = assignments.clone();
    reversed.reverse();
    assert_eq!(g, compile(&m, &subject(1), &reversed, &[], 1));
    assert_eq!(
        grants(&g),
        [
            ("org_units:read".into(), "tenant".into()),
            ("users:read".into(), "tenant".into()),
        ]
    );
    // Held directly and through `helper`: two entries, each once.
    let cashier: Vec<&HeldRole> = g
        .roles
        .iter()
        .filter(|r| r.role == RoleRef::System(SystemRole::Cashier))
        .collect();
    assert_eq!(cashier.len(), 2);
}

#[test]
fn the_subjects_state_is_recorded() {
    let s = Subject {
        state: LifecycleState::Suspended,
        ..subject(1)
    };
    let g = compile(
        &model(),
        &s,
        &[assign(
            user(1),
            system(SystemRole::Admin),
            AccessScope::Tenant,
        )],
        &[],
        1,
    );
    assert_eq!(g.state, LifecycleState::Suspended);
    assert!(!g.holds(&p("users:read")));
}
