//! The application object: holds the ports and offers every use case as a method (the use
//! cases themselves live in one file per area).

use crate::changes;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use serde::Serialize;
use std::sync::Arc;
use tessera_domain::AuditEventId;
use tessera_domain::audit::{AuditDraft, Outcome};
use tessera_domain::ports::{
    AttemptCounter, Cache, Clock, EpochCache, Journal, KeyedHasher, Notifier, PasskeyVerifier,
    PasswordHasher, Random, SecretSealer, Store, TokenSigner, Totp,
};
use tessera_domain::tenant::Tenant;

/// The outside world, as ports.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub random: Arc<dyn Random>,
    pub sealer: Arc<dyn SecretSealer>,
    pub cache: Arc<dyn Cache>,
    pub hasher: Arc<dyn PasswordHasher>,
    pub signer: Arc<dyn TokenSigner>,
    pub keyed: Arc<dyn KeyedHasher>,
    pub notifier: Arc<dyn Notifier>,
    pub attempts: Arc<dyn AttemptCounter>,
    pub totp: Arc<dyn Totp>,
    pub passkeys: Arc<dyn PasskeyVerifier>,
    /// What this node knows of the tenants' authorization epochs.
    pub epochs: Arc<dyn EpochCache>,
}

/// Tessera's use cases.
#[derive(Clone)]
pub struct App {
    pub(crate) ports: Ports,
    /// The public base URL; the issuer of tenant `t` is `{public_url}/t/{t}`.
    pub(crate) public_url: Arc<str>,
    pub(crate) keyring: Arc<crate::auth::keyring::Keyring>,
    /// Compiled permission graphs and policy engines of this process, per tenant epoch.
    pub(crate) authz: Arc<tessera_authz::Caches>,
}

impl App {
    pub fn new(ports: Ports) -> Self {
        Self {
            ports,
            public_url: Arc::from("http://127.0.0.1:8080"),
            keyring: Arc::default(),
            authz: Arc::new(tessera_authz::Caches::new(100_000)),
        }
    }

    /// The same application, answering under `public_url` (known once the server is bound).
    #[must_use]
    pub fn with_public_url(mut self, public_url: &str) -> Self {
        self.public_url = Arc::from(public_url.trim_end_matches('/'));
        self
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The issuer of a tenant's tokens.
    pub fn issuer(&self, tenant: &Tenant) -> String {
        format!("{}/t/{}", self.public_url, tenant.slug)
    }

    /// The current time at the precision every store keeps (microseconds), so that what a
    /// write returns equals what a later read returns.
    pub(crate) fn now(&self) -> time::OffsetDateTime {
        tessera_domain::audit::truncate_to_micros(self.ports.clock.now())
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.ports.store.as_ref()
    }

    pub fn sealer(&self) -> &dyn SecretSealer {
        self.ports.sealer.as_ref()
    }

    /// Whether the database answers (readiness).
    pub async fn ready(&self) -> Result<(), Error> {
        self.store().ping().await.map_err(store_err("database"))
    }

    /// An audit draft for `tenant`, by the caller of `ctx`.
    pub(crate) fn draft(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        action: &str,
        subject: (&str, String),
        changes: Vec<tessera_domain::audit::FieldChange>,
    ) -> AuditDraft {
        AuditDraft {
            id: AuditEventId::from_uuid(self.ports.random.new_id()),
            at: self.now(),
            tenant_id: tenant.id,
            actor: ctx.principal.actor(),
            action: action.to_owned(),
            subject_kind: Some(subject.0.to_owned()),
            subject_id: Some(subject.1),
            outcome: Outcome::Success,
            origin: ctx.origin.clone(),
            changes,
        }
    }

    /// A journal with one event describing the change from `before` to `after`.
    pub(crate) fn journal<T: Serialize>(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        action: &str,
        subject: (&str, String),
        before: Option<&T>,
        after: Option<&T>,
    ) -> Journal {
        let changes = changes::diff(before, after, tenant.settings.mask_pii_in_audit);
        Journal::one(self.draft(ctx, tenant, action, subject, changes))
    }

    /// Records a refused request in the tenant's trail and returns the refusal.
    pub(crate) async fn refused(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        action: &str,
        err: Error,
    ) -> Error {
        if matches!(err, Error::Forbidden(_)) {
            let mut draft = self.draft(
                ctx,
                tenant,
                action,
                ("tenant", tenant.id.to_string()),
                vec![],
            );
            draft.outcome = Outcome::Failure;
            // A failed audit of a refusal must not hide the refusal itself.
            if let Err(e) = self.store().append(&Journal::one(draft)).await {
                tracing::warn!(error = %e, action, "could not record a refused request in the audit trail");
            }
        }
        err
    }
}
