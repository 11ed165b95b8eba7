//! Per-tenant signing keys: created on first use, rotated by command or schedule, cached in
//! this process (private keys opened once) and reloaded when stale or when a token names a
//! key this node has not seen yet (another node rotated).

use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use tessera_domain::TenantId;
use tessera_domain::api_key::Scope;
use tessera_domain::ports::{Journal, StoreError, VerifyingKey};
use tessera_domain::tenant::Tenant;
use tessera_domain::token::{SigningAlgorithm, SigningKey, retired_key_grace};
use time::{Duration, OffsetDateTime};

/// How long a node trusts its copy of a tenant's keys.
const FRESH_FOR: Duration = Duration::seconds(30);
/// A token naming an unknown key reloads the keys at most this often.
const RELOAD_AT_MOST_EVERY: Duration = Duration::seconds(2);

/// The current private key, opened.
pub(crate) struct CurrentKey {
    pub kid: String,
    pub alg: SigningAlgorithm,
    pub private_pkcs8: Vec<u8>,
}

pub(crate) struct TenantKeys {
    loaded_at: OffsetDateTime,
    pub current: Option<CurrentKey>,
    pub verifying: Vec<VerifyingKey>,
    /// The JWKS document's `keys`.
    pub published: Vec<serde_json::Value>,
}

/// The node's copy of every tenant's keys.
#[derive(Default)]
pub(crate) struct Keyring {
    tenants: RwLock<HashMap<TenantId, Arc<TenantKeys>>>,
}

impl Keyring {
    fn get(&self, tenant: TenantId) -> Option<Arc<TenantKeys>> {
        self.tenants.read().ok()?.get(&tenant).cloned()
    }
    fn put(&self, tenant: TenantId, keys: Arc<TenantKeys>) {
        if let Ok(mut map) = self.tenants.write() {
            map.insert(tenant, keys);
        }
    }
    fn forget(&self, tenant: TenantId) {
        if let Ok(mut map) = self.tenants.write() {
            map.remove(&tenant);
        }
    }
}

/// What `GET /api/v1/tenants/{t}/signing-keys` shows (never the private half).
#[derive(Clone, Debug)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub alg: SigningAlgorithm,
    pub created_at: OffsetDateTime,
    pub retired_at: Option<OffsetDateTime>,
    pub publish_until: Option<OffsetDateTime>,
    pub current: bool,
}

impl App {
    async fn load_keys(&self, tenant: &Tenant) -> Result<Arc<TenantKeys>, Error> {
        let now = self.now();
        let keys = self
            .store()
            .signing_keys(tenant.id)
            .await
            .map_err(store_err("signing key"))?;
        let mut current = None;
        let mut verifying = Vec::new();
        let mut published = Vec::new();
        for key in keys.iter().filter(|k| k.is_published(now)) {
            if key.is_current() && current.is_none() {
                let private_pkcs8 = self
                    .ports
                    .sealer
                    .open(
                        &key.private_sealed,
                        &SigningKey::seal_context(tenant.id, &key.kid),
                    )
                    .map_err(|e| {
                        Error::Unexpected(anyhow::anyhow!(
                            "cannot open signing key {} of tenant {}: {e} (was the master key changed?)",
                            key.kid,
                            tenant.slug
                        ))
                    })?;
                current = Some(CurrentKey {
                    kid: key.kid.clone(),
                    alg: key.alg,
                    private_pkcs8,
                });
            }
            verifying.push(VerifyingKey {
                kid: key.kid.clone(),
                alg: key.alg,
                public_jwk: key.public_jwk.clone(),
            });
            published.push(key.public_jwk.clone());
        }
        let loaded = Arc::new(TenantKeys {
            loaded_at: now,
            current,
            verifying,
            published,
        });
        self.keyring.put(tenant.id, loaded.clone());
        Ok(loaded)
    }

    /// The tenant's keys as this node knows them (reloaded when stale).
    pub(crate) async fn tenant_keys(&self, tenant: &Tenant) -> Result<Arc<TenantKeys>, Error> {
        match self.keyring.get(tenant.id) {
            Some(k) if self.now() - k.loaded_at < FRESH_FOR => Ok(k),
            _ => self.load_keys(tenant).await,
        }
    }

    /// The verifying key named `kid`, reloading once if this node has not seen it.
    pub(crate) async fn verifying_key(
        &self,
        tenant: &Tenant,
        kid: &str,
    ) -> Result<Option<VerifyingKey>, Error> {
        let keys = self.tenant_keys(tenant).await?;
        if let Some(k) = keys.verifying.iter().find(|k| k.kid == kid) {
            return Ok(Some(k.clone()));
        }
        if self.now() - keys.loaded_at < RELOAD_AT_MOST_EVERY {
            return Ok(None);
        }
        let keys = self.load_keys(tenant).await?;
        Ok(keys.verifying.iter().find(|k| k.kid == kid).cloned())
    }

