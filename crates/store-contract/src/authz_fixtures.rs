//! Builders of authorization test data (custom roles, templates with menus, resource types,
//! policy sets, decisions, assignments) and helpers shared by the authorization checks.

use crate::fixtures::{at, fresh_uuid, journal, tag};
use serde_json::json;
use std::collections::BTreeMap;
use tessera_domain::authz::{
    AccessScope, AttributeType, CustomRole, DecisionRecord, GrantTarget, MenuItem, Permission,
    PolicySet, ResourceType, RoleAssignment, RoleKey, RoleRef, Template, TemplateGrant,
};
use tessera_domain::ports::{Journal, Store};
use tessera_domain::role::SystemRole;
use tessera_domain::{TenantId, UserId};

/// A unique custom role key `r<8 hex>`.
pub fn role_key() -> RoleKey {
    RoleKey::parse(&format!("r{}", tag())).unwrap()
}

/// A unique template key `tpl-<8 hex>`.
pub fn template_key() -> String {
    format!("tpl-{}", tag())
}

/// A custom role (priority 40, version 1) with a unique key.
pub fn custom_role(tenant: TenantId, parent: Option<RoleRef>) -> CustomRole {
    CustomRole {
        tenant_id: tenant,
        key: role_key(),
        name: "Support — «tier 2»".to_owned(),
        description: "Answers the customers' questions".to_owned(),
        priority: 40,
        parent,
        created_at: at(30),
        updated_at: at(30),
        version: 1,
    }
}

pub fn permission(raw: &str) -> Permission {
    Permission::parse(raw).unwrap()
}

fn item(key: &str, path: Option<&str>, requires: &[&str], children: Vec<MenuItem>) -> MenuItem {
    MenuItem {
        key: key.to_owned(),
        label: format!("{key} — ünïcödé"),
        path: path.map(str::to_owned),
        requires: requires.iter().map(|r| permission(r)).collect(),
        children,
    }
}

/// A template (version 1) with a unique key, patterns among its permissions and a nested
/// menu.
pub fn template(tenant: TenantId) -> Template {
    Template {
        tenant_id: tenant,
        key: template_key(),
        name: "Sales desk".to_owned(),
        description: "Orders and refunds".to_owned(),
        permissions: ["orders:read", "orders:refund", "invoices:*", "users:read"]
            .iter()
            .map(|p| permission(p))
            .collect(),
        menu: vec![
            item("orders", Some("/orders"), &["orders:read"], vec![]),
            item(
                "money",
                None,
                &[],
                vec![
                    item(
                        "refunds",
                        Some("/refunds?x=1&y=2"),
                        &["orders:refund"],
                        vec![],
                    ),
                    item("invoices", Some("/invoices"), &["invoices:read"], vec![]),
                ],
            ),
        ],
        created_at: at(31),
        updated_at: at(31),
        version: 1,
    }
}

/// A resource type `name` with two actions and an attribute of each kind.
pub fn resource_type(name: &str) -> ResourceType {
    ResourceType {
        name: name.to_owned(),
        description: "Customer orders".to_owned(),
        actions: BTreeMap::from([
            ("read".to_owned(), "See an order".to_owned()),
            (
                "refund".to_owned(),
                "Refund an order — «all of it»".to_owned(),
            ),
        ]),
        attributes: BTreeMap::from([
            ("amount".to_owned(), AttributeType::Long),
            ("owner".to_owned(), AttributeType::User),
            ("store".to_owned(), AttributeType::OrgUnit),
            ("tags".to_owned(), AttributeType::StringSet),
        ]),
    }
}

/// Version `version` of the tenant's policy set.
pub fn policy_set(tenant: TenantId, version: i64) -> PolicySet {
    PolicySet {
        tenant_id: tenant,
        version,
        text: format!(
            "// v{version}\npermit (principal, action == Action::\"orders:read\", resource)\n\
             when {{ resource.store in principal.units }};\n"
        ),
        comment: format!("version {version} — «ok»"),
        created_at: at(40 + version),
        created_by: Some(format!("user:{}", fresh_uuid())),
    }
}

/// A decision of the tenant at `at(seconds)`, with a nested request.
pub fn decision(tenant: TenantId, seconds: i64, allowed: bool) -> DecisionRecord {
    DecisionRecord {
        id: fresh_uuid(),
        tenant_id: tenant,
        at: at(seconds),
        request: json!({
            "subject": { "type": "user", "id": fresh_uuid().to_string() },
            "action": { "name": "orders:refund" },
            "resource": { "type": "orders", "id": "o-1", "properties": { "amount": 12.5 } },
            "context": { "ip": "203.0.113.7", "tags": ["a", "ü"] }
        }),
        allowed,
        reason: if allowed { "policy0" } else { "no permit" }.to_owned(),
    }
}

pub fn assignment(user: UserId, role: RoleRef, scope: AccessScope, seconds: i64) -> RoleAssignment {
    RoleAssignment {
        user_id: user,
        role,
        scope,
        granted_at: at(seconds),
    }
}

pub fn system(role: SystemRole) -> RoleRef {
    RoleRef::System(role)
}

pub fn custom(role: &CustomRole) -> RoleRef {
    RoleRef::Custom(role.key.clone())
}

pub fn grant(template: &Template, target: GrantTarget, seconds: i64) -> TemplateGrant {
    TemplateGrant {
        template: template.key.clone(),
        target,
        granted_at: at(seconds),
    }
}

/// A journal of one event of `tenant`, marked as changing authorization.
pub fn authz_journal(tenant: TenantId, action: &str) -> Journal {
    journal(tenant, action, None).changing_authz()
}

pub async fn epoch(store: &dyn Store, tenant: TenantId) -> i64 {
    store.authz_epoch(tenant).await.unwrap()
}

/// The audit head's seq and the epoch of a tenant: what a write moves and a refused write
/// leaves alone.
pub async fn marks(store: &dyn Store, tenant: TenantId) -> (i64, i64) {
    (
        crate::fixtures::head_seq(store, tenant).await,
        epoch(store, tenant).await,
    )
}
