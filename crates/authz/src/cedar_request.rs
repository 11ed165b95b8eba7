//! Translating an access request into a Cedar request and its entities: the principal with
//! its roles, the resource with its declared properties (type-checked) and its unit chain,
//! the context filtered to the declared keys (type-checked). Entities are built without
//! schema conformance checking: the values are checked here, against the precomputed types.

use crate::engine::{Engine, KindInfo};
use crate::request::{AccessRequest, RequestError, ResourceFacts};
use crate::schema::{CONTEXT, OWNER_ATTRIBUTE, UNIT_ATTRIBUTE};
use cedar_policy::{Context, Entities, Entity, EntityId, EntityUid, Request, RestrictedExpression};
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use tessera_domain::authz::{AttributeType, PermissionGraph};

/// The Cedar request and entities for one access request.
pub(crate) struct CedarQuery {
    pub request: Request,
    pub entities: Entities,
}

fn expected(ty: AttributeType) -> &'static str {
    match ty {
        AttributeType::String => "a string",
        AttributeType::Long => "a whole number",
        AttributeType::Bool => "true or false",
        AttributeType::StringSet => "an array of strings",
        AttributeType::User => "a user id (string)",
        AttributeType::OrgUnit => "an organization unit id (string)",
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() => "a whole number",
        Value::Number(_) => "a number out of range or with a fraction",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `value` as a Cedar value of type `ty`, or `None` if it has another type.
fn to_cedar(engine: &Engine, value: &Value, ty: AttributeType) -> Option<RestrictedExpression> {
    let entity = |type_name: &cedar_policy::EntityTypeName, id: &str| {
        RestrictedExpression::new_entity_uid(EntityUid::from_type_name_and_id(
            type_name.clone(),
            EntityId::new(id),
        ))
    };
    match (ty, value) {
        (AttributeType::String, Value::String(s)) => {
            Some(RestrictedExpression::new_string(s.clone()))
        }
        (AttributeType::Long, Value::Number(n)) => n.as_i64().map(RestrictedExpression::new_long),
        (AttributeType::Bool, Value::Bool(b)) => Some(RestrictedExpression::new_bool(*b)),
        (AttributeType::StringSet, Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(|s| RestrictedExpression::new_string(s.to_owned()))
            })
            .collect::<Option<Vec<_>>>()
            .map(RestrictedExpression::new_set),
        (AttributeType::User, Value::String(id)) => Some(entity(&engine.user_type, id)),
        (AttributeType::OrgUnit, Value::String(id)) => Some(entity(&engine.org_unit_type, id)),
        _ => None,
    }
}

/// Whether a `unit` or `owner` attribute comes from the facts rather than the properties:
/// when it has its standard entity type (a registered type may redeclare it otherwise).
fn from_facts(name: &str, ty: AttributeType) -> bool {
    (name == UNIT_ATTRIBUTE && ty == AttributeType::OrgUnit)
        || (name == OWNER_ATTRIBUTE && ty == AttributeType::User)
}

fn principal(
    engine: &Engine,
    graph: &PermissionGraph,
    facts: &ResourceFacts,
) -> Result<Entity, RequestError> {
    // Only the roles held in a scope that covers this resource: a role held in another unit
    // does not make the user a member of it here.
    let mut keys: Vec<&str> = graph
        .roles
        .iter()
        .filter(|r| facts.covers(&r.scope, graph.user_id))
        .map(|r| r.role.key())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    let parents: HashSet<EntityUid> = keys
        .iter()
        .map(|k| EntityUid::from_type_name_and_id(engine.role_type.clone(), EntityId::new(k)))
        .collect();
    let attrs = HashMap::from([
        (
            "state".to_owned(),
            RestrictedExpression::new_string(graph.state.as_str().to_owned()),
        ),
        (
            "priority".to_owned(),
            RestrictedExpression::new_long(i64::from(graph.priority)),
        ),
        (
            "roles".to_owned(),
            RestrictedExpression::new_set(
                keys.iter()
                    .map(|k| RestrictedExpression::new_string((*k).to_owned())),
            ),
        ),
    ]);
    let uid = EntityUid::from_type_name_and_id(
        engine.user_type.clone(),
        EntityId::new(graph.user_id.to_string()),
    );
    Entity::new(uid, attrs, parents).map_err(|e| RequestError::new(format!("principal: {e}")))
}

fn org_unit(engine: &Engine, id: &tessera_domain::OrgUnitId) -> EntityUid {
    EntityUid::from_type_name_and_id(engine.org_unit_type.clone(), EntityId::new(id.to_string()))
}

/// Whether `value` has the JSON shape of `ty`.
fn type_matches(value: &Value, ty: AttributeType) -> bool {
    match (ty, value) {
        (
            AttributeType::String | AttributeType::User | AttributeType::OrgUnit,
            Value::String(_),
        )
        | (AttributeType::Bool, Value::Bool(_)) => true,
        (AttributeType::Long, Value::Number(n)) => n.is_i64(),
        (AttributeType::StringSet, Value::Array(items)) => items.iter().all(Value::is_string),
        _ => false,
    }
}

fn property_error(kind: &str, name: &str, ty: AttributeType, value: &Value) -> RequestError {
    RequestError::new(format!(
        "resource property `{name}` of `{kind}` must be {}, not {}",
        expected(ty),
        json_kind(value)
    ))
}

fn context_error(name: &str, ty: AttributeType, value: &Value) -> RequestError {
    RequestError::new(format!(
        "context `{name}` must be {}, not {}",
        expected(ty),
        json_kind(value)
    ))
}

