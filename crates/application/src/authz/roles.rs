//! Roles: the eight system roles (fixed), custom roles per tenant (priority, optional parent),
//! and scoped assignments to users. The rule on every path: nobody creates, grants, edits or
//! revokes a role whose priority is equal to or higher than their own.

use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use serde::Serialize;
use tessera_domain::api_key::Scope;
use tessera_domain::audit::FieldChange;
use tessera_domain::authz::{
    AccessScope, CustomRole, Permission, RoleAssignment, RoleKey, RoleRef, TenantModel,
};
use tessera_domain::ports::{Journal, StoreError};
use tessera_domain::role::SystemRole;
use tessera_domain::tenant::Tenant;
use tessera_domain::{UserId, ValidationError};

/// A role as the admin API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct RoleView {
    pub key: String,
    pub name: String,
    pub description: String,
    pub priority: u32,
    pub parent: Option<String>,
    pub system: bool,
    /// Holders must pass a second factor.
    pub administrative: bool,
    /// System roles: the permissions built into the role.
    pub built_in_permissions: Vec<Permission>,
    /// Templates granted to the role.
    pub templates: Vec<String>,
    /// Custom roles: the version for `If-Match`.
    pub version: Option<i64>,
}

/// A custom role to create.
#[derive(Clone, Debug)]
pub struct NewRole {
    pub key: RoleKey,
    pub name: String,
    pub description: String,
    pub priority: u32,
    pub parent: Option<RoleRef>,
}

/// Changes to a custom role; `None` leaves a field as it is (`Some(None)` clears the parent).
#[derive(Clone, Debug, Default)]
pub struct RolePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub priority: Option<u32>,
    pub parent: Option<Option<RoleRef>>,
}

fn system_view(role: SystemRole, model: &TenantModel) -> RoleView {
    RoleView {
        key: role.key().to_owned(),
        name: role.display_name().to_owned(),
        description: String::new(),
        priority: role.priority(),
        parent: None,
        system: true,
        administrative: role.is_administrative(),
        built_in_permissions: tessera_authz::system_permissions(role),
        templates: templates_of(model, &RoleRef::System(role)),
        version: None,
    }
}

fn custom_view(role: &CustomRole, model: &TenantModel) -> RoleView {
    RoleView {
        key: role.key.as_str().to_owned(),
        name: role.name.clone(),
        description: role.description.clone(),
        priority: role.priority,
        parent: role.parent.as_ref().map(|p| p.key().to_owned()),
        system: false,
        administrative: role.is_administrative(),
        built_in_permissions: vec![],
        templates: templates_of(model, &RoleRef::Custom(role.key.clone())),
        version: Some(role.version),
    }
}

fn templates_of(model: &TenantModel, role: &RoleRef) -> Vec<String> {
    use tessera_domain::authz::GrantTarget;
    model
        .grants
        .iter()
        .filter(|g| matches!(&g.target, GrantTarget::Role(r) if r == role))
        .map(|g| g.template.clone())
        .collect()
}

/// The priority of a role in a model (`None` for an unknown custom role).
pub(crate) fn priority_of(model: &TenantModel, role: &RoleRef) -> Option<u32> {
    match role {
        RoleRef::System(r) => Some(r.priority()),
        RoleRef::Custom(k) => model.roles.iter().find(|r| &r.key == k).map(|r| r.priority),
    }
}

/// The audit change of a grant (`grant`) or a revocation of `what`.
pub(crate) fn grant_change(field: &str, what: String, grant: bool) -> FieldChange {
    let (before, after) = if grant {
        (serde_json::Value::Null, what.into())
    } else {
        (what.into(), serde_json::Value::Null)
    };
    FieldChange {
        field: field.into(),
        before,
        after,
    }
}

fn outranked(mine: u32, role: &RoleRef, theirs: u32) -> Error {
    Error::Forbidden(format!(
        "you may only create, grant, edit or revoke roles below your own priority ({mine}); `{role}` has priority {theirs}"
    ))
}

fn unknown_role() -> Error {
    Error::NotFound("role")
}

impl App {
    /// Refuses (and records) an action on a role of priority `theirs` unless it is below the
    /// caller's.
    pub(crate) async fn require_below(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        action: &str,
        role: &RoleRef,
        theirs: u32,
    ) -> Result<(), Error> {
        let mine = self.caller_priority(ctx, tenant).await?;
        if theirs >= mine {
            return Err(self
                .refused(ctx, tenant, action, outranked(mine, role, theirs))
                .await);
        }
        Ok(())
    }

