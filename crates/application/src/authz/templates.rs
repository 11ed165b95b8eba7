//! Permission templates (named bundles of permissions carrying the tenant's menu), their
//! grants to roles and users, and the resource types that register a tenant's own
//! permissions. Nobody hands on a permission they do not hold for the whole tenant, nor
//! changes what a role at or above their priority holds.

use super::roles::priority_of;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::Error;
use serde::Serialize;
use std::collections::BTreeSet;
use tessera_domain::ValidationError;
use tessera_domain::api_key::Scope;
use tessera_domain::authz::{
    GrantTarget, MenuItem, Permission, ResourceType, Template, TemplateGrant, TenantModel,
};
use tessera_domain::ports::Journal;
use tessera_domain::tenant::Tenant;

/// A template to create, or the full new content of one (PUT).
#[derive(Clone, Debug)]
pub struct TemplateInput {
    pub key: String,
    pub name: String,
    pub description: String,
    pub permissions: BTreeSet<Permission>,
    pub menu: Vec<MenuItem>,
}

/// A permission as listed: built in, or registered by a resource type.
#[derive(Clone, Debug, Serialize)]
pub struct PermissionInfo {
    pub permission: String,
    pub description: String,
    pub built_in: bool,
}

fn unknown_template() -> Error {
    Error::NotFound("template")
}

impl App {
    /// Refuses permissions the caller does not hold tenant-wide, and permissions nobody
    /// registered.
    async fn check_handable(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        model: &TenantModel,
        action: &str,
        permissions: &BTreeSet<Permission>,
    ) -> Result<(), Error> {
        for p in permissions {
            if !p.is_pattern() && !permission_known(model, p) {
                return Err(Error::invalid(ValidationError::new(
                    "permissions",
                    "unknown_permission",
                    format!(
                        "`{p}` is not a permission of this tenant: register its resource type first (PUT .../resource-types/{})",
                        p.resource()
                    ),
                )));
            }
            if !self.caller_holds_tenant_wide(ctx, tenant, p).await? {
                let e = Error::Forbidden(format!(
                    "you cannot hand on `{p}`: you do not hold it for the whole tenant"
                ));
                return Err(self.refused(ctx, tenant, action, e).await);
            }
        }
        Ok(())
    }

    /// Refuses a change to a template held by a role at or above the caller's priority.
    async fn check_holders_below(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        model: &TenantModel,
        action: &str,
        template: &str,
    ) -> Result<(), Error> {
        for g in model.grants.iter().filter(|g| g.template == template) {
            if let GrantTarget::Role(role) = &g.target {
                let p = priority_of(model, role).unwrap_or(u32::MAX);
                self.require_below(ctx, tenant, action, role, p).await?;
            }
        }
        Ok(())
    }

    pub async fn list_templates(
        &self,
        ctx: &RequestContext,
        slug: &str,
    ) -> Result<Vec<Template>, Error> {
        let tenant = self
            .authorize_scoped(ctx, slug, Scope::RolesRead, "template.listed")
            .await?
            .tenant;
        Ok(self.model_for_update(&tenant).await?.templates)
    }

    pub async fn get_template(
        &self,
        ctx: &RequestContext,
        slug: &str,
        key: &str,
    ) -> Result<(Template, Vec<TemplateGrant>), Error> {
        let tenant = self
            .authorize_scoped(ctx, slug, Scope::RolesRead, "template.read")
            .await?
            .tenant;
        let model = self.model_for_update(&tenant).await?;
        let t = model
            .templates
            .iter()
            .find(|t| t.key == key)
            .cloned()
            .ok_or_else(unknown_template)?;
        let grants = model
            .grants
            .into_iter()
            .filter(|g| g.template == key)
            .collect();
        Ok((t, grants))
    }

