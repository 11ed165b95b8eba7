//! Conversions between the authorization wire types and the domain / application values.

use crate::errors::ApiError;
use std::collections::BTreeMap;
use tessera_api_types::authz as wire;
use tessera_application::{Error, Evaluation, RoleView, Verdict};
use tessera_domain::ValidationError;
use tessera_domain::authz::{
    AccessScope, AttributeType, Grant, GrantTarget, MenuItem, Permission, PermissionGraph,
    PolicySet, ResourceType, RoleAssignment, Source, Template, TemplateGrant,
};

pub fn role_response(v: RoleView) -> wire::RoleResponse {
    wire::RoleResponse {
        key: v.key,
        name: v.name,
        description: v.description,
        priority: v.priority,
        parent: v.parent,
        system: v.system,
        administrative: v.administrative,
        built_in_permissions: v
            .built_in_permissions
            .iter()
            .map(ToString::to_string)
            .collect(),
        templates: v.templates,
        version: v.version,
    }
}

pub fn roles_response(assignments: Vec<RoleAssignment>) -> wire::RolesResponse {
    let mut roles: Vec<String> = assignments
        .iter()
        .map(|a| a.role.key().to_owned())
        .collect();
    roles.sort();
    roles.dedup();
    wire::RolesResponse {
        roles,
        assignments: assignments
            .into_iter()
            .map(|a| wire::RoleAssignmentResponse {
                role: a.role.key().to_owned(),
                scope: a.scope.to_string(),
                granted_at: a.granted_at,
            })
            .collect(),
    }
}

pub fn scope(raw: Option<&str>) -> Result<AccessScope, ApiError> {
    match raw {
        None => Ok(AccessScope::Tenant),
        Some(s) => AccessScope::parse(s).map_err(|e| Error::invalid(e).into()),
    }
}

pub fn permissions(
    raw: &[String],
    field: &str,
) -> Result<std::collections::BTreeSet<Permission>, ApiError> {
    raw.iter()
        .map(|p| Permission::parse(p).map_err(|e| Error::invalid(e.at(field)).into()))
        .collect()
}

fn attribute_type(raw: &str) -> Option<AttributeType> {
    Some(match raw {
        "string" => AttributeType::String,
        "long" => AttributeType::Long,
        "bool" => AttributeType::Bool,
        "string_set" => AttributeType::StringSet,
        "user" => AttributeType::User,
        "org_unit" => AttributeType::OrgUnit,
        _ => return None,
    })
}

fn attribute_name(t: AttributeType) -> &'static str {
    match t {
        AttributeType::String => "string",
        AttributeType::Long => "long",
        AttributeType::Bool => "bool",
        AttributeType::StringSet => "string_set",
        AttributeType::User => "user",
        AttributeType::OrgUnit => "org_unit",
    }
}

pub fn resource_type(name: String, body: wire::ResourceTypeBody) -> Result<ResourceType, ApiError> {
    let mut attributes = BTreeMap::new();
    for (k, v) in body.attributes {
        let t = attribute_type(&v).ok_or_else(|| {
            Error::invalid(ValidationError::new(
                format!("attributes.{k}"),
                "invalid_type",
                "an attribute type is string, long, bool, string_set, user or org_unit",
            ))
        })?;
        attributes.insert(k, t);
    }
    Ok(ResourceType {
        name,
        description: body.description,
        actions: body.actions,
        attributes,
    })
}

pub fn resource_type_response(rt: ResourceType) -> wire::ResourceTypeResponse {
    wire::ResourceTypeResponse {
        name: rt.name,
        description: rt.description,
        actions: rt.actions,
        attributes: rt
            .attributes
            .into_iter()
            .map(|(k, v)| (k, attribute_name(v).to_owned()))
            .collect(),
    }
}

pub fn menu(items: Vec<wire::MenuItemBody>) -> Result<Vec<MenuItem>, ApiError> {
    items
        .into_iter()
        .map(|i| {
            Ok(MenuItem {
                requires: permissions(&i.requires, "menu")?.into_iter().collect(),
                children: menu(i.children)?,
                key: i.key,
                label: i.label,
                path: i.path,
            })
        })
        .collect()
}

pub fn menu_body(items: Vec<MenuItem>) -> Vec<wire::MenuItemBody> {
    items
        .into_iter()
        .map(|i| wire::MenuItemBody {
            key: i.key,
            label: i.label,
            path: i.path,
            requires: i.requires.iter().map(ToString::to_string).collect(),
            children: menu_body(i.children),
        })
        .collect()
}

