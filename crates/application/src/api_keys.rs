//! Admin API keys: creation (the secret is shown once), authentication of a presented key,
//! listing and revocation.
//!
//! Key format: `tsk_<tenant id, 32 hex>_<secret, 43 base64url chars>`. The tenant part lets the
//! lookup run inside the tenant (row-level security); only the SHA-256 of the whole key is
//! stored. Keys are 256-bit random, so a fast hash is enough (no password hashing needed).

use crate::app::App;
use crate::context::{Principal, RequestContext};
use crate::error::{AuthFailure, Error, store_err};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use tessera_domain::api_key::{ApiKey, KeyRejection, Scope};
use tessera_domain::paging::{Cursor, Page};
use tessera_domain::tenant::TenantState;
use tessera_domain::{ApiKeyId, TenantId, ValidationError};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

const PREFIX: &str = "tsk_";
const SECRET_BYTES: usize = 32;
/// A key's last-used time is written at most this often (a write per request would make every
/// authenticated read a write).
const TOUCH_INTERVAL: Duration = Duration::seconds(60);
/// Keys created without an explicit expiry live this long: a key always expires.
pub const DEFAULT_KEY_LIFETIME: Duration = Duration::days(90);
/// The longest lifetime a key may be given.
pub const MAX_KEY_LIFETIME: Duration = Duration::days(366);

/// A key to create.
#[derive(Clone, Debug)]
pub struct NewApiKey {
    pub name: String,
    pub scopes: Vec<Scope>,
    /// `None`: [`DEFAULT_KEY_LIFETIME`] from now.
    pub expires_at: Option<OffsetDateTime>,
}

/// A created key: `secret` is shown once and never stored.
#[derive(Clone, Debug)]
pub struct ApiKeyCreated {
    pub key: ApiKey,
    pub secret: String,
}

pub(crate) fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Splits a presented key into its tenant and checks its shape.
fn parse_presented(raw: &str) -> Result<TenantId, AuthFailure> {
    let rest = raw.strip_prefix(PREFIX).ok_or(AuthFailure::Malformed)?;
    let (tenant, secret) = rest.split_once('_').ok_or(AuthFailure::Malformed)?;
    if tenant.len() != 32 || secret.len() != 43 {
        return Err(AuthFailure::Malformed);
    }
    let tenant = Uuid::try_parse(tenant).map_err(|_| AuthFailure::Malformed)?;
    Ok(TenantId::from_uuid(tenant))
}

impl App {
    /// Mints a key for `tenant` (no authorization check: callers check first).
    pub(crate) fn mint_api_key(
        &self,
        tenant: TenantId,
        new: NewApiKey,
    ) -> Result<ApiKeyCreated, Error> {
        let name = crate::tenants::parse_display_name("name", &new.name)?;
        if new.scopes.is_empty() {
            return Err(Error::invalid(ValidationError::new(
                "scopes",
                "invalid_scope",
                "a key needs at least one scope",
            )));
        }
        let now = self.now();
        let expires_at = new.expires_at.unwrap_or(now + DEFAULT_KEY_LIFETIME);
        if expires_at <= now || expires_at - now > MAX_KEY_LIFETIME {
            return Err(Error::invalid(ValidationError::new(
                "expires_at",
                "invalid_expiry",
                "expires_at must be in the future and at most 366 days away",
            )));
        }
        let mut scopes = new.scopes;
        scopes.sort();
        scopes.dedup();
        let secret = format!(
            "{PREFIX}{}_{}",
            tenant.as_uuid().simple(),
            URL_SAFE_NO_PAD.encode(self.ports.random.secret_bytes(SECRET_BYTES))
        );
        let key = ApiKey {
            id: ApiKeyId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant,
            name,
            secret_hash: hash_secret(&secret),
            scopes,
            created_by: None,
            created_at: now,
            expires_at: Some(expires_at),
            revoked_at: None,
            last_used_at: None,
        };
        Ok(ApiKeyCreated { key, secret })
    }

