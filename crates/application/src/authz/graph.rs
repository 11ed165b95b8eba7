//! The compiled permission graph of a user, and the tenant's policy engine, found through
//! three tiers: typed in this process (keyed by the tenant's epoch, so never stale), the
//! shared cache (Redis, read-aside, keyed the same way), and the database. The epoch itself
//! comes from the [`EpochCache`](tessera_domain::ports::EpochCache), which answers only when
//! it can vouch that it is current; otherwise the database is asked. Authorization never
//! fails open: any store failure is an error, never an "allow".

use crate::app::App;
use crate::error::{Error, store_err};
use std::sync::Arc;
use tessera_authz::{Engine, Subject};
use tessera_domain::authz::{PermissionGraph, TenantModel};
use tessera_domain::user::User;
use tessera_domain::{TenantId, UserId};

fn graph_key(tenant: TenantId, epoch: i64, user: UserId) -> String {
    format!("v1:authz:graph:{tenant}:{epoch}:{user}")
}

fn model_key(tenant: TenantId, epoch: i64) -> String {
    format!("v1:authz:model:{tenant}:{epoch}")
}

impl App {
    /// The tenant's current authorization epoch.
    pub(crate) async fn authz_epoch(&self, tenant: TenantId) -> Result<i64, Error> {
        if let Some(epoch) = self.ports.epochs.current(tenant).await {
            return Ok(epoch);
        }
        let epoch = self
            .store()
            .authz_epoch(tenant)
            .await
            .map_err(store_err("authorization epoch"))?;
        self.ports.epochs.seen(tenant, epoch, false).await;
        Ok(epoch)
    }

    /// Tells this node and every other that the tenant's model changed (called right after a
    /// change marked `changing_authz` commits).
    pub(crate) async fn authz_changed(&self, tenant: TenantId) {
        match self.store().authz_epoch(tenant).await {
            Ok(epoch) => self.ports.epochs.seen(tenant, epoch, true).await,
            // The next reader finds the new epoch in the database anyway, once the old one
            // ages out of the epoch cache; say so.
            Err(e) => tracing::warn!(error = %e, "could not read the new authorization epoch"),
        }
    }

    /// The tenant's model at `epoch` (shared cache, then database).
    pub(crate) async fn tenant_model(
        &self,
        tenant: TenantId,
        epoch: i64,
    ) -> Result<TenantModel, Error> {
        let key = model_key(tenant, epoch);
        if let Some(bytes) = self.ports.cache.get(&key).await
            && let Ok(model) = serde_json::from_slice::<TenantModel>(&bytes)
        {
            return Ok(model);
        }
        let model = self
            .store()
            .tenant_model(tenant)
            .await
            .map_err(store_err("authorization model"))?;
        if let Ok(bytes) = serde_json::to_vec(&model) {
            self.ports.cache.put(&key, &bytes).await;
        }
        Ok(model)
    }

    /// The tenant's policy engine at `epoch`.
    pub(crate) async fn engine(&self, tenant: TenantId, epoch: i64) -> Result<Arc<Engine>, Error> {
        if let Some(engine) = self.authz.engine(tenant, epoch) {
            return Ok(engine);
        }
        let model = self.tenant_model(tenant, epoch).await?;
        let engine = Engine::build(
            &model.resource_types,
            model.policies.as_ref().map(|p| p.text.as_str()),
        )
        .map_err(|e| {
            // Saved policies validated when they were saved; a failure now means the model
            // changed under them (a resource type removed). Fail closed, loudly.
            Error::Unexpected(anyhow::anyhow!(
                "the stored policy set no longer validates: {}",
                e.message
            ))
        })?;
        let engine = Arc::new(engine);
        self.authz.put_engine(tenant, epoch, engine.clone());
        Ok(engine)
    }

    /// The user's compiled permission graph at the tenant's current epoch; `None` when the
    /// user does not exist in the tenant. A user's state changes advance the epoch, so a
    /// cached graph's state is current.
    pub(crate) async fn permission_graph(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<Arc<PermissionGraph>>, Error> {
        let epoch = self.authz_epoch(tenant).await?;
        if let Some(graph) = self.authz.graph(tenant, user, epoch) {
            return Ok(Some(graph));
        }
        let key = graph_key(tenant, epoch, user);
        if let Some(bytes) = self.ports.cache.get(&key).await
            && let Ok(graph) = serde_json::from_slice::<PermissionGraph>(&bytes)
        {
            let graph = Arc::new(graph);
            self.authz.put_graph(graph.clone());
            return Ok(Some(graph));
        }
        let Some(user) = self
            .store()
            .user(tenant, user)
            .await
            .map_err(store_err("user"))?
        else {
            return Ok(None);
        };
        let graph = Arc::new(self.compile_graph(tenant, &user, epoch).await?);
        if let Ok(bytes) = serde_json::to_vec(graph.as_ref()) {
            self.ports.cache.put(&key, &bytes).await;
        }
        self.authz.put_graph(graph.clone());
        Ok(Some(graph))
    }

    /// Compiles a graph from the database, bypassing every cache.
    pub(crate) async fn compile_graph(
        &self,
        tenant: TenantId,
        user: &User,
        epoch: i64,
    ) -> Result<PermissionGraph, Error> {
        let model = self.tenant_model(tenant, epoch).await?;
        self.compile_with(&model, tenant, user, epoch).await
    }

    /// Compiles a graph against a given model (the stored one, or a proposed one).
    pub(crate) async fn compile_with(
        &self,
        model: &TenantModel,
        tenant: TenantId,
        user: &User,
        epoch: i64,
    ) -> Result<PermissionGraph, Error> {
        let store = self.store();
        let assignments = store
            .user_roles(tenant, user.id)
            .await
            .map_err(store_err("role"))?;
        let templates = store
            .user_templates(tenant, user.id)
            .await
            .map_err(store_err("template"))?;
        Ok(tessera_authz::compile(
            model,
            &Subject {
                tenant,
                id: user.id,
                state: user.state,
            },
            &assignments,
            &templates,
            epoch,
        ))
    }
}
