//! How the authorization model is laid out in SQLite: the columns a role, a scope or a grant
//! target is written to (with the nullable copies that carry the foreign keys), and the rows
//! read back into domain values.

use crate::codec::{from_json, from_micros, id, opt_id, parse};
use crate::error::corrupt;
use tessera_domain::authz::{
    AccessScope, CustomRole, DecisionRecord, GrantTarget, PolicySet, ResourceType, RoleAssignment,
    RoleKey, RoleRef, Template, TemplateGrant,
};
use tessera_domain::ports::StoreError;

/// A role as `(role, custom_role)`: its key, and the key again when it is a custom role (the
/// column with the foreign key to `custom_roles`).
pub(crate) fn role_columns(role: &RoleRef) -> (String, Option<String>) {
    match role {
        RoleRef::System(r) => (r.key().to_owned(), None),
        RoleRef::Custom(k) => (k.as_str().to_owned(), Some(k.as_str().to_owned())),
    }
}

/// A scope as `(scope, unit_id)`: its text form, and the unit of a unit scope (the column
/// with the foreign key to `org_units`).
pub(crate) fn scope_columns(scope: &AccessScope) -> (String, Option<String>) {
    let unit = match scope {
        AccessScope::Unit(unit) => Some(unit.to_string()),
        AccessScope::Tenant | AccessScope::SelfOnly => None,
    };
    (scope.to_string(), unit)
}

/// A grant target as `(target_kind, target, custom_role, user_id)`.
pub(crate) struct TargetColumns {
    pub(crate) kind: &'static str,
    pub(crate) target: String,
    pub(crate) custom_role: Option<String>,
    pub(crate) user_id: Option<String>,
}

pub(crate) fn target_columns(target: &GrantTarget) -> TargetColumns {
    match target {
        GrantTarget::Role(role) => {
            let (key, custom_role) = role_columns(role);
            TargetColumns {
                kind: "role",
                target: key,
                custom_role,
                user_id: None,
            }
        }
        GrantTarget::User(user) => TargetColumns {
            kind: "user",
            target: user.to_string(),
            custom_role: None,
            user_id: Some(user.to_string()),
        },
    }
}

fn role_ref(raw: &str) -> Result<RoleRef, StoreError> {
    parse("role", raw, RoleRef::parse)
}

fn count(what: &str, value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|e| corrupt(what, e))
}

pub(crate) const ROLE_COLUMNS: &str = "tenant_id, role_key, name, description, priority, \
    parent, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
pub(crate) struct CustomRoleRow {
    tenant_id: String,
    role_key: String,
    name: String,
    description: String,
    priority: i64,
    parent: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl CustomRoleRow {
    pub(crate) fn into_role(self) -> Result<CustomRole, StoreError> {
        Ok(CustomRole {
            tenant_id: id(&self.tenant_id)?,
            key: parse("role key", &self.role_key, RoleKey::parse)?,
            name: self.name,
            description: self.description,
            priority: count("role priority", self.priority)?,
            parent: self.parent.as_deref().map(role_ref).transpose()?,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            version: self.version,
        })
    }
}

pub(crate) const TEMPLATE_COLUMNS: &str = "tenant_id, template_key, name, description, \
    permissions, menu, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
pub(crate) struct TemplateRow {
    tenant_id: String,
    template_key: String,
    name: String,
    description: String,
    permissions: String,
    menu: String,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

impl TemplateRow {
    pub(crate) fn into_template(self) -> Result<Template, StoreError> {
        Ok(Template {
            tenant_id: id(&self.tenant_id)?,
            key: self.template_key,
            name: self.name,
            description: self.description,
            permissions: from_json("template permissions", &self.permissions)?,
            menu: from_json("template menu", &self.menu)?,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            version: self.version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GrantRow {
    template_key: String,
    target_kind: String,
    target: String,
    granted_at: i64,
}

impl GrantRow {
    pub(crate) fn into_grant(self) -> Result<TemplateGrant, StoreError> {
        let target = match self.target_kind.as_str() {
            "role" => GrantTarget::Role(role_ref(&self.target)?),
            "user" => GrantTarget::User(id(&self.target)?),
            other => return Err(corrupt("grant target", format!("unknown kind `{other}`"))),
        };
        Ok(TemplateGrant {
            template: self.template_key,
            target,
            granted_at: from_micros(self.granted_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AssignmentRow {
    user_id: String,
    role: String,
    scope: String,
    granted_at: i64,
}

impl AssignmentRow {
    pub(crate) fn into_assignment(self) -> Result<RoleAssignment, StoreError> {
        Ok(RoleAssignment {
            user_id: id(&self.user_id)?,
            role: role_ref(&self.role)?,
            scope: parse("scope", &self.scope, AccessScope::parse)?,
            granted_at: from_micros(self.granted_at)?,
        })
    }
}

pub(crate) fn resource_type(body: &str) -> Result<ResourceType, StoreError> {
    from_json("resource type", body)
}

pub(crate) const POLICY_COLUMNS: &str = "tenant_id, version, text, comment, created_at, created_by";

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    tenant_id: String,
    version: i64,
    text: String,
    comment: String,
    created_at: i64,
    created_by: Option<String>,
}

impl PolicyRow {
    pub(crate) fn into_policy_set(self) -> Result<PolicySet, StoreError> {
        Ok(PolicySet {
            tenant_id: id(&self.tenant_id)?,
            version: self.version,
            text: self.text,
            comment: self.comment,
            created_at: from_micros(self.created_at)?,
            created_by: self.created_by,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DecisionRow {
    tenant_id: String,
    id: String,
    at: i64,
    request: String,
    allowed: bool,
    reason: String,
}

impl DecisionRow {
    pub(crate) fn into_record(self) -> Result<DecisionRecord, StoreError> {
        Ok(DecisionRecord {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            at: from_micros(self.at)?,
            request: from_json("decision request", &self.request)?,
            allowed: self.allowed,
            reason: self.reason,
        })
    }
}

/// Walks the `(id, parent_id)` rows of a unit's ancestry from `start` up to its root. A
/// missing start gives nothing; a cycle (never written by Tessera) ends the walk.
pub(crate) fn ancestry<T: Copy + PartialEq>(start: T, rows: &[(T, Option<T>)]) -> Vec<T> {
    let mut chain = Vec::new();
    let mut next = Some(start);
    while let Some(current) = next {
        if chain.contains(&current) {
            break;
        }
        let Some((_, parent)) = rows.iter().find(|(unit, _)| *unit == current) else {
            break;
        };
        chain.push(current);
        next = *parent;
    }
    chain
}

/// Parses `(id, parent_id)` text rows of units.
pub(crate) fn unit_rows<T: std::str::FromStr>(
    rows: &[(String, Option<String>)],
) -> Result<Vec<(T, Option<T>)>, StoreError>
where
    T::Err: std::fmt::Display,
{
    rows.iter()
        .map(|(unit, parent)| Ok((id(unit)?, opt_id(parent.as_deref())?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::ancestry;

    #[test]
    fn ancestry_walks_up_and_stops() {
        let rows = [(3, Some(2)), (1, None), (2, Some(1)), (9, Some(8))];
        assert_eq!(ancestry(3, &rows), vec![3, 2, 1]);
        assert_eq!(ancestry(1, &rows), vec![1]);
        assert!(ancestry(7, &rows).is_empty());
        // A parent that is not among the rows ends the chain.
        assert_eq!(ancestry(9, &rows), vec![9]);
        let cycle = [(1, Some(2)), (2, Some(1))];
        assert_eq!(ancestry(1, &cycle), vec![1, 2]);
    }
}
