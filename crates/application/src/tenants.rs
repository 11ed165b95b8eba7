//! Use cases on the tenant registry: create, list, get, update, disable, enable.

use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_domain::api_key::Scope;
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::ports::Journal;
use tessera_domain::tenant::{
    Organization, SYSTEM_TENANT_SLUG, Tenant, TenantSettings, TenantSlug, TenantState,
};
use tessera_domain::{OrganizationId, TenantId, ValidationError};

/// A tenant to create. Without `organization_id`, a new organization named
/// `organization_name` (or the tenant's display name) is created with it.
#[derive(Clone, Debug)]
pub struct NewTenant {
    pub slug: TenantSlug,
    pub display_name: String,
    pub organization_id: Option<OrganizationId>,
    pub organization_name: Option<String>,
    pub settings: TenantSettings,
}

/// Changes to a tenant; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct TenantPatch {
    pub display_name: Option<String>,
    pub settings: Option<TenantSettings>,
}

pub(crate) fn parse_display_name(field: &str, raw: &str) -> Result<String, ValidationError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "invalid_name",
            "a name has 1 to 200 printable characters",
        ));
    }
    Ok(name.to_owned())
}

/// A custom-attribute schema must itself be a valid JSON Schema; the authentication
/// policies must be sane and message templates must render.
pub(crate) fn check_settings(
    settings: &TenantSettings,
    notifier: &dyn tessera_domain::ports::Notifier,
) -> Result<(), Error> {
    settings.auth.validate()?;
    settings.authz.validate()?;
    for (name, template) in &settings.auth.templates {
        notifier.check_template(template).map_err(|e| {
            Error::invalid(ValidationError::new(
                format!("settings.auth.templates.{name}"),
                "invalid_template",
                e.to_string(),
            ))
        })?;
    }
    if let Some(schema) = &settings.custom_attributes_schema {
        jsonschema::validator_for(schema).map_err(|e| {
            Error::invalid(ValidationError::new(
                "settings.custom_attributes_schema",
                "invalid_schema",
                format!("not a valid JSON Schema: {e}"),
            ))
        })?;
    }
    Ok(())
}

impl App {
    pub async fn create_tenant(
        &self,
        ctx: &RequestContext,
        new: NewTenant,
    ) -> Result<Tenant, Error> {
        ctx.principal.require_platform(Scope::TenantsWrite)?;
        let display_name = parse_display_name("display_name", &new.display_name)?;
        check_settings(&new.settings, self.ports.notifier.as_ref())?;
        let now = self.now();
        let (new_org, organization_id) = match new.organization_id {
            Some(id) => {
                self.store()
                    .organization(id)
                    .await
                    .map_err(store_err("organization"))?
                    .ok_or(Error::NotFound("organization"))?;
                (None, id)
            }
            None => {
                let name = new.organization_name.as_deref().unwrap_or(&display_name);
                let org = Organization {
                    id: OrganizationId::from_uuid(self.ports.random.new_id()),
                    name: parse_display_name("organization_name", name)?,
                    created_at: now,
                };
                let id = org.id;
                (Some(org), id)
            }
        };
        let tenant = Tenant {
            id: TenantId::from_uuid(self.ports.random.new_id()),
            organization_id,
            slug: new.slug,
            display_name,
            state: TenantState::Active,
            settings: new.settings,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let subject = ("tenant", tenant.id.to_string());
        // The event opens the new tenant's own chain, and is recorded in the chain of the
        // operator tenant whose key created it.
        let mut journal = self.journal(
            ctx,
            &tenant,
            "tenant.created",
            subject.clone(),
            None,
            Some(&tenant),
        );
        if let Some(system) = self.operator_tenant().await? {
            journal.events.extend(
                self.journal(ctx, &system, "tenant.created", subject, None, Some(&tenant))
                    .events,
            );
        }
        self.store()
            .create_tenant(new_org.as_ref(), &tenant, &journal)
            .await
            .map_err(store_err("organization"))?;
        Ok(tenant)
    }

    async fn operator_tenant(&self) -> Result<Option<Tenant>, Error> {
        let slug = TenantSlug::parse_unreserved(SYSTEM_TENANT_SLUG)?;
        self.store()
            .tenant_by_slug(&slug)
            .await
            .map_err(store_err("tenant"))
    }

    pub async fn list_tenants(
        &self,
        ctx: &RequestContext,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<Tenant>, Error> {
        ctx.principal.require_platform(Scope::TenantsRead)?;
        self.store()
            .list_tenants(after.as_ref(), limit)
            .await
            .map_err(store_err("tenant"))
    }

    /// A tenant, for operator keys or keys of that very tenant.
    pub async fn get_tenant(&self, ctx: &RequestContext, slug: &str) -> Result<Tenant, Error> {
        let tenant = self.tenant(slug).await?;
        match &ctx.principal {
            crate::Principal::ApiKey {
                operator: false,
                tenant_id,
                ..
            } if *tenant_id == tenant.id => Ok(tenant),
            // Other tenants are invisible to a tenant's own keys.
            crate::Principal::ApiKey {
                operator: false, ..
            } => Err(Error::NotFound("tenant")),
            _ => {
                ctx.principal.require_platform(Scope::TenantsRead)?;
                Ok(tenant)
            }
        }
    }

    pub async fn update_tenant(
        &self,
        ctx: &RequestContext,
        slug: &str,
        patch: TenantPatch,
    ) -> Result<Tenant, Error> {
        ctx.principal.require_platform(Scope::TenantsWrite)?;
        let before = self.tenant_for_update(slug).await?;
        let mut after = before.clone();
        if let Some(name) = patch.display_name {
            after.display_name = parse_display_name("display_name", &name)?;
        }
        if let Some(settings) = patch.settings {
            check_settings(&settings, self.ports.notifier.as_ref())?;
            after.settings = settings;
        }
        self.save_tenant(ctx, before, after, "tenant.updated").await
    }

    /// Disables or re-enables a tenant. The operator tenant cannot be disabled.
    pub async fn set_tenant_state(
        &self,
        ctx: &RequestContext,
        slug: &str,
        state: TenantState,
    ) -> Result<Tenant, Error> {
        ctx.principal.require_platform(Scope::TenantsWrite)?;
        let before = self.tenant_for_update(slug).await?;
        if before.slug.is_system() && state == TenantState::Disabled {
            return Err(Error::Conflict {
                code: "operator_tenant",
                message: "the operator tenant `system` cannot be disabled".to_owned(),
            });
        }
        if before.state == state {
            return Ok(before);
        }
        let mut after = before.clone();
        after.state = state;
        let action = match state {
            TenantState::Active => "tenant.enabled",
            TenantState::Disabled => "tenant.disabled",
        };
        self.save_tenant(ctx, before, after, action).await
    }

    async fn save_tenant(
        &self,
        ctx: &RequestContext,
        before: Tenant,
        mut after: Tenant,
        action: &str,
    ) -> Result<Tenant, Error> {
        after.updated_at = self.now();
        after.version = before.version + 1;
        let journal: Journal = self.journal(
            ctx,
            &after,
            action,
            ("tenant", after.id.to_string()),
            Some(&before),
            Some(&after),
        );
        self.store()
            .update_tenant(&after, before.version, &journal)
            .await
            .map_err(store_err("tenant"))?;
        self.forget_tenant(&after).await;
        Ok(after)
    }
}
