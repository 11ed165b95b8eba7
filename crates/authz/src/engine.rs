//! The Cedar side of one tenant model version: the schema, the validated policy set and what a
//! decision needs precomputed (entity type names, action ids, declared attribute types).

use crate::policy_error::{PolicyError, describe};
use crate::schema::{self, Kind};
use cedar_policy::{
    Authorizer, Effect, EntityId, EntityTypeName, EntityUid, PolicyId, PolicySet, Schema,
    SchemaFragment, ValidationMode, Validator,
};
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use tessera_domain::authz::{AttributeType, ResourceType};

/// The annotation that names a policy: `@id("refunds-need-mfa")`.
const ID_ANNOTATION: &str = "id";

/// A resource type as a decision needs it.
#[derive(Debug)]
pub(crate) struct KindInfo {
    pub type_name: EntityTypeName,
    pub registered: bool,
    /// Declared attribute → type (`unit` and `owner` included).
    pub attributes: HashMap<String, AttributeType>,
    /// Action name (`refund`) → `Action::"orders:refund"`.
    pub actions: HashMap<String, EntityUid>,
}

/// A validated Cedar policy set and schema for one version of a tenant's model.
#[derive(Debug)]
pub struct Engine {
    schema: Schema,
    /// `None` when the tenant has no policy (or an empty text): decisions are RBAC only.
    policies: Option<PolicySet>,
    policy_ids: Vec<String>,
    /// The ids of the `forbid` policies (an evaluation error in one of them fails closed).
    forbids: HashSet<PolicyId>,
    pub(crate) kinds: HashMap<String, KindInfo>,
    pub(crate) user_type: EntityTypeName,
    pub(crate) role_type: EntityTypeName,
    pub(crate) org_unit_type: EntityTypeName,
    pub(crate) authorizer: Authorizer,
}

fn type_name(name: &str) -> Result<EntityTypeName, PolicyError> {
    EntityTypeName::from_str(name)
        .map_err(|e| PolicyError::new(format!("`{name}` cannot name a Cedar entity type: {e}")))
}

fn build_schema(kinds: &[Kind]) -> Result<Schema, PolicyError> {
    let json = schema::schema_json(kinds);
    Schema::from_json_value(json).map_err(|e| {
        PolicyError::from_lines(
            "the schema generated from the resource types is not valid Cedar:",
            vec![describe(&e, None, "")],
        )
    })
}

/// Parses the policy text and gives each policy its `@id` or `policyN`.
fn parse_policies(text: &str) -> Result<PolicySet, PolicyError> {
    let parsed = PolicySet::from_str(text).map_err(|errors| {
        PolicyError::from_lines(
            "the policies do not parse:",
            errors.iter().map(|e| describe(e, None, text)).collect(),
        )
    })?;
    if let Some(template) = parsed.templates().next() {
        return Err(PolicyError::new(format!(
            "policy `{}` is a template (it has a ?principal or ?resource slot): templates are not supported, write the entity instead",
            template.id()
        )));
    }
    let mut policies: Vec<_> = parsed.policies().collect();
    // `policyN` ids follow the order of the text; keep that order for renaming.
    policies.sort_by_key(|p| {
        let id = p.id().to_string();
        (id.len(), id)
    });
    let mut named = PolicySet::new();
    for policy in policies {
        let policy = match policy.annotation(ID_ANNOTATION) {
            Some(id) if !id.trim().is_empty() => policy.new_id(PolicyId::new(id)),
            _ => policy.clone(),
        };
        let id = policy.id().to_string();
        named.add(policy).map_err(|_| {
            PolicyError::new(format!(
                "two policies have the id `{id}`: give each policy its own @id(\"...\")"
            ))
        })?;
    }
    Ok(named)
}