    pub async fn create_api_key(
        &self,
        ctx: &RequestContext,
        slug: &str,
        new: NewApiKey,
    ) -> Result<ApiKeyCreated, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::ApiKeysManage, "api_key.created")
            .await?;
        // A key cannot hand out more than its creator holds.
        if let Principal::ApiKey { scopes, .. } = &ctx.principal
            && let Some(s) = new
                .scopes
                .iter()
                .find(|w| !scopes.iter().any(|h| h.grants(**w)))
        {
            let e = Error::Forbidden(format!(
                "cannot grant the scope `{s}`, which this key does not hold"
            ));
            return Err(self.refused(ctx, &tenant, "api_key.created", e).await);
        }
        if new
            .scopes
            .iter()
            .any(|s| matches!(s, Scope::TenantsRead | Scope::TenantsWrite))
            && !tenant.slug.is_system()
        {
            return Err(Error::invalid(ValidationError::new(
                "scopes",
                "invalid_scope",
                "tenants:* scopes exist only on keys of the operator tenant",
            )));
        }
        let created = self.mint_api_key(tenant.id, new)?;
        let journal = self.journal(
            ctx,
            &tenant,
            "api_key.created",
            ("api_key", created.key.id.to_string()),
            None,
            Some(&created.key),
        );
        self.store()
            .insert_api_key(&created.key, &journal)
            .await
            .map_err(store_err("api key"))?;
        Ok(created)
    }

    pub async fn list_api_keys(
        &self,
        ctx: &RequestContext,
        slug: &str,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Page<ApiKey>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::ApiKeysManage, "api_key.listed")
            .await?;
        self.store()
            .list_api_keys(tenant.id, after.as_ref(), limit)
            .await
            .map_err(store_err("api key"))
    }

    pub async fn revoke_api_key(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: ApiKeyId,
    ) -> Result<ApiKey, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::ApiKeysManage, "api_key.revoked")
            .await?;
        let before = self
            .store()
            .api_key(tenant.id, id)
            .await
            .map_err(store_err("api key"))?
            .ok_or(Error::NotFound("api key"))?;
        let now = self.now();
        let mut after = before.clone();
        after.revoked_at = Some(now);
        let journal = self.journal(
            ctx,
            &tenant,
            "api_key.revoked",
            ("api_key", id.to_string()),
            Some(&before),
            Some(&after),
        );
        self.store()
            .revoke_api_key(tenant.id, id, now, &journal)
            .await
            .map_err(store_err("api key"))?;
        self.forget_api_key(&after).await;
        Ok(after)
    }

    /// Authenticates a presented bearer key.
    pub async fn authenticate_api_key(&self, presented: &str) -> Result<Principal, Error> {
        let tenant_id = parse_presented(presented).map_err(Error::Unauthenticated)?;
        let tenant = self
            .tenant_by_id(tenant_id)
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::Unknown))?;
        let key = self
            .api_key_by_hash(tenant_id, &hash_secret(presented))
            .await?
            .ok_or(Error::Unauthenticated(AuthFailure::Unknown))?;
        let now = self.now();
        key.usable_at(now).map_err(|r| {
            Error::Unauthenticated(match r {
                KeyRejection::Expired => AuthFailure::Expired,
                KeyRejection::Revoked => AuthFailure::Revoked,
            })
        })?;
        let operator = tenant.slug.is_system();
        if !operator && tenant.state == TenantState::Disabled {
            return Err(Error::Forbidden(format!(
                "the tenant `{}` is disabled",
                tenant.slug
            )));
        }
        if key.last_used_at.is_none_or(|t| now - t >= TOUCH_INTERVAL) {
            // Best effort: failing to record the use must not fail the request.
            match self.store().touch_api_key(tenant_id, key.id, now).await {
                Ok(()) => self.forget_api_key(&key).await,
                Err(e) => tracing::warn!(error = %e, "could not record the last use of an API key"),
            }
        }
        Ok(Principal::ApiKey {
            id: key.id,
            tenant_id,
            operator,
            scopes: key.scopes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presented_keys_are_checked_for_shape() {
        let tenant = Uuid::from_u128(1).simple().to_string();
        let good = format!("tsk_{tenant}_{}", "a".repeat(43));
        assert!(parse_presented(&good).is_ok());
        for bad in [
            "",
            "tsk_",
            "Bearer x",
            &format!("tsk_{tenant}"),
            &format!("tsk_{}_{}", "z".repeat(32), "a".repeat(43)),
            &format!("tsk_{tenant}_{}", "a".repeat(42)),
        ] {
            assert_eq!(parse_presented(bad), Err(AuthFailure::Malformed), "{bad}");
        }
    }
}
