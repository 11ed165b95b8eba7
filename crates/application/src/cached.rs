//! Read-through caching of what nearly every request looks up: the tenant (by slug and by id)
//! and the presented API key. Values are invalidated right after each change commits; the
//! cache's time to live bounds staleness should an invalidation be lost (see
//! docs/architecture.md). A cache failure is a miss, never an error.

use crate::app::App;
use crate::error::{Error, store_err};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tessera_domain::TenantId;
use tessera_domain::api_key::ApiKey;
use tessera_domain::tenant::{Tenant, TenantSlug};

fn slug_key(slug: &TenantSlug) -> String {
    format!("v1:tenant:slug:{slug}")
}

fn id_key(id: TenantId) -> String {
    format!("v1:tenant:id:{id}")
}

fn api_key_key(tenant: TenantId, secret_hash: &str) -> String {
    format!("v1:api_key:{tenant}:{secret_hash}")
}

impl App {
    async fn cached<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let bytes = self.ports.cache.get(key).await?;
        serde_json::from_slice(&bytes).ok()
    }

    async fn remember<T: Serialize>(&self, key: &str, value: &T) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.ports.cache.put(key, &bytes).await;
        }
    }

    /// A tenant by slug, read from the database (never the cache): for changes, which must
    /// start from the current version.
    pub(crate) async fn tenant_for_update(&self, slug: &str) -> Result<Tenant, Error> {
        let slug = TenantSlug::parse_unreserved(slug).map_err(|_| Error::NotFound("tenant"))?;
        self.store()
            .tenant_by_slug(&slug)
            .await
            .map_err(store_err("tenant"))?
            .ok_or(Error::NotFound("tenant"))
    }

    /// A tenant by slug (any state); `NotFound` for a slug that is not even well formed.
    pub(crate) async fn tenant(&self, slug: &str) -> Result<Tenant, Error> {
        let slug = TenantSlug::parse_unreserved(slug).map_err(|_| Error::NotFound("tenant"))?;
        let key = slug_key(&slug);
        if let Some(tenant) = self.cached::<Tenant>(&key).await {
            return Ok(tenant);
        }
        let tenant = self
            .store()
            .tenant_by_slug(&slug)
            .await
            .map_err(store_err("tenant"))?
            .ok_or(Error::NotFound("tenant"))?;
        self.remember(&key, &tenant).await;
        Ok(tenant)
    }

    pub(crate) async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, Error> {
        let key = id_key(id);
        if let Some(tenant) = self.cached::<Tenant>(&key).await {
            return Ok(Some(tenant));
        }
        let tenant = self
            .store()
            .tenant_by_id(id)
            .await
            .map_err(store_err("tenant"))?;
        if let Some(t) = &tenant {
            self.remember(&key, t).await;
        }
        Ok(tenant)
    }

    /// Call after a tenant change has committed.
    pub(crate) async fn forget_tenant(&self, tenant: &Tenant) {
        self.ports.cache.invalidate(&slug_key(&tenant.slug)).await;
        self.ports.cache.invalidate(&id_key(tenant.id)).await;
    }

    pub(crate) async fn api_key_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<ApiKey>, Error> {
        let key = api_key_key(tenant, secret_hash);
        if let Some(k) = self.cached::<ApiKey>(&key).await {
            return Ok(Some(k));
        }
        let found = self
            .store()
            .api_key_by_hash(tenant, secret_hash)
            .await
            .map_err(store_err("api key"))?;
        if let Some(k) = &found {
            self.remember(&key, k).await;
        }
        Ok(found)
    }

    /// Call after a key changed (revoked, or its last use recorded). The entry is dropped
    /// rather than rewritten: a rewrite could put back a copy read before a concurrent
    /// revocation; the next request reads the key from the database instead.
    pub(crate) async fn forget_api_key(&self, key: &ApiKey) {
        self.ports
            .cache
            .invalidate(&api_key_key(key.tenant_id, &key.secret_hash))
            .await;
    }
}
