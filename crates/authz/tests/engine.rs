//! Building engines: the schema, policy ids, and policies that do not parse or validate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::collections::BTreeMap;
use support::*;
use tessera_authz::{BUILT_IN_PERMISSIONS, Engine, PolicyError};
use tessera_domain::authz::{AttributeType, ResourceType};

fn build_err(policies: &str) -> PolicyError {
    match Engine::build(&[orders()], Some(policies)) {
        Ok(_) => panic!("built:\n{policies}"),
        Err(e) => e,
    }
}

#[test]
fn no_policies_builds_an_engine_without_policies() {
    let e = Engine::build(&[orders()], None).unwrap();
    assert!(e.policy_ids().is_empty());
    let e = Engine::build(&[], Some("  \n// nothing yet\n")).unwrap();
    assert!(e.policy_ids().is_empty());
}

#[test]
fn policies_are_named_by_position_or_by_their_id_annotation() {
    let text = r#"
        permit(principal, action == Action::"orders:read", resource);
        @id("big-refunds-need-mfa")
        forbid(principal, action == Action::"orders:refund", resource is orders)
        when { resource has amount && resource.amount > 1000 }
        unless { context has mfa && context.mfa };
        permit(principal in Role::"cashier", action == Action::"users:read", resource);
    "#;
    let e = Engine::build(&[orders()], Some(text)).unwrap();
    assert_eq!(
        e.policy_ids(),
        ["big-refunds-need-mfa", "policy0", "policy2"]
    );
}

#[test]
fn duplicate_ids_are_refused() {
    let text = r#"
        @id("x") permit(principal, action, resource);
        @id("x") forbid(principal, action, resource);
    "#;
    let e = build_err(text);
    assert!(e.message.contains("`x`"), "{}", e.message);
}

#[test]
fn a_policy_that_does_not_parse_is_explained_with_its_position() {
    let text = "permit(principal, action, resource);\npermit(principal, action resource)\n";
    let e = build_err(text);
    assert!(
        e.message.starts_with("the policies do not parse"),
        "{}",
        e.message
    );
    assert!(e.message.contains("line 2"), "{}", e.message);
}

#[test]
fn an_unknown_attribute_does_not_validate() {
    let text = r#"
permit(principal, action == Action::"orders:refund", resource)
when { resource.colour == "red" };
"#;
    let e = build_err(text);
    assert!(e.message.contains("do not validate"), "{}", e.message);
    assert!(e.message.contains("policy0"), "{}", e.message);
    assert!(e.message.contains("colour"), "{}", e.message);
    assert!(e.message.contains("line 3"), "{}", e.message);
}

#[test]
fn an_optional_attribute_needs_a_has_check_in_strict_mode() {
    let e = build_err(
        r#"permit(principal, action == Action::"orders:refund", resource) when { resource.amount < 10 };"#,
    );
    assert!(e.message.contains("amount"), "{}", e.message);
    Engine::build(
        &[orders()],
        Some(r#"permit(principal, action == Action::"orders:refund", resource) when { resource has amount && resource.amount < 10 };"#),
    )
    .unwrap();
}

#[test]
fn an_unknown_entity_type_does_not_validate() {
    let e = build_err(r#"permit(principal, action, resource is invoices);"#);
    assert!(e.message.contains("invoices"), "{}", e.message);
    assert!(e.message.contains("policy0"), "{}", e.message);
}

#[test]
fn an_unknown_action_does_not_validate() {
    let e = build_err(r#"permit(principal, action == Action::"orders:cancel", resource);"#);
    assert!(e.message.contains("orders:cancel"), "{}", e.message);
}

#[test]
fn a_wrongly_typed_comparison_does_not_validate() {
    let e = build_err(
        r#"permit(principal, action == Action::"orders:read", resource) when { principal.priority == "high" };"#,
    );
    assert!(e.message.contains("policy0"), "{}", e.message);
}

#[test]
fn templates_are_refused() {
    let e = build_err(r#"permit(principal == ?principal, action, resource);"#);
    assert!(e.message.contains("template"), "{}", e.message);
}

#[test]
fn every_attribute_type_and_built_in_action_is_usable() {
    let text = r#"
permit(principal, action == Action::"orders:read", resource is orders)
when {
  principal.state == "active" && principal.priority >= 50 && principal.roles.contains("cashier") &&
  resource has amount && resource.amount > 0 &&
  resource has status && resource.status == "open" &&
  resource has flagged && !resource.flagged &&
  resource has tags && resource.tags.contains("vip") &&
  resource has buyer && resource.buyer == principal &&
  resource has branch && resource.branch in OrgUnit::"x" &&
  resource has unit && resource.unit in OrgUnit::"y" &&
  resource has owner && resource.owner == principal &&
  context has ip && context.ip == "10.0.0.1" &&
  context has mfa && context.mfa &&
  context has now && context.now > 0 &&
  context has hour && context.hour < 18 &&
  context has weekday && context.weekday <= 5 &&
  context has channel && context.channel == "pos"
};
permit(principal in Group::"ops", action == Action::"access:evaluate", resource is access);
permit(principal in OrgUnit::"hq", action == Action::"users:write", resource in OrgUnit::"hq");
forbid(principal, action == Action::"api_keys:manage", resource is api_keys);
"#;
    let e = Engine::build(&[orders()], Some(text)).unwrap();
    assert_eq!(e.policy_ids().len(), 4);
    // A policy that can never apply (`customers` has no action) is refused, not kept inert.
    let never = Engine::build(
        &[orders()],
        Some("permit(principal, action, resource is customers);"),
    );
    assert!(never.unwrap_err().message.contains("can never apply"));
    assert_eq!(BUILT_IN_PERMISSIONS.len(), 15);
}

#[test]
fn schema_text_is_human_readable_cedar() {
    let text = Engine::schema_text(&[orders()]).unwrap();
    for needle in [
        "entity User",
        "entity OrgUnit",
        "entity orders",
        "amount",
        "\"orders:refund\"",
        "\"users:read\"",
        "channel",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    // It parses back as a Cedar schema.
    let _ = cedar_policy::Schema::from_cedarschema_str(&text).unwrap();
}

#[test]
fn a_registered_type_cannot_shadow_a_built_in_or_a_cedar_word_or_repeat() {
    let mut users = orders();
    users.name = "users".into();
    assert!(Engine::build(&[users], None).is_err());
    let mut kw = orders();
    kw.name = "if".into();
    assert!(Engine::build(&[kw], None).is_err());
    assert!(Engine::build(&[orders(), orders()], None).is_err());
}

#[test]
fn a_registered_type_may_redeclare_unit_or_owner() {
    let rt = ResourceType {
        name: "tickets".into(),
        description: String::new(),
        actions: BTreeMap::from([("close".to_owned(), String::new())]),
        attributes: BTreeMap::from([
            ("unit".to_owned(), AttributeType::String),
            ("owner".to_owned(), AttributeType::User),
        ]),
    };
    Engine::build(
        &[rt],
        Some(r#"permit(principal, action, resource is tickets) when { resource has unit && resource.unit == "a" };"#),
    )
    .unwrap();
}
