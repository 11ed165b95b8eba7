//! How the authorization model is laid out in PostgreSQL: the columns a role, a scope or a
//! grant target is written to (with the nullable copies that carry the foreign keys), and the
//! rows read back into domain values.

use crate::codec::{from_json, parse};
use crate::error::corrupt;
use tessera_domain::authz::{
    AccessScope, CustomRole, DecisionRecord, GrantTarget, PolicySet, ResourceType, RoleAssignment,
    RoleKey, RoleRef, Template, TemplateGrant,
};
use tessera_domain::ports::StoreError;
use tessera_domain::{OrgUnitId, TenantId, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

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
pub(crate) fn scope_columns(scope: &AccessScope) -> (String, Option<Uuid>) {
    let unit = match scope {
        AccessScope::Unit(unit) => Some(*unit.as_uuid()),
        AccessScope::Tenant | AccessScope::SelfOnly => None,
    };
    (scope.to_string(), unit)
}

/// A grant target as its columns.
pub(crate) struct TargetColumns {
    pub(crate) kind: &'static str,
    pub(crate) target: String,
    pub(crate) custom_role: Option<String>,
    pub(crate) user_id: Option<Uuid>,
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
            user_id: Some(*user.as_uuid()),
        },
    }
}

fn role_ref(raw: &str) -> Result<RoleRef, StoreError> {
    parse("role", raw, RoleRef::parse)
}

pub(crate) const ROLE_COLUMNS: &str = "tenant_id, role_key, name, description, priority, \
    parent, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
pub(crate) struct CustomRoleRow {
    tenant_id: Uuid,
    role_key: String,
    name: String,
    description: String,
    priority: i32,
    parent: Option<String>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

impl CustomRoleRow {
    pub(crate) fn into_role(self) -> Result<CustomRole, StoreError> {
        Ok(CustomRole {
            tenant_id: TenantId::from_uuid(self.tenant_id),
            key: parse("role key", &self.role_key, RoleKey::parse)?,
            name: self.name,
            description: self.description,
            priority: u32::try_from(self.priority).map_err(|e| corrupt("role priority", e))?,
            parent: self.parent.as_deref().map(role_ref).transpose()?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

pub(crate) const TEMPLATE_COLUMNS: &str = "tenant_id, template_key, name, description, \
    permissions, menu, created_at, updated_at, version";

#[derive(sqlx::FromRow)]
pub(crate) struct TemplateRow {
    tenant_id: Uuid,
    template_key: String,
    name: String,
    description: String,
    permissions: String,
    menu: String,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
}

impl TemplateRow {
    pub(crate) fn into_template(self) -> Result<Template, StoreError> {
        Ok(Template {
            tenant_id: TenantId::from_uuid(self.tenant_id),
            key: self.template_key,
            name: self.name,
            description: self.description,
            permissions: from_json("template permissions", &self.permissions)?,
            menu: from_json("template menu", &self.menu)?,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct GrantRow {
    template_key: String,
    target_kind: String,
    target: String,
    granted_at: OffsetDateTime,
}

impl GrantRow {
    pub(crate) fn into_grant(self) -> Result<TemplateGrant, StoreError> {
        let target = match self.target_kind.as_str() {
            "role" => GrantTarget::Role(role_ref(&self.target)?),
            "user" => GrantTarget::User(parse("grant target", &self.target, str::parse::<UserId>)?),
            other => return Err(corrupt("grant target", format!("unknown kind `{other}`"))),
        };
        Ok(TemplateGrant {
            template: self.template_key,
            target,
            granted_at: self.granted_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AssignmentRow {
    user_id: Uuid,
    role: String,
    scope: String,
    granted_at: OffsetDateTime,
}

impl AssignmentRow {
    pub(crate) fn into_assignment(self) -> Result<RoleAssignment, StoreError> {
        Ok(RoleAssignment {
            user_id: UserId::from_uuid(self.user_id),
            role: role_ref(&self.role)?,
            scope: parse("scope", &self.scope, AccessScope::parse)?,
            granted_at: self.granted_at,
        })
    }
}

pub(crate) fn resource_type(body: &str) -> Result<ResourceType, StoreError> {
    from_json("resource type", body)
}

pub(crate) const POLICY_COLUMNS: &str = "tenant_id, version, text, comment, created_at, created_by";

#[derive(sqlx::FromRow)]
pub(crate) struct PolicyRow {
    tenant_id: Uuid,
    version: i64,
    text: String,
    comment: String,
    created_at: OffsetDateTime,
    created_by: Option<String>,
}

impl PolicyRow {
    pub(crate) fn into_policy_set(self) -> PolicySet {
        PolicySet {
            tenant_id: TenantId::from_uuid(self.tenant_id),
            version: self.version,
            text: self.text,
            comment: self.comment,
            created_at: self.created_at,
            created_by: self.created_by,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DecisionRow {
    tenant_id: Uuid,
    id: Uuid,
    at: OffsetDateTime,
    request: String,
    allowed: bool,
    reason: String,
}

impl DecisionRow {
    pub(crate) fn into_record(self) -> Result<DecisionRecord, StoreError> {
        Ok(DecisionRecord {
            id: self.id,
            tenant_id: TenantId::from_uuid(self.tenant_id),
            at: self.at,
            request: from_json("decision request", &self.request)?,
            allowed: self.allowed,
            reason: self.reason,
        })
    }
}

/// Walks the `(id, parent_id)` rows of a unit's ancestry from `start` up to its root. A
/// missing start gives nothing; a cycle (never written by Tessera) ends the walk.
pub(crate) fn ancestry(start: Uuid, rows: &[(Uuid, Option<Uuid>)]) -> Vec<OrgUnitId> {
    let mut chain: Vec<Uuid> = Vec::new();
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
    chain.into_iter().map(OrgUnitId::from_uuid).collect()
}

#[cfg(test)]
mod tests {
    use super::ancestry;
    use uuid::Uuid;

    #[test]
    fn ancestry_walks_up_and_stops() {
        let u = |n: u128| Uuid::from_u128(n);
        let ids = |chain: Vec<tessera_domain::OrgUnitId>| {
            chain.iter().map(|c| *c.as_uuid()).collect::<Vec<_>>()
        };
        let rows = [(u(3), Some(u(2))), (u(1), None), (u(2), Some(u(1)))];
        assert_eq!(ids(ancestry(u(3), &rows)), vec![u(3), u(2), u(1)]);
        assert!(ancestry(u(7), &rows).is_empty());
        let cycle = [(u(1), Some(u(2))), (u(2), Some(u(1)))];
        assert_eq!(ids(ancestry(u(1), &cycle)), vec![u(1), u(2)]);
    }
}