fn validate(schema: &Schema, policies: &PolicySet, text: &str) -> Result<(), PolicyError> {
    let validator = Validator::new(schema.clone());
    let result = validator.validate(policies, ValidationMode::Strict);
    // A policy that can never apply (it tests an attribute the schema no longer has) is
    // refused too: a `forbid` silently switched off is worse than an error.
    let impossible: Vec<String> = result
        .validation_warnings()
        .filter(|w| matches!(w, cedar_policy::ValidationWarning::ImpossiblePolicy(_)))
        .map(|w| format!("policy `{}` can never apply: {w}", w.policy_id()))
        .collect();
    if result.validation_passed() && impossible.is_empty() {
        return Ok(());
    }
    if result.validation_passed() {
        return Err(PolicyError::from_lines(
            "the policies do not validate against the tenant's schema:",
            impossible,
        ));
    }
    let mut lines: Vec<String> = result
        .validation_errors()
        .map(|e| {
            let id = e.policy_id().to_string();
            // Cedar repeats the policy in its message; it is named once, in front.
            describe(e, Some(&id), text).replace(&format!("for policy `{id}`, "), "")
        })
        .collect();
    lines.sort();
    Err(PolicyError::from_lines(
        "the policies do not validate against the tenant's schema:",
        lines,
    ))
}

impl Engine {
    /// Builds the schema for `resource_types`, then parses and validates `policies` against
    /// it (strict mode). Policies are named by their `@id("...")` annotation, or `policy0`,
    /// `policy1`... in the order of the text. Templates (policies with slots) are refused.
    pub fn build(
        resource_types: &[ResourceType],
        policies: Option<&str>,
    ) -> Result<Self, PolicyError> {
        let kinds = schema::kinds(resource_types)?;
        let schema = build_schema(&kinds)?;
        let policies = match policies {
            Some(text) if !text.trim().is_empty() => {
                crate::shape::check_shape(text)?;
                let set = parse_policies(text)?;
                validate(&schema, &set, text)?;
                Some(set).filter(|s| !s.is_empty())
            }
            _ => None,
        };
        let mut policy_ids: Vec<String> = policies
            .iter()
            .flat_map(PolicySet::policies)
            .map(|p| p.id().to_string())
            .collect();
        policy_ids.sort();
        let forbids = policies
            .iter()
            .flat_map(PolicySet::policies)
            .filter(|p| p.effect() == Effect::Forbid)
            .map(|p| p.id().clone())
            .collect();
        let action_type = type_name("Action")?;
        let mut infos = HashMap::with_capacity(kinds.len());
        for kind in kinds {
            let actions = kind
                .actions
                .iter()
                .map(|a| {
                    let uid = EntityUid::from_type_name_and_id(
                        action_type.clone(),
                        EntityId::new(format!("{}:{a}", kind.name)),
                    );
                    (a.clone(), uid)
                })
                .collect();
            infos.insert(
                kind.name.clone(),
                KindInfo {
                    type_name: type_name(&kind.name)?,
                    registered: kind.registered,
                    attributes: kind.attributes.into_iter().collect(),
                    actions,
                },
            );
        }
        Ok(Self {
            schema,
            policies,
            policy_ids,
            forbids,
            kinds: infos,
            user_type: type_name(schema::USER)?,
            role_type: type_name(schema::ROLE)?,
            org_unit_type: type_name(schema::ORG_UNIT)?,
            authorizer: Authorizer::new(),
        })
    }

    /// The schema for `resource_types` in Cedar's human-readable syntax.
    pub fn schema_text(resource_types: &[ResourceType]) -> Result<String, PolicyError> {
        let kinds = schema::kinds(resource_types)?;
        let fragment = SchemaFragment::from_json_value(schema::schema_json(&kinds))
            .map_err(|e| PolicyError::new(format!("the schema is not valid Cedar: {e}")))?;
        let text = fragment
            .to_cedarschema()
            .map_err(|e| PolicyError::new(format!("the schema cannot be printed: {e}")))?;
        // Cedar qualifies its primitive types (`__cedar::Long`) in case a declared type shadows
        // them; no Tessera type can (resource types are lower-case), so the short names are
        // unambiguous and easier to read.
        Ok(text.replace("__cedar::", ""))
    }

    /// The ids of the policies in force, sorted (empty without policies).
    pub fn policy_ids(&self) -> Vec<String> {
        self.policy_ids.clone()
    }

    /// The validated schema.
    /// Whether `kind` is a resource type of this model (built in or registered).
    pub fn knows_type(&self, kind: &str) -> bool {
        self.kinds.contains_key(kind)
    }

    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The policy set in force, if the tenant has policies.
    pub(crate) fn policies(&self) -> Option<&PolicySet> {
        self.policies.as_ref()
    }

    pub(crate) fn has_forbids(&self) -> bool {
        !self.forbids.is_empty()
    }

    pub(crate) fn is_forbid(&self, id: &PolicyId) -> bool {
        self.forbids.contains(id)
    }
}
