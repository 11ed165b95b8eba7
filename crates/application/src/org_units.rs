//! Use cases on organization units (a tree under a tenant) and employee assignments.

use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use crate::tenants::parse_display_name;
use tessera_domain::api_key::Scope;
use tessera_domain::org_unit::{Assignment, OrgUnit, UnitKind};
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::tenant::Tenant;
use tessera_domain::user::UserKind;
use tessera_domain::{OrgUnitId, UserId, ValidationError};

#[derive(Clone, Debug)]
pub struct NewOrgUnit {
    pub name: String,
    pub kind: UnitKind,
    pub parent_id: Option<OrgUnitId>,
}

/// Changes to a unit; `parent_id: Some(None)` makes it a root, `Some(Some(p))` moves it.
#[derive(Clone, Debug, Default)]
pub struct OrgUnitPatch {
    pub name: Option<String>,
    pub kind: Option<UnitKind>,
    pub parent_id: Option<Option<OrgUnitId>>,
}

impl App {
    async fn load_unit(&self, tenant: &Tenant, id: OrgUnitId) -> Result<OrgUnit, Error> {
        self.store()
            .unit(tenant.id, id)
            .await
            .map_err(store_err("organization unit"))?
            .ok_or(Error::NotFound("organization unit"))
    }

    pub async fn create_org_unit(
        &self,
        ctx: &RequestContext,
        slug: &str,
        new: NewOrgUnit,
    ) -> Result<OrgUnit, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::OrgUnitsWrite, "org_unit.created")
            .await?;
        if let Some(parent) = new.parent_id {
            self.load_unit(&tenant, parent)
                .await
                .map_err(|_| parent_missing())?;
        }
        let now = self.now();
        let unit = OrgUnit {
            id: OrgUnitId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant.id,
            parent_id: new.parent_id,
            name: parse_display_name("name", &new.name)?,
            kind: new.kind,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let journal = self.journal(
            ctx,
            &tenant,
            "org_unit.created",
            ("org_unit", unit.id.to_string()),
            None,
            Some(&unit),
        );
        self.store()
            .insert_unit(&unit, &journal)
            .await
            .map_err(|e| match e {
                tessera_domain::ports::StoreError::NotFound => parent_missing(),
                other => Error::from_store(other, "organization unit"),
            })?;
        Ok(unit)
    }

    pub async fn get_org_unit(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: OrgUnitId,
    ) -> Result<OrgUnit, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::OrgUnitsRead, "org_unit.read")
            .await?;
        self.load_unit(&tenant, id).await
    }

    pub async fn list_org_units(
        &self,
        ctx: &RequestContext,
        slug: &str,
        parent: Option<Option<OrgUnitId>>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<OrgUnit>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::OrgUnitsRead, "org_unit.listed")
            .await?;
        self.store()
            .list_units(tenant.id, parent, after.as_ref(), limit)
            .await
            .map_err(store_err("organization unit"))
    }

    pub async fn update_org_unit(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: OrgUnitId,
        patch: OrgUnitPatch,
    ) -> Result<OrgUnit, Error> {
        let scoped = self
            .authorize_scoped(ctx, slug, Scope::OrgUnitsWrite, "org_unit.updated")
            .await?;
        let tenant = scoped.tenant.clone();
        let before = self.load_unit(&tenant, id).await?;
        if !self.unit_in_scope(&scoped, id).await? {
            return Err(Error::NotFound("organization unit"));
        }
        let mut after = before.clone();
        if let Some(name) = patch.name {
            after.name = parse_display_name("name", &name)?;
        }
        if let Some(kind) = patch.kind {
            after.kind = kind;
        }
        if let Some(parent) = patch.parent_id {
            if let Some(p) = parent {
                self.load_unit(&tenant, p)
                    .await
                    .map_err(|_| parent_missing())?;
                // A unit cannot move under itself or one of its descendants.
                let subtree = self
                    .store()
                    .subtree(tenant.id, id)
                    .await
                    .map_err(store_err("organization unit"))?;
                if subtree.contains(&p) {
                    return Err(Error::Conflict {
                        code: "cycle",
                        message: "a unit cannot be moved under itself or one of its descendants"
                            .to_owned(),
                    });
                }
            }
            // A caller holding the permission only within some units moves units only
            // within them: never a unit from outside under their subtree, nor to the root.
            let inside = match parent {
                Some(p) => self.unit_in_scope(&scoped, p).await?,
                None => matches!(scoped.filter, tessera_domain::authz::DataFilter::All),
            };
            if !inside {
                let e = Error::Forbidden(
                    "you may move units only within your own organization units".to_owned(),
                );
                return Err(self.refused(ctx, &tenant, "org_unit.updated", e).await);
            }
            after.parent_id = parent;
        }
        if after == before {
            return Ok(before);
        }
        after.updated_at = self.now();
        after.version = before.version + 1;
        let mut journal = self.journal(
            ctx,
            &tenant,
            "org_unit.updated",
            ("org_unit", id.to_string()),
            Some(&before),
            Some(&after),
        );
        // Moving a unit changes which scopes cover it and everything below.
        let moved = after.parent_id != before.parent_id;
        journal.authz_changed = moved;
        self.store()
            .update_unit(&after, before.version, &journal)
            .await
            .map_err(store_err("organization unit"))?;
        if moved {
            self.authz_changed(tenant.id).await;
        }
        Ok(after)
    }

    pub async fn delete_org_unit(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: OrgUnitId,
    ) -> Result<(), Error> {
        let scoped = self
            .authorize_scoped(ctx, slug, Scope::OrgUnitsWrite, "org_unit.deleted")
            .await?;
        let tenant = scoped.tenant.clone();
        let before = self.load_unit(&tenant, id).await?;
        // Deleting the root of one's own scope would leave it dangling: only units below.
        if !self.unit_in_scope(&scoped, id).await?
            || matches!(&scoped.filter, tessera_domain::authz::DataFilter::Within(s) if s.contains(&tessera_domain::authz::AccessScope::Unit(id)))
        {
            return Err(Error::NotFound("organization unit"));
        }
        let journal = self
            .journal(
                ctx,
                &tenant,
                "org_unit.deleted",
                ("org_unit", id.to_string()),
                Some(&before),
                None,
            )
            .changing_authz();
        self.store().delete_unit(tenant.id, id, &journal).await.map_err(|e| match e {
            tessera_domain::ports::StoreError::InUse => Error::Conflict {
                code: "in_use",
                message: "the unit still has sub-units, employees or customers; move or remove them first".to_owned(),
            },
            other => Error::from_store(other, "organization unit"),
        })?;
        self.authz_changed(tenant.id).await;
        Ok(())
    }

    /// Assigns an employee (a full user, not a customer) to a unit.
    pub async fn assign_employee(
        &self,
        ctx: &RequestContext,
        slug: &str,
        unit: OrgUnitId,
        user: UserId,
    ) -> Result<Assignment, Error> {
        let tenant = self
            .authorize(
                ctx,
                slug,
                Scope::OrgUnitsWrite,
                "org_unit.employee_assigned",
            )
            .await?;
        self.load_unit(&tenant, unit).await?;
        let employee = self.load_user(&tenant, user).await?;
        if employee.kind != UserKind::User {
            return Err(Error::invalid(ValidationError::new(
                "user_id",
                "not_an_employee",
                "customers cannot be assigned as employees; promote them first",
            )));
        }
        let assignment = Assignment {
            tenant_id: tenant.id,
            unit_id: unit,
            user_id: user,
            created_at: self.now(),
        };
        let journal = self.journal(
            ctx,
            &tenant,
            "org_unit.employee_assigned",
            ("user", user.to_string()),
            None,
            Some(&assignment),
        );
        self.store()
            .assign(&assignment, &journal)
            .await
            .map_err(store_err("assignment"))?;
        Ok(assignment)
    }

    pub async fn unassign_employee(
        &self,
        ctx: &RequestContext,
        slug: &str,
        unit: OrgUnitId,
        user: UserId,
    ) -> Result<(), Error> {
        let tenant = self
            .authorize(
                ctx,
                slug,
                Scope::OrgUnitsWrite,
                "org_unit.employee_unassigned",
            )
            .await?;
        let before = Assignment {
            tenant_id: tenant.id,
            unit_id: unit,
            user_id: user,
            created_at: self.now(),
        };
        let journal = self.journal(
            ctx,
            &tenant,
            "org_unit.employee_unassigned",
            ("user", user.to_string()),
            Some(&before),
            None,
        );
        self.store()
            .unassign(tenant.id, unit, user, &journal)
            .await
            .map_err(store_err("assignment"))
    }

    pub async fn list_unit_employees(
        &self,
        ctx: &RequestContext,
        slug: &str,
        unit: OrgUnitId,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<Assignment>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::OrgUnitsRead, "org_unit.employees_listed")
            .await?;
        self.load_unit(&tenant, unit).await?;
        self.store()
            .unit_assignments(tenant.id, unit, after.as_ref(), limit)
            .await
            .map_err(store_err("assignment"))
    }

    pub async fn list_user_units(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
    ) -> Result<Vec<Assignment>, Error> {
        let tenant = self
            .authorize(
                ctx,
                slug,
                Scope::OrgUnitsRead,
                "org_unit.assignments_listed",
            )
            .await?;
        self.load_user(&tenant, user).await?;
        self.store()
            .user_assignments(tenant.id, user)
            .await
            .map_err(store_err("assignment"))
    }
}

fn parent_missing() -> Error {
    Error::invalid(ValidationError::new(
        "parent_id",
        "unknown_parent",
        "the parent unit does not exist in this tenant",
    ))
}