/// The declared properties Cedar receives: not null, and not `unit`/`owner` when those come
/// from the facts.
fn declared_properties<'r>(
    kind: &'r KindInfo,
    req: &'r AccessRequest,
) -> impl Iterator<Item = (&'r String, &'r Value, AttributeType)> {
    req.resource.properties.iter().filter_map(|(name, value)| {
        let ty = *kind.attributes.get(name)?;
        (!value.is_null() && !from_facts(name, ty)).then_some((name, value, ty))
    })
}

/// The declared context keys present (not null).
fn declared_context(
    req: &AccessRequest,
) -> impl Iterator<Item = (&'static str, &Value, AttributeType)> {
    CONTEXT.into_iter().filter_map(|(name, ty)| {
        req.context
            .get(name)
            .filter(|v| !v.is_null())
            .map(|v| (name, v, ty))
    })
}

/// Checks `req` against the schema without building anything: the action applies to the
/// resource type, declared properties and context values have their declared types. Returns
/// the action's uid.
pub(crate) fn check<'k>(
    kind: &'k KindInfo,
    req: &AccessRequest,
) -> Result<&'k EntityUid, RequestError> {
    let action = (req.action.resource() == req.resource.kind)
        .then(|| kind.actions.get(req.action.action()))
        .flatten()
        .ok_or_else(|| {
            RequestError::new(format!(
                "`{}` is not an action on resources of type `{}`",
                req.action, req.resource.kind
            ))
        })?;
    if let Some((name, value, ty)) =
        declared_properties(kind, req).find(|(_, v, ty)| !type_matches(v, *ty))
    {
        return Err(property_error(&req.resource.kind, name, ty, value));
    }
    if let Some((name, value, ty)) = declared_context(req).find(|(_, v, ty)| !type_matches(v, *ty))
    {
        return Err(context_error(name, ty, value));
    }
    Ok(action)
}

fn resource(
    engine: &Engine,
    kind: &KindInfo,
    req: &AccessRequest,
    facts: &ResourceFacts,
    unit: Option<&EntityUid>,
) -> Result<Entity, RequestError> {
    let mut attrs = HashMap::new();
    for (name, value, ty) in declared_properties(kind, req) {
        let v = to_cedar(engine, value, ty)
            .ok_or_else(|| property_error(&req.resource.kind, name, ty, value))?;
        attrs.insert(name.clone(), v);
    }
    if let (Some(unit), Some(&AttributeType::OrgUnit)) = (unit, kind.attributes.get(UNIT_ATTRIBUTE))
    {
        attrs.insert(
            UNIT_ATTRIBUTE.to_owned(),
            RestrictedExpression::new_entity_uid(unit.clone()),
        );
    }
    if let (Some(owner), Some(&AttributeType::User)) =
        (facts.owner, kind.attributes.get(OWNER_ATTRIBUTE))
    {
        attrs.insert(
            OWNER_ATTRIBUTE.to_owned(),
            RestrictedExpression::new_entity_uid(EntityUid::from_type_name_and_id(
                engine.user_type.clone(),
                EntityId::new(owner.to_string()),
            )),
        );
    }
    let parents: HashSet<EntityUid> = unit.cloned().into_iter().collect();
    let uid =
        EntityUid::from_type_name_and_id(kind.type_name.clone(), EntityId::new(&req.resource.id));
    Entity::new(uid, attrs, parents).map_err(|e| RequestError::new(format!("resource: {e}")))
}

fn context(engine: &Engine, req: &AccessRequest) -> Result<Context, RequestError> {
    let mut pairs = Vec::with_capacity(CONTEXT.len());
    for (name, value, ty) in declared_context(req) {
        let v = to_cedar(engine, value, ty).ok_or_else(|| context_error(name, ty, value))?;
        pairs.push((name.to_owned(), v));
    }
    Context::from_pairs(pairs).map_err(|e| RequestError::new(format!("context: {e}")))
}

/// The Cedar request and entities for `req` (checked by [`check`]) on a resource of type
/// `kind`.
pub(crate) fn translate(
    engine: &Engine,
    kind: &KindInfo,
    action: &EntityUid,
    graph: &PermissionGraph,
    req: &AccessRequest,
    facts: &ResourceFacts,
) -> Result<CedarQuery, RequestError> {
    // The resource's unit chain, each unit the child of the next; a unit met again (a cycle
    // in the facts) ends it.
    let mut units: Vec<EntityUid> = Vec::with_capacity(facts.units.len());
    for (i, unit) in facts.units.iter().enumerate() {
        if facts.units[..i].contains(unit) {
            break;
        }
        units.push(org_unit(engine, unit));
    }
    let principal = principal(engine, graph, facts)?;
    let resource = resource(engine, kind, req, facts, units.first())?;
    let context = context(engine, req)?;
    let request = Request::new(
        principal.uid(),
        action.clone(),
        resource.uid(),
        context,
        None,
    )
    .map_err(|e| RequestError::new(e.to_string()))?;

    let mut entities = Vec::with_capacity(2 + units.len());
    entities.push(principal);
    entities.push(resource);
    for (i, unit) in units.iter().enumerate() {
        let parents: HashSet<EntityUid> = units.get(i + 1).cloned().into_iter().collect();
        entities.push(Entity::new_no_attrs(unit.clone(), parents));
    }
    let entities = Entities::from_entities(entities, None)
        .map_err(|e| RequestError::new(format!("entities: {e}")))?;
    Ok(CedarQuery { request, entities })
}
