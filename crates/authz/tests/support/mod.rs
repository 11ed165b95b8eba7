//! Fixtures shared by the authz tests: ids, roles, templates, resource types, requests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use tessera_authz::{AccessRequest, ResourceFacts, ResourceRef, Subject};
use tessera_domain::authz::{
    AccessScope, AttributeType, CustomRole, GrantTarget, Permission, ResourceType, RoleAssignment,
    RoleKey, RoleRef, Template, TemplateGrant, TenantModel,
};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::role::SystemRole;
use tessera_domain::{OrgUnitId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

pub fn tenant() -> TenantId {
    TenantId::from_uuid(Uuid::from_u128(0xAAAA))
}
pub fn user(n: u128) -> UserId {
    UserId::from_uuid(Uuid::from_u128(0x1000 + n))
}
pub fn unit(n: u128) -> OrgUnitId {
    OrgUnitId::from_uuid(Uuid::from_u128(0x2000 + n))
}
pub fn p(raw: &str) -> Permission {
    Permission::parse(raw).unwrap()
}
pub fn custom(key: &str) -> RoleRef {
    RoleRef::Custom(RoleKey::parse(key).unwrap())
}
pub fn system(r: SystemRole) -> RoleRef {
    RoleRef::System(r)
}

pub fn subject(n: u128) -> Subject {
    Subject {
        tenant: tenant(),
        id: user(n),
        state: LifecycleState::Active,
    }
}

pub fn role(key: &str, priority: u32, parent: Option<RoleRef>) -> CustomRole {
    CustomRole {
        tenant_id: tenant(),
        key: RoleKey::parse(key).unwrap(),
        name: key.into(),
        description: String::new(),
        priority,
        parent,
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    }
}

pub fn template(key: &str, permissions: &[&str]) -> Template {
    Template {
        tenant_id: tenant(),
        key: key.into(),
        name: key.into(),
        description: String::new(),
        permissions: permissions.iter().map(|x| p(x)).collect::<BTreeSet<_>>(),
        menu: Vec::new(),
        created_at: OffsetDateTime::UNIX_EPOCH,
        updated_at: OffsetDateTime::UNIX_EPOCH,
        version: 1,
    }
}

pub fn grant_to_role(template: &str, role: RoleRef) -> TemplateGrant {
    TemplateGrant {
        template: template.into(),
        target: GrantTarget::Role(role),
        granted_at: OffsetDateTime::UNIX_EPOCH,
    }
}

pub fn grant_to_user(template: &str, user: UserId) -> TemplateGrant {
    TemplateGrant {
        template: template.into(),
        target: GrantTarget::User(user),
        granted_at: OffsetDateTime::UNIX_EPOCH,
    }
}

pub fn assign(user: UserId, role: RoleRef, scope: AccessScope) -> RoleAssignment {
    RoleAssignment {
        user_id: user,
        role,
        scope,
        granted_at: OffsetDateTime::UNIX_EPOCH,
    }
}

/// `orders` with actions read/refund and attributes amount (Long), status (String),
/// flagged (Bool), tags (StringSet), buyer (User), branch (OrgUnit).
pub fn orders() -> ResourceType {
    ResourceType {
        name: "orders".into(),
        description: "sales orders".into(),
        actions: BTreeMap::from([
            ("read".to_owned(), "read an order".to_owned()),
            ("refund".to_owned(), "refund an order".to_owned()),
        ]),
        attributes: BTreeMap::from([
            ("amount".to_owned(), AttributeType::Long),
            ("status".to_owned(), AttributeType::String),
            ("flagged".to_owned(), AttributeType::Bool),
            ("tags".to_owned(), AttributeType::StringSet),
            ("buyer".to_owned(), AttributeType::User),
            ("branch".to_owned(), AttributeType::OrgUnit),
        ]),
    }
}

pub fn model() -> TenantModel {
    TenantModel {
        resource_types: vec![orders()],
        ..TenantModel::default()
    }
}

pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

pub fn request(subject: UserId, action: &str, kind: &str, id: &str) -> AccessRequest {
    AccessRequest {
        subject,
        action: p(action),
        resource: ResourceRef {
            kind: kind.into(),
            id: id.into(),
            properties: Map::new(),
        },
        context: Map::new(),
    }
}

pub fn with_properties(mut req: AccessRequest, props: Value) -> AccessRequest {
    req.resource.properties = obj(props);
    req
}

pub fn with_context(mut req: AccessRequest, ctx: Value) -> AccessRequest {
    req.context = obj(ctx);
    req
}

pub fn no_facts() -> ResourceFacts {
    ResourceFacts::default()
}

pub fn in_units(units: &[OrgUnitId]) -> ResourceFacts {
    ResourceFacts {
        units: units.to_vec(),
        owner: None,
    }
}

pub fn empty_json() -> Value {
    json!({})
}