    fn new_signing_key(&self, tenant: &Tenant) -> Result<SigningKey, Error> {
        let alg = tenant.settings.auth.tokens.signing_alg;
        let generated = self
            .ports
            .signer
            .generate(alg)
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("key generation failed: {e}")))?;
        let kid = self.ports.random.new_id().simple().to_string();
        let mut jwk = generated.public_jwk;
        if let Some(obj) = jwk.as_object_mut() {
            obj.insert("kid".into(), kid.clone().into());
            obj.insert("alg".into(), alg.as_str().into());
            obj.insert("use".into(), "sig".into());
        }
        let private_sealed = self
            .ports
            .sealer
            .seal(
                &generated.private_pkcs8,
                &SigningKey::seal_context(tenant.id, &kid),
            )
            .map_err(|e| Error::Unexpected(anyhow::anyhow!("sealing a signing key: {e}")))?;
        Ok(SigningKey {
            tenant_id: tenant.id,
            kid,
            alg,
            public_jwk: jwk,
            private_sealed,
            created_at: self.now(),
            retired_at: None,
            publish_until: None,
        })
    }

    /// The key that signs now; the tenant's first key is created on first use.
    pub(crate) async fn signing_key(&self, tenant: &Tenant) -> Result<Arc<TenantKeys>, Error> {
        let keys = self.tenant_keys(tenant).await?;
        if keys.current.is_some() {
            return Ok(keys);
        }
        let key = self.new_signing_key(tenant)?;
        let journal = Journal::one(self.draft(
            &RequestContext::system(),
            tenant,
            "signing_key.created",
            ("signing_key", key.kid.clone()),
            vec![],
        ));
        match self.store().add_signing_key(&key, None, &journal).await {
            // Another node created it first: use theirs.
            Ok(()) | Err(StoreError::Conflict) => {}
            Err(e) => return Err(Error::from_store(e, "signing key")),
        }
        self.load_keys(tenant).await
    }

    /// Replaces the tenant's current key; the old one stays published until every token it
    /// signed has expired. Returns the new key id.
    pub(crate) async fn rotate_keys_of(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
    ) -> Result<String, Error> {
        let keys = self.load_keys(tenant).await?;
        let retire = keys.current.as_ref().map(|c| c.kid.clone());
        let key = self.new_signing_key(tenant)?;
        let publish_until = key.created_at + retired_key_grace();
        let journal = Journal::one(self.draft(
            ctx,
            tenant,
            "signing_key.rotated",
            ("signing_key", key.kid.clone()),
            vec![tessera_domain::audit::FieldChange {
                field: "retired_kid".into(),
                before: serde_json::Value::Null,
                after: retire.clone().map_or(serde_json::Value::Null, Into::into),
            }],
        ));
        self.store()
            .add_signing_key(
                &key,
                retire.as_deref().map(|kid| (kid, publish_until)),
                &journal,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict => Error::Conflict {
                    code: "concurrent_rotation",
                    message: "the keys were rotated by another request; read them again".to_owned(),
                },
                other => Error::from_store(other, "signing key"),
            })?;
        let pruned = self
            .store()
            .prune_signing_keys(tenant.id, self.now())
            .await
            .map_err(store_err("signing key"))?;
        if pruned > 0 {
            tracing::info!(tenant = %tenant.slug, pruned, "removed signing keys no longer published");
        }
        self.keyring.forget(tenant.id);
        Ok(key.kid)
    }

    /// `tessera keys rotate` and `POST /api/v1/tenants/{t}/signing-keys/rotate`.
    pub async fn rotate_signing_keys(
        &self,
        ctx: &RequestContext,
        slug: &str,
    ) -> Result<String, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::TenantsWrite, "signing_key.rotated")
            .await?;
        self.rotate_keys_of(ctx, &tenant).await
    }

    pub async fn list_signing_keys(
        &self,
        ctx: &RequestContext,
        slug: &str,
    ) -> Result<Vec<SigningKeyInfo>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::TenantsRead, "signing_key.listed")
            .await?;
        let keys = self
            .store()
            .signing_keys(tenant.id)
            .await
            .map_err(store_err("signing key"))?;
        Ok(keys
            .into_iter()
            .map(|k| SigningKeyInfo {
                current: k.is_current(),
                kid: k.kid,
                alg: k.alg,
                created_at: k.created_at,
                retired_at: k.retired_at,
                publish_until: k.publish_until,
            })
            .collect())
    }

    /// The JWKS document of a tenant (`/t/{t}/oauth2/jwks`): current and previous keys.
    pub async fn jwks(&self, slug: &str) -> Result<serde_json::Value, Error> {
        let tenant = self.active_tenant(slug).await?;
        let keys = self.signing_key(&tenant).await?;
        Ok(serde_json::json!({ "keys": keys.published }))
    }

    /// Scheduled rotation: every active tenant whose current key is older than its policy's
    /// `key_rotation_days` gets a new one. Returns the slugs rotated.
    pub async fn rotate_due_keys(&self) -> Result<Vec<String>, Error> {
        let mut rotated = Vec::new();
        let mut after = None;
        loop {
            let page = self
                .store()
                .list_tenants(after.as_ref(), 200)
                .await
                .map_err(store_err("tenant"))?;
            for tenant in &page.items {
                let max_age =
                    Duration::days(i64::from(tenant.settings.auth.tokens.key_rotation_days));
                let keys = self
                    .store()
                    .signing_keys(tenant.id)
                    .await
                    .map_err(store_err("signing key"))?;
                let due = keys
                    .iter()
                    .find(|k| k.is_current())
                    .is_some_and(|k| self.now() - k.created_at >= max_age);
                if due {
                    match self.rotate_keys_of(&RequestContext::system(), tenant).await {
                        Ok(_) => rotated.push(tenant.slug.to_string()),
                        // Another node rotated it in the meantime.
                        Err(Error::Conflict { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        Ok(rotated)
    }
}
