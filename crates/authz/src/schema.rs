//! The Cedar schema of a tenant: the fixed entity types (User, Role, Group, OrgUnit), one
//! entity type per resource type (built-in and registered) and one action per permission.
//! Generated as Cedar's JSON schema format (no string quoting pitfalls), rendered in the
//! human-readable syntax on demand.

use crate::catalogue::BUILT_IN_PERMISSIONS;
use crate::policy_error::PolicyError;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use tessera_domain::authz::{AttributeType, BUILT_IN_RESOURCES, Permission, ResourceType};

/// The entity type of users (principals).
pub(crate) const USER: &str = "User";
/// The entity type of roles (a user's parents).
pub(crate) const ROLE: &str = "Role";
/// The entity type of groups (declared for policies; Tessera does not send any yet).
pub(crate) const GROUP: &str = "Group";
/// The entity type of organization units (a resource's parents, each the child of the next).
pub(crate) const ORG_UNIT: &str = "OrgUnit";
/// The common type of every action's context.
const CONTEXT_TYPE: &str = "Context";

/// The resource attribute every resource type has: its organization unit.
pub(crate) const UNIT_ATTRIBUTE: &str = "unit";
/// The resource attribute every resource type has: the user it belongs to.
pub(crate) const OWNER_ATTRIBUTE: &str = "owner";

/// The keys of a request's context and their types (all optional).
pub(crate) const CONTEXT: [(&str, AttributeType); 6] = [
    ("ip", AttributeType::String),
    ("mfa", AttributeType::Bool),
    ("now", AttributeType::Long),
    ("hour", AttributeType::Long),
    ("weekday", AttributeType::Long),
    ("channel", AttributeType::String),
];

/// Words Cedar reserves: they cannot name an entity type.
const CEDAR_RESERVED: [&str; 14] = [
    "true",
    "false",
    "if",
    "then",
    "else",
    "in",
    "is",
    "like",
    "has",
    "principal",
    "action",
    "resource",
    "context",
    "__cedar",
];

/// One resource entity type as the schema declares it.
#[derive(Clone, Debug)]
pub(crate) struct Kind {
    pub name: String,
    /// Registered by the tenant (Cedar permits may grant it), not one of Tessera's own.
    pub registered: bool,
    /// Every attribute, `unit` and `owner` included (a registered type may redeclare them).
    pub attributes: BTreeMap<String, AttributeType>,
    /// The action names (`refund` for `orders:refund`).
    pub actions: Vec<String>,
}

/// The resource entity types for `resource_types`: the built-in ones first.
pub(crate) fn kinds(resource_types: &[ResourceType]) -> Result<Vec<Kind>, PolicyError> {
    let base = || {
        BTreeMap::from([
            (UNIT_ATTRIBUTE.to_owned(), AttributeType::OrgUnit),
            (OWNER_ATTRIBUTE.to_owned(), AttributeType::User),
        ])
    };
    let mut kinds: Vec<Kind> = BUILT_IN_RESOURCES
        .iter()
        .map(|name| Kind {
            name: (*name).to_owned(),
            registered: false,
            attributes: base(),
            actions: BUILT_IN_PERMISSIONS
                .iter()
                .filter_map(|b| Permission::parse(b.permission).ok())
                .filter(|p| p.resource() == *name)
                .map(|p| p.action().to_owned())
                .collect(),
        })
        .collect();
    for rt in resource_types {
        if kinds.iter().any(|k| k.name == rt.name) {
            let why = if BUILT_IN_RESOURCES.contains(&rt.name.as_str()) {
                "is a built-in resource of Tessera"
            } else {
                "is registered twice"
            };
            return Err(PolicyError::new(format!(
                "resource type `{}` {why}",
                rt.name
            )));
        }
        if CEDAR_RESERVED.contains(&rt.name.as_str()) {
            return Err(PolicyError::new(format!(
                "resource type `{}`: the name is reserved by Cedar, choose another",
                rt.name
            )));
        }
        let mut attributes = base();
        attributes.extend(rt.attributes.iter().map(|(k, v)| (k.clone(), *v)));
        kinds.push(Kind {
            name: rt.name.clone(),
            registered: true,
            attributes,
            actions: rt.actions.keys().cloned().collect(),
        });
    }
    Ok(kinds)
}

fn attribute_json(ty: AttributeType, required: bool) -> Value {
    let mut v = match ty {
        AttributeType::String => json!({ "type": "String" }),
        AttributeType::Long => json!({ "type": "Long" }),
        AttributeType::Bool => json!({ "type": "Boolean" }),
        AttributeType::StringSet => json!({ "type": "Set", "element": { "type": "String" } }),
        AttributeType::User => json!({ "type": "Entity", "name": USER }),
        AttributeType::OrgUnit => json!({ "type": "Entity", "name": ORG_UNIT }),
    };
    if let (false, Value::Object(map)) = (required, &mut v) {
        map.insert("required".into(), Value::Bool(false));
    }
    v
}

fn record<'a>(attributes: impl IntoIterator<Item = (&'a str, AttributeType)>) -> Value {
    let attributes: Map<String, Value> = attributes
        .into_iter()
        .map(|(name, ty)| (name.to_owned(), attribute_json(ty, false)))
        .collect();
    json!({ "type": "Record", "attributes": attributes })
}

/// The schema in Cedar's JSON format (the empty namespace).
pub(crate) fn schema_json(kinds: &[Kind]) -> Value {
    let mut entity_types = Map::new();
    entity_types.insert(
        USER.into(),
        json!({
            "memberOfTypes": [ROLE, GROUP, ORG_UNIT],
            "shape": {
                "type": "Record",
                "attributes": {
                    "state": attribute_json(AttributeType::String, true),
                    "priority": attribute_json(AttributeType::Long, true),
                    "roles": attribute_json(AttributeType::StringSet, true),
                }
            }
        }),
    );
    entity_types.insert(ROLE.into(), json!({}));
    entity_types.insert(GROUP.into(), json!({}));
    entity_types.insert(ORG_UNIT.into(), json!({ "memberOfTypes": [ORG_UNIT] }));
    let mut actions = Map::new();
    for kind in kinds {
        entity_types.insert(
            kind.name.clone(),
            json!({
                "memberOfTypes": [ORG_UNIT],
                "shape": record(kind.attributes.iter().map(|(k, v)| (k.as_str(), *v))),
            }),
        );
        for action in &kind.actions {
            actions.insert(
                format!("{}:{action}", kind.name),
                json!({
                    "appliesTo": {
                        "principalTypes": [USER],
                        "resourceTypes": [kind.name],
                        "context": { "type": CONTEXT_TYPE },
                    }
                }),
            );
        }
    }
    json!({
        "": {
            "commonTypes": { CONTEXT_TYPE: record(CONTEXT) },
            "entityTypes": entity_types,
            "actions": actions,
        }
    })
}
