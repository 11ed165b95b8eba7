//! First start: the operator tenant `system`, its first administrator, a one-time setup link
//! and an admin API key that expires after 24 hours. Refuses to run twice.

use crate::api_keys::{NewApiKey, hash_secret};
use crate::app::App;
use crate::context::RequestContext;
use crate::error::Error;
use crate::users::NewUser;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_domain::api_key::Scope;
use tessera_domain::identifiers::{Email, Username};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::{BootstrapSet, Journal, SetupToken, StoreError};
use tessera_domain::role::SystemRole;
use tessera_domain::tenant::{
    Organization, SYSTEM_TENANT_SLUG, Tenant, TenantSettings, TenantSlug, TenantState,
};
use tessera_domain::user::{EmailEntry, UserKind};
use tessera_domain::{OrganizationId, SetupTokenId, TenantId, UserId};
use time::{Duration, OffsetDateTime};

/// How long the bootstrap key and setup link live.
pub const BOOTSTRAP_LIFETIME: Duration = Duration::hours(24);

#[derive(Clone, Debug)]
pub struct BootstrapRequest {
    /// The public base URL (for the setup link).
    pub public_url: String,
    pub admin_username: Username,
    pub admin_email: Option<Email>,
}

#[derive(Clone, Debug)]
pub struct BootstrapOutput {
    pub tenant_id: TenantId,
    pub tenant: String,
    pub admin_user_id: UserId,
    pub admin_username: String,
    pub api_key: String,
    pub api_key_expires_at: OffsetDateTime,
    pub setup_link: String,
    pub setup_link_expires_at: OffsetDateTime,
}

impl App {
    pub async fn bootstrap(
        &self,
        ctx: &RequestContext,
        req: BootstrapRequest,
    ) -> Result<BootstrapOutput, Error> {
        ctx.principal.require_platform(Scope::All)?;
        let now = self.now();
        let expires = now + BOOTSTRAP_LIFETIME;
        let organization = Organization {
            id: OrganizationId::from_uuid(self.ports.random.new_id()),
            name: "Operator".to_owned(),
            created_at: now,
        };
        let tenant = Tenant {
            id: TenantId::from_uuid(self.ports.random.new_id()),
            organization_id: organization.id,
            slug: TenantSlug::parse_unreserved(SYSTEM_TENANT_SLUG)?,
            display_name: "Operator".to_owned(),
            state: TenantState::Active,
            settings: TenantSettings::default(),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let admin = self.new_user_record(
            &tenant,
            UserKind::User,
            NewUser {
                username: Some(req.admin_username.clone()),
                emails: req
                    .admin_email
                    .into_iter()
                    .map(|address| EmailEntry {
                        address,
                        verified: false,
                        primary: true,
                    })
                    .collect(),
                // No credential yet: the setup link lets the administrator set one.
                initial_state: Some(LifecycleState::Created),
                ..NewUser::default()
            },
            None,
        )?;
        let key = self.mint_api_key(
            tenant.id,
            NewApiKey {
                name: "bootstrap".to_owned(),
                scopes: vec![Scope::All],
                expires_at: Some(expires),
            },
        )?;
        let token = URL_SAFE_NO_PAD.encode(self.ports.random.secret_bytes(32));
        let setup_token = SetupToken {
            id: SetupTokenId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant.id,
            user_id: admin.id,
            token_hash: hash_secret(&token),
            expires_at: expires,
        };
        let mut journal = self.journal(
            ctx,
            &tenant,
            "tenant.created",
            ("tenant", tenant.id.to_string()),
            None,
            Some(&tenant),
        );
        journal.events.extend(
            self.journal(
                ctx,
                &tenant,
                "user.created",
                ("user", admin.id.to_string()),
                None,
                Some(&admin),
            )
            .events,
        );
        journal.events.extend(
            self.journal(
                ctx,
                &tenant,
                "api_key.created",
                ("api_key", key.key.id.to_string()),
                None,
                Some(&key.key),
            )
            .events,
        );
        let set = BootstrapSet {
            organization,
            tenant,
            admin,
            api_key: key.key,
            setup_token,
        };
        self.store()
            .bootstrap(
                &set,
                &Journal {
                    events: journal.events,
                    authz_changed: false,
                },
            )
            .await
            .map_err(|e| match e {
                StoreError::Duplicate { .. } => Error::Conflict {
                    code: "already_bootstrapped",
                    message: "Tessera is already bootstrapped: the operator tenant `system` exists"
                        .to_owned(),
                },
                other => Error::from_store(other, "tenant"),
            })?;
        // The first administrator is the Super Admin (which makes a second factor mandatory
        // for them: they enrol one at their first sign-in).
        let grant = Journal::one(self.draft(
            ctx,
            &set.tenant,
            "role.granted",
            ("user", set.admin.id.to_string()),
            vec![tessera_domain::audit::FieldChange {
                field: "role".into(),
                before: serde_json::Value::Null,
                after: SystemRole::SuperAdmin.key().into(),
            }],
        ));
        let assignment = tessera_domain::authz::RoleAssignment {
            user_id: set.admin.id,
            role: tessera_domain::authz::RoleRef::System(SystemRole::SuperAdmin),
            scope: tessera_domain::authz::AccessScope::Tenant,
            granted_at: now,
        };
        self.store()
            .grant_role(set.tenant.id, &assignment, &grant.changing_authz())
            .await
            .map_err(|e| Error::from_store(e, "user"))?;
        self.authz_changed(set.tenant.id).await;
        Ok(BootstrapOutput {
            tenant_id: set.tenant.id,
            tenant: SYSTEM_TENANT_SLUG.to_owned(),
            admin_user_id: set.admin.id,
            admin_username: req.admin_username.to_string(),
            api_key: key.secret,
            api_key_expires_at: expires,
            setup_link: format!(
                "{}/t/{SYSTEM_TENANT_SLUG}/setup?token={token}",
                req.public_url.trim_end_matches('/')
            ),
            setup_link_expires_at: expires,
        })
    }
}