pub fn template_response(t: Template, grants: Vec<TemplateGrant>) -> wire::TemplateResponse {
    wire::TemplateResponse {
        key: t.key,
        name: t.name,
        description: t.description,
        permissions: t.permissions.iter().map(ToString::to_string).collect(),
        menu: menu_body(t.menu),
        grants: grants
            .into_iter()
            .map(|g| {
                let (kind, target) = match g.target {
                    GrantTarget::Role(r) => ("role", r.key().to_owned()),
                    GrantTarget::User(u) => ("user", u.to_string()),
                };
                wire::TemplateGrantResponse {
                    kind: kind.to_owned(),
                    target,
                    granted_at: g.granted_at,
                }
            })
            .collect(),
        created_at: t.created_at,
        updated_at: t.updated_at,
        version: t.version,
    }
}

pub fn policy_response(p: PolicySet) -> wire::PolicySetResponse {
    wire::PolicySetResponse {
        version: p.version,
        policies: p.text,
        comment: p.comment,
        created_at: p.created_at,
        created_by: p.created_by,
    }
}

pub fn verdict_response(v: Verdict) -> wire::EvaluationResponse {
    wire::EvaluationResponse {
        decision: v.decision,
        context: wire::DecisionContext {
            reason: v.reason,
            message: v.message,
            explanation: v.explanation.map(|e| wire::ExplanationBody {
                roles: e.roles.iter().map(|r| r.key().to_owned()).collect(),
                templates: e.templates,
                policies: e.policies,
                scope: e.scope.map(|s| s.to_string()),
            }),
        },
    }
}

pub fn evaluation(e: wire::EvaluationRequest) -> Evaluation {
    Evaluation {
        subject_type: e.subject.kind,
        subject_id: e.subject.id,
        action: e.action.name,
        resource_type: e.resource.kind,
        resource_id: e.resource.id,
        resource_properties: e.resource.properties,
        context: e.context,
    }
}

/// Fills a batch item from the batch's defaults (AuthZEN: item fields override them).
pub fn batch_item(
    defaults: &wire::EvaluationsRequest,
    item: wire::PartialEvaluation,
    i: usize,
) -> Result<Evaluation, ApiError> {
    let missing = |what: &str| -> ApiError {
        Error::invalid(ValidationError::new(
            format!("evaluations[{i}].{what}"),
            "missing_field",
            format!("give `{what}` in the evaluation or at the top of the batch"),
        ))
        .into()
    };
    let subject = item
        .subject
        .or_else(|| defaults.subject.clone())
        .ok_or_else(|| missing("subject"))?;
    let action = item
        .action
        .or_else(|| defaults.action.clone())
        .ok_or_else(|| missing("action"))?;
    let resource = item
        .resource
        .or_else(|| defaults.resource.clone())
        .ok_or_else(|| missing("resource"))?;
    let context = item
        .context
        .or_else(|| defaults.context.clone())
        .unwrap_or_default();
    Ok(evaluation(wire::EvaluationRequest {
        subject,
        action,
        resource,
        context,
    }))
}

fn grant_body(g: &Grant) -> wire::GrantBody {
    let (source, role, template) = match &g.source {
        Source::SystemRole(r) => ("system_role", Some(r.key().to_owned()), None),
        Source::RoleTemplate { role, template } => (
            "role_template",
            Some(role.key().to_owned()),
            Some(template.clone()),
        ),
        Source::UserTemplate(t) => ("user_template", None, Some(t.clone())),
    };
    wire::GrantBody {
        permission: g.permission.to_string(),
        scope: g.scope.to_string(),
        source: source.to_owned(),
        role,
        template,
    }
}

pub fn graph_response(g: &PermissionGraph) -> wire::SubjectPermissionsResponse {
    wire::SubjectPermissionsResponse {
        subject: g.user_id.into_uuid(),
        state: g.state.to_string(),
        epoch: g.epoch,
        priority: g.priority,
        bypasses_filters: g.bypasses_filters,
        roles: g
            .roles
            .iter()
            .map(|r| wire::HeldRoleBody {
                role: r.role.key().to_owned(),
                priority: r.priority,
                scope: r.scope.to_string(),
                inherited_through: r.inherited_through.as_ref().map(|x| x.key().to_owned()),
            })
            .collect(),
        permissions: g.grants.iter().map(grant_body).collect(),
    }
}