    /// Creates a template, or replaces the one of that key (`if_match` guards the version).
    pub async fn put_template(
        &self,
        ctx: &RequestContext,
        slug: &str,
        input: TemplateInput,
        if_match: Option<i64>,
    ) -> Result<(Template, bool), Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::RolesWrite, "template.saved")
            .await?;
        let model = self.model_for_update(&tenant).await?;
        let before = model.templates.iter().find(|t| t.key == input.key).cloned();
        let now = self.now();
        let after = Template {
            tenant_id: tenant.id,
            key: input.key,
            name: input.name.trim().to_owned(),
            description: input.description,
            permissions: input.permissions,
            menu: input.menu,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
            version: before.as_ref().map_or(1, |b| b.version + 1),
        };
        after.validate().map_err(Error::invalid)?;
        if let (Some(v), Some(b)) = (if_match, &before)
            && v != b.version
        {
            return Err(Error::Conflict {
                code: "precondition_failed",
                message: format!("the template is at version {}, not {v}", b.version),
            });
        }
        let action = if before.is_some() {
            "template.updated"
        } else {
            "template.created"
        };
        let added: BTreeSet<Permission> = after
            .permissions
            .difference(before.as_ref().map_or(&BTreeSet::new(), |b| &b.permissions))
            .cloned()
            .collect();
        self.check_handable(ctx, &tenant, &model, action, &added)
            .await?;
        if let Some(b) = &before {
            self.check_holders_below(ctx, &tenant, &model, action, &b.key)
                .await?;
            if b.permissions == after.permissions
                && b.menu == after.menu
                && b.name == after.name
                && b.description == after.description
            {
                return Ok((b.clone(), false));
            }
        }
        let journal = self
            .journal(
                ctx,
                &tenant,
                action,
                ("template", after.key.clone()),
                before.as_ref(),
                Some(&after),
            )
            .changing_authz();
        let store = self.store();
        match &before {
            None => {
                self.commit_authz(&tenant, "template", store.insert_template(&after, &journal))
                    .await?
            }
            Some(b) => {
                self.commit_authz(
                    &tenant,
                    "template",
                    store.update_template(&after, b.version, &journal),
                )
                .await?;
            }
        }
        Ok((after, before.is_none()))
    }

    pub async fn delete_template(
        &self,
        ctx: &RequestContext,
        slug: &str,
        key: &str,
    ) -> Result<(), Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::RolesWrite, "template.deleted")
            .await?;
        let model = self.model_for_update(&tenant).await?;
        let before = model
            .templates
            .iter()
            .find(|t| t.key == key)
            .cloned()
            .ok_or_else(unknown_template)?;
        self.check_holders_below(ctx, &tenant, &model, "template.deleted", key)
            .await?;
        let journal = self
            .journal(
                ctx,
                &tenant,
                "template.deleted",
                ("template", key.to_owned()),
                Some(&before),
                None,
            )
            .changing_authz();
        self.commit_authz(
            &tenant,
            "template",
            self.store().delete_template(tenant.id, key, &journal),
        )
        .await
    }

    /// Grants (`grant`) or revokes a template to a role or a user. To a role: the role must be
    /// below the caller's priority. Either way the caller must hold every permission of the
    /// template for the whole tenant (nobody assigns, even to themself, what they lack).
    pub async fn set_template_grant(
        &self,
        ctx: &RequestContext,
        slug: &str,
        template: &str,
        target: GrantTarget,
        grant: bool,
    ) -> Result<(), Error> {
        let action = if grant {
            "template.granted"
        } else {
            "template.revoked"
        };
        let tenant = self.authorize(ctx, slug, Scope::RolesGrant, action).await?;
        let model = self.model_for_update(&tenant).await?;
        let t = model
            .templates
            .iter()
            .find(|t| t.key == template)
            .cloned()
            .ok_or_else(unknown_template)?;
        match &target {
            GrantTarget::Role(role) => {
                let p = priority_of(&model, role).ok_or(Error::NotFound("role"))?;
                self.require_below(ctx, &tenant, action, role, p).await?;
            }
            GrantTarget::User(id) => {
                self.load_user(&tenant, *id).await?;
            }
        }
        if grant {
            self.check_handable(ctx, &tenant, &model, action, &t.permissions)
                .await?;
        }
        let target_text = match &target {
            GrantTarget::Role(r) => format!("role:{r}"),
            GrantTarget::User(u) => format!("user:{u}"),
        };
        let change = super::roles::grant_change("grant", target_text, grant);
        let journal = Journal::one(self.draft(
            ctx,
            &tenant,
            action,
            ("template", t.key.clone()),
            vec![change],
        ))
        .changing_authz();
        let store = self.store();
        if grant {
            let g = TemplateGrant {
                template: t.key.clone(),
                target,
                granted_at: self.now(),
            };
            self.commit_authz(
                &tenant,
                "template grant",
                store.grant_template(tenant.id, &g, &journal),
            )
            .await
        } else {
            self.commit_authz(
                &tenant,
                "template grant",
                store.revoke_template(tenant.id, &t.key, &target, &journal),
            )
            .await
        }
    }

    /// Every permission of the tenant: Tessera's own, then those its resource types register.
    pub async fn list_permissions(
        &self,
        ctx: &RequestContext,
        slug: &str,
    ) -> Result<Vec<PermissionInfo>, Error> {
        let tenant = self
            .authorize_scoped(ctx, slug, Scope::RolesRead, "permission.listed")
            .await?
            .tenant;
        let model = self.model_for_update(&tenant).await?;
        let mut out: Vec<PermissionInfo> = tessera_authz::BUILT_IN_PERMISSIONS
            .iter()
            .map(|b| PermissionInfo {
                permission: b.permission.to_owned(),
                description: b.description.to_owned(),
                built_in: true,
            })
            .collect();
        for rt in &model.resource_types {
            out.extend(rt.permissions().map(|(p, d)| PermissionInfo {
                permission: p.to_string(),
                description: d.to_owned(),
                built_in: false,
            }));
        }
        Ok(out)
    }

    pub async fn list_resource_types(
        &self,
        ctx: &RequestContext,
        slug: &str,
    ) -> Result<Vec<ResourceType>, Error> {
        let tenant = self
            .authorize_scoped(ctx, slug, Scope::RolesRead, "resource_type.listed")
            .await?
            .tenant;
        Ok(self.model_for_update(&tenant).await?.resource_types)
    }

    /// Registers (or replaces) a resource type. The tenant's policies must still validate
    /// against the schema it yields.
    pub async fn put_resource_type(
        &self,
        ctx: &RequestContext,
        slug: &str,
        rt: ResourceType,
    ) -> Result<ResourceType, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::RolesWrite, "resource_type.saved")
            .await?;
        rt.validate().map_err(Error::invalid)?;
        let model = self.model_for_update(&tenant).await?;
        let before = model
            .resource_types
            .iter()
            .find(|r| r.name == rt.name)
            .cloned();
        let mut types: Vec<ResourceType> = model
            .resource_types
            .iter()
            .filter(|r| r.name != rt.name)
            .cloned()
            .collect();
        types.push(rt.clone());
        super::policies::check_policies(&types, model.policies.as_ref().map(|p| p.text.as_str()))?;
        let journal = self
            .journal(
                ctx,
                &tenant,
                "resource_type.saved",
                ("resource_type", rt.name.clone()),
                before.as_ref(),
                Some(&rt),
            )
            .changing_authz();
        self.commit_authz(
            &tenant,
            "resource type",
            self.store().put_resource_type(tenant.id, &rt, &journal),
        )
        .await?;
        Ok(rt)
    }

    pub async fn delete_resource_type(
        &self,
        ctx: &RequestContext,
        slug: &str,
        name: &str,
    ) -> Result<(), Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::RolesWrite, "resource_type.deleted")
            .await?;
        let model = self.model_for_update(&tenant).await?;
        let before = model
            .resource_types
            .iter()
            .find(|r| r.name == name)
            .cloned()
            .ok_or(Error::NotFound("resource type"))?;
        let types: Vec<ResourceType> = model
            .resource_types
            .iter()
            .filter(|r| r.name != name)
            .cloned()
            .collect();
        super::policies::check_policies(&types, model.policies.as_ref().map(|p| p.text.as_str()))?;
        if let Some(t) = model
            .templates
            .iter()
            .find(|t| t.permissions.iter().any(|p| p.resource() == name))
        {
            return Err(Error::Conflict {
                code: "in_use",
                message: format!(
                    "the template `{}` holds permissions of `{name}`: remove them first",
                    t.key
                ),
            });
        }
        let journal = self
            .journal(
                ctx,
                &tenant,
                "resource_type.deleted",
                ("resource_type", name.to_owned()),
                Some(&before),
                None,
            )
            .changing_authz();
        self.commit_authz(
            &tenant,
            "resource type",
            self.store().delete_resource_type(tenant.id, name, &journal),
        )
        .await
    }
}

/// Whether a permission is Tessera's own or registered by one of the tenant's resource types.
pub(crate) fn permission_known(model: &TenantModel, p: &Permission) -> bool {
    let name = p.to_string();
    tessera_authz::BUILT_IN_PERMISSIONS
        .iter()
        .any(|b| b.permission == name)
        || model
            .resource_types
            .iter()
            .any(|rt| rt.name == p.resource() && rt.actions.contains_key(p.action()))
}
