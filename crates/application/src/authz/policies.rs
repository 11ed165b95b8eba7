//! The tenant's Cedar policy set: every version kept, the newest in force. A text that does
//! not parse or validate against the tenant's schema is refused with Cedar's own message and
//! nothing is saved.

use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_authz::Engine;
use tessera_domain::ValidationError;
use tessera_domain::api_key::Scope;
use tessera_domain::authz::{PolicySet, ResourceType};
use tessera_domain::ports::StoreError;

/// Checks that `text` (if any) parses and validates against the schema of `types`.
pub(crate) fn check_policies(types: &[ResourceType], text: Option<&str>) -> Result<(), Error> {
    if let Some(text) = text {
        PolicySet::check_size(text).map_err(Error::invalid)?;
    }
    Engine::build(types, text).map(|_| ()).map_err(|e| {
        Error::invalid(ValidationError::new(
            "policies",
            "invalid_policy",
            e.message,
        ))
    })
}

impl App {
    /// Every version, newest first.
    pub async fn policy_versions(
        &self,
        ctx: &RequestContext,
        slug: &str,
    ) -> Result<Vec<PolicySet>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::PoliciesRead, "policy.listed")
            .await?;
        self.store()
            .policy_sets(tenant.id)
            .await
            .map_err(store_err("policy set"))
    }

    pub async fn policy_version(
        &self,
        ctx: &RequestContext,
        slug: &str,
        version: i64,
    ) -> Result<PolicySet, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::PoliciesRead, "policy.read")
            .await?;
        self.store()
            .policy_set(tenant.id, version)
            .await
            .map_err(store_err("policy set"))?
            .ok_or(Error::NotFound("policy set"))
    }

    /// The Cedar schema policies are validated against (human-readable Cedar syntax).
    pub async fn policy_schema(&self, ctx: &RequestContext, slug: &str) -> Result<String, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::PoliciesRead, "policy.schema_read")
            .await?;
        let model = self.model_for_update(&tenant).await?;
        Engine::schema_text(&model.resource_types)
            .map_err(|e| Error::Unexpected(anyhow::anyhow!(e.message)))
    }

    /// Saves a new version. `expected` (the version the caller edited) guards against
    /// overwriting a concurrent change.
    pub async fn save_policies(
        &self,
        ctx: &RequestContext,
        slug: &str,
        text: String,
        comment: String,
        expected: Option<i64>,
    ) -> Result<PolicySet, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::PoliciesWrite, "policy.saved")
            .await?;
        if comment.chars().count() > 500 {
            return Err(Error::invalid(ValidationError::new(
                "comment",
                "too_long",
                "a comment has at most 500 characters",
            )));
        }
        let model = self.model_for_update(&tenant).await?;
        check_policies(&model.resource_types, Some(&text))?;
        let current = model.policies.as_ref().map_or(0, |p| p.version);
        if let Some(v) = expected
            && v != current
        {
            return Err(Error::Conflict {
                code: "precondition_failed",
                message: format!("the policies are at version {current}, not {v}"),
            });
        }
        let set = PolicySet {
            tenant_id: tenant.id,
            version: current + 1,
            text,
            comment,
            created_at: self.now(),
            created_by: actor_label(ctx),
        };
        // The trail names the versions (the texts are kept in the versions themselves).
        let journal = tessera_domain::ports::Journal::one(self.draft(
            ctx,
            &tenant,
            "policy.saved",
            ("policy_set", set.version.to_string()),
            vec![tessera_domain::audit::FieldChange {
                field: "version".into(),
                before: model.policies.as_ref().map(|p| p.version).into(),
                after: set.version.into(),
            }],
        ))
        .changing_authz();
        match self.store().insert_policy_set(&set, &journal).await {
            Ok(()) => {}
            Err(StoreError::Conflict) => {
                return Err(Error::Conflict {
                    code: "precondition_failed",
                    message: "the policies changed meanwhile: reload them and try again".to_owned(),
                });
            }
            Err(e) => return Err(Error::from_store(e, "policy set")),
        }
        self.authz_changed(tenant.id).await;
        Ok(set)
    }
}

/// Who saved a version, as `kind:id` (`user:…`, `api_key:…`, `cli`).
fn actor_label(ctx: &RequestContext) -> Option<String> {
    let actor = ctx.principal.actor();
    let kind = actor.kind.as_str();
    Some(match actor.id {
        Some(id) => format!("{kind}:{id}"),
        None => kind.to_owned(),
    })
}

impl App {
    /// The newest sampled decisions (for support and simulation).
    pub async fn recent_decisions(
        &self,
        ctx: &RequestContext,
        slug: &str,
        limit: u32,
    ) -> Result<Vec<tessera_domain::authz::DecisionRecord>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::PoliciesRead, "decision.listed")
            .await?;
        self.store()
            .recent_decisions(tenant.id, limit.clamp(1, 1_000))
            .await
            .map_err(store_err("decision log"))
    }
}