    /// The tenant's model read straight from the database (for changes).
    pub(crate) async fn model_for_update(&self, tenant: &Tenant) -> Result<TenantModel, Error> {
        self.store()
            .tenant_model(tenant.id)
            .await
            .map_err(store_err("authorization model"))
    }

    /// Runs an authorization change (whose journal is marked `changing_authz`), then lets
    /// every node learn the tenant's new epoch.
    pub(crate) async fn commit_authz(
        &self,
        tenant: &Tenant,
        what: &'static str,
        write: impl std::future::Future<Output = Result<(), StoreError>>,
    ) -> Result<(), Error> {
        write.await.map_err(store_err(what))?;
        self.authz_changed(tenant.id).await;
        Ok(())
    }

    pub async fn list_roles(
        &self,
        ctx: &RequestContext,
        slug: &str,
    ) -> Result<Vec<RoleView>, Error> {
        let tenant = self
            .authorize_scoped(ctx, slug, Scope::RolesRead, "role.listed")
            .await?
            .tenant;
        let model = self.model_for_update(&tenant).await?;
        let mut views: Vec<RoleView> = SystemRole::ALL
            .into_iter()
            .map(|r| system_view(r, &model))
            .collect();
        views.extend(model.roles.iter().map(|r| custom_view(r, &model)));
        views.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.key.cmp(&b.key)));
        Ok(views)
    }

    pub async fn get_role(
        &self,
        ctx: &RequestContext,
        slug: &str,
        key: &str,
    ) -> Result<RoleView, Error> {
        let tenant = self
            .authorize_scoped(ctx, slug, Scope::RolesRead, "role.read")
            .await?
            .tenant;
        let role = RoleRef::parse(key).map_err(|_| unknown_role())?;
        let model = self.model_for_update(&tenant).await?;
        match &role {
            RoleRef::System(r) => Ok(system_view(*r, &model)),
            RoleRef::Custom(k) => model
                .roles
                .iter()
                .find(|r| &r.key == k)
                .map(|r| custom_view(r, &model))
                .ok_or_else(unknown_role),
        }
    }

    /// Checks a custom role's parent: it exists, is not the role or one of its descendants,
    /// and does not outrank the role (a child never inherits more than its own priority).
    fn check_parent(model: &TenantModel, role: &CustomRole) -> Result<(), Error> {
        let Some(parent) = &role.parent else {
            return Ok(());
        };
        let parent_priority = priority_of(model, parent).ok_or_else(|| {
            Error::invalid(ValidationError::new(
                "parent",
                "unknown_role",
                format!("there is no role `{parent}`"),
            ))
        })?;
        if parent_priority > role.priority {
            return Err(Error::invalid(ValidationError::new(
                "parent",
                "parent_outranks",
                format!(
                    "the parent `{parent}` (priority {parent_priority}) outranks the role (priority {}): a role inherits only from roles at or below its priority",
                    role.priority
                ),
            )));
        }
        // Walk up from the parent: meeting the role again is a cycle.
        let mut seen = vec![role.key.clone()];
        let mut next = Some(parent.clone());
        while let Some(RoleRef::Custom(k)) = next {
            if seen.contains(&k) {
                return Err(Error::invalid(ValidationError::new(
                    "parent",
                    "cyclic_parent",
                    format!("`{parent}` already inherits from `{}`", role.key.as_str()),
                )));
            }
            next = model
                .roles
                .iter()
                .find(|r| r.key == k)
                .and_then(|r| r.parent.clone());
            seen.push(k);
        }
        Ok(())
    }

    pub async fn create_role(
        &self,
        ctx: &RequestContext,
        slug: &str,
        new: NewRole,
    ) -> Result<RoleView, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::RolesWrite, "role.created")
            .await?;
        let key = RoleRef::Custom(new.key.clone());
        self.require_below(ctx, &tenant, "role.created", &key, new.priority)
            .await?;
        let now = self.now();
        let role = CustomRole {
            tenant_id: tenant.id,
            key: new.key,
            name: new.name.trim().to_owned(),
            description: new.description,
            priority: new.priority,
            parent: new.parent,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        role.validate().map_err(Error::invalid)?;
        let model = self.model_for_update(&tenant).await?;
        Self::check_parent(&model, &role)?;
        let journal = self
            .journal(
                ctx,
                &tenant,
                "role.created",
                ("role", role.key.as_str().to_owned()),
                None,
                Some(&role),
            )
            .changing_authz();
        self.commit_authz(
            &tenant,
            "role",
            self.store().insert_custom_role(&role, &journal),
        )
        .await?;
        Ok(custom_view(&role, &model))
    }

    pub async fn update_role(
        &self,
        ctx: &RequestContext,
        slug: &str,
        key: &str,
        patch: RolePatch,
        if_match: Option<i64>,
    ) -> Result<RoleView, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::RolesWrite, "role.updated")
            .await?;
        let role_ref = RoleRef::parse(key).map_err(|_| unknown_role())?;
        let RoleRef::Custom(k) = &role_ref else {
            return Err(Error::Conflict {
                code: "system_role",
                message: format!("`{role_ref}` is a system role: system roles cannot be changed"),
            });
        };
        let model = self.model_for_update(&tenant).await?;
        let before = model
            .roles
            .iter()
            .find(|r| &r.key == k)
            .cloned()
            .ok_or_else(unknown_role)?;
        if let Some(v) = if_match
            && v != before.version
        {
            return Err(Error::Conflict {
                code: "precondition_failed",
                message: format!("the role is at version {}, not {v}", before.version),
            });
        }
        self.require_below(ctx, &tenant, "role.updated", &role_ref, before.priority)
            .await?;
        let mut after = before.clone();
        if let Some(name) = patch.name {
            after.name = name.trim().to_owned();
        }
        if let Some(d) = patch.description {
            after.description = d;
        }
        if let Some(p) = patch.priority {
            after.priority = p;
        }
        if let Some(p) = patch.parent {
            after.parent = p;
        }
        self.require_below(ctx, &tenant, "role.updated", &role_ref, after.priority)
            .await?;
        after.validate().map_err(Error::invalid)?;
        Self::check_parent(&model, &after)?;
        // A lower priority must not leave a child above its parent.
        if let Some(child) = model
            .roles
            .iter()
            .find(|r| r.parent.as_ref() == Some(&role_ref) && r.priority < after.priority)
        {
            return Err(Error::Conflict {
                code: "child_below_parent",
                message: format!(
                    "`{}` (priority {}) inherits from this role: a parent cannot outrank its children",
                    child.key.as_str(),
                    child.priority
                ),
            });
        }
        if after == before {
            return Ok(custom_view(&before, &model));
        }
        after.updated_at = self.now();
        after.version = before.version + 1;
        let journal = self
            .journal(
                ctx,
                &tenant,
                "role.updated",
                ("role", k.as_str().to_owned()),
                Some(&before),
                Some(&after),
            )
            .changing_authz();
        self.commit_authz(
            &tenant,
            "role",
            self.store()
                .update_custom_role(&after, before.version, &journal),
        )
        .await?;
        Ok(custom_view(&after, &model))
    }

    pub async fn delete_role(
        &self,
        ctx: &RequestContext,
        slug: &str,
        key: &str,
    ) -> Result<(), Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::RolesWrite, "role.deleted")
            .await?;
        let role_ref = RoleRef::parse(key).map_err(|_| unknown_role())?;
        let RoleRef::Custom(k) = &role_ref else {
            return Err(Error::Conflict {
                code: "system_role",
                message: format!("`{role_ref}` is a system role: system roles cannot be deleted"),
            });
        };
        let model = self.model_for_update(&tenant).await?;
        let before = model
            .roles
            .iter()
            .find(|r| &r.key == k)
            .cloned()
            .ok_or_else(unknown_role)?;
        self.require_below(ctx, &tenant, "role.deleted", &role_ref, before.priority)
            .await?;
        let journal = self
            .journal(
                ctx,
                &tenant,
                "role.deleted",
                ("role", k.as_str().to_owned()),
                Some(&before),
                None,
            )
            .changing_authz();
        self.store()
            .delete_custom_role(tenant.id, k, &journal)
            .await
            .map_err(|e| match e {
                StoreError::InUse => Error::Conflict {
                    code: "in_use",
                    message: "another role inherits from this one: change its parent first"
                        .to_owned(),
                },
                other => Error::from_store(other, "role"),
            })?;
        self.authz_changed(tenant.id).await;
        Ok(())
    }

    /// The roles a user holds (within the caller's data scope).
    pub async fn user_role_assignments(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
    ) -> Result<Vec<RoleAssignment>, Error> {
        let scoped = self
            .authorize_scoped(ctx, slug, Scope::RolesRead, "role.listed")
            .await?;
        let user = self.load_user(&scoped.tenant, user).await?;
        self.require_user_in_scope(&scoped, &user).await?;
        self.store()
            .user_roles(scoped.tenant.id, user.id)
            .await
            .map_err(store_err("role"))
    }

    /// Grants (`grant`) or revokes a role to a user within `scope`. The role must be below the
    /// caller's priority; a caller holding `roles:grant` only within some units grants only
    /// to users in those units, and only within them.
    pub async fn set_user_role(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
        role: RoleRef,
        scope: AccessScope,
        grant: bool,
    ) -> Result<(), Error> {
        let action = if grant {
            "role.granted"
        } else {
            "role.revoked"
        };
        let scoped = self
            .authorize_scoped(ctx, slug, Scope::RolesGrant, action)
            .await?;
        let tenant = scoped.tenant.clone();
        let user = self.load_user(&tenant, user).await?;
        self.require_user_in_scope(&scoped, &user).await?;
        let model = self.model_for_update(&tenant).await?;
        let priority = priority_of(&model, &role).ok_or_else(unknown_role)?;
        self.require_below(ctx, &tenant, action, &role, priority)
            .await?;
        // A unit scope names a unit of this tenant (another tenant's unit, or none at all,
        // would otherwise reach the store and come back as a misleading "role not found").
        if let (true, AccessScope::Unit(u)) = (grant, &scope)
            && self.unit_chain(tenant.id, *u).await?.is_empty()
        {
            return Err(Error::invalid(ValidationError::new(
                "scope",
                "unknown_unit",
                format!("there is no organization unit `{u}` in this tenant"),
            )));
        }
        let scope_allowed = match &scope {
            AccessScope::Tenant => matches!(scoped.filter, tessera_domain::authz::DataFilter::All),
            AccessScope::Unit(u) => self.unit_in_scope(&scoped, *u).await?,
            AccessScope::SelfOnly => true,
        };
        if !scope_allowed {
            let e = Error::Forbidden(format!(
                "you may grant roles only within your own organization units; `{scope}` is outside them"
            ));
            return Err(self.refused(ctx, &tenant, action, e).await);
        }
        if grant {
            self.require_role_permissions_held(ctx, &scoped, &model, &role, &scope, &user)
                .await?;
        }
        let change = grant_change("role", format!("{role}@{scope}"), grant);
        let journal = Journal::one(self.draft(
            ctx,
            &tenant,
            action,
            ("user", user.id.to_string()),
            vec![change],
        ))
        .changing_authz();
        let store = self.store();
        if grant {
            let assignment = RoleAssignment {
                user_id: user.id,
                role,
                scope,
                granted_at: self.now(),
            };
            self.commit_authz(
                &tenant,
                "role",
                store.grant_role(tenant.id, &assignment, &journal),
            )
            .await
        } else {
            self.commit_authz(
                &tenant,
                "role",
                store.revoke_role(tenant.id, user.id, &role, &scope, &journal),
            )
            .await
        }
    }

    /// Refuses to grant a role carrying a permission the caller does not hold over the
    /// assignment's scope: a lower priority must not smuggle in more power (the same rule as
    /// for templates, where nobody hands on what they lack).
    async fn require_role_permissions_held(
        &self,
        ctx: &RequestContext,
        scoped: &crate::authz::guard::Scoped,
        model: &TenantModel,
        role: &RoleRef,
        scope: &AccessScope,
        target: &tessera_domain::user::User,
    ) -> Result<(), Error> {
        let probe = tessera_authz::compile(
            model,
            &tessera_authz::Subject {
                tenant: scoped.tenant.id,
                id: target.id,
                state: tessera_domain::lifecycle::LifecycleState::Active,
            },
            &[RoleAssignment {
                user_id: target.id,
                role: role.clone(),
                scope: AccessScope::Tenant,
                granted_at: self.now(),
            }],
            &[],
            0,
        );
        for grant in &probe.grants {
            let perm = &grant.permission;
            let held = match &scoped.graph {
                None => {
                    self.caller_holds_tenant_wide(ctx, &scoped.tenant, perm)
                        .await?
                }
                Some(graph) => {
                    let mut ok = false;
                    for g in graph.grants_for(perm) {
                        ok = match (&g.scope, scope) {
                            (AccessScope::Tenant, _) => true,
                            (AccessScope::Unit(mine), AccessScope::Unit(theirs)) => self
                                .unit_chain(scoped.tenant.id, *theirs)
                                .await?
                                .contains(mine),
                            (AccessScope::Unit(_), AccessScope::SelfOnly) => {
                                self.user_in_scope(scoped, target).await?
                            }
                            (AccessScope::SelfOnly, AccessScope::SelfOnly) => {
                                graph.user_id == target.id
                            }
                            _ => false,
                        };
                        if ok {
                            break;
                        }
                    }
                    ok && graph.may_act()
                }
            };
            if !held {
                let e = Error::Forbidden(format!(
                    "you cannot grant `{role}`: it carries `{perm}`, which you do not hold over `{scope}`"
                ));
                return Err(self.refused(ctx, &scoped.tenant, "role.granted", e).await);
            }
        }
        Ok(())
    }
}
