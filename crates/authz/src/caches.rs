//! Typed in-process caches of compiled graphs and engines. Both are immutable for a tenant
//! epoch (the epoch is part of the key), so nothing is ever invalidated: entries of older
//! epochs stop being asked for and leave by idleness or size.

use crate::engine::Engine;
use moka::sync::Cache;
use std::sync::Arc;
use std::time::Duration;
use tessera_domain::authz::PermissionGraph;
use tessera_domain::{TenantId, UserId};

/// How long an entry that nobody reads stays.
const TIME_TO_IDLE: Duration = Duration::from_secs(10 * 60);
/// The most engines kept (one per tenant in use; each holds a policy set and schema).
const MAX_ENGINES: u64 = 256;

/// Compiled permission graphs per (tenant, user, epoch) and engines per (tenant, epoch).
#[derive(Clone)]
pub struct Caches {
    graphs: Cache<(TenantId, UserId, i64), Arc<PermissionGraph>>,
    engines: Cache<(TenantId, i64), Arc<Engine>>,
}

impl std::fmt::Debug for Caches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caches")
            .field("graphs", &self.graphs.entry_count())
            .field("engines", &self.engines.entry_count())
            .finish()
    }
}

impl Caches {
    /// Caches holding at most `max_graphs` graphs (and at most 256 engines); an entry not
    /// read for 10 minutes leaves.
    pub fn new(max_graphs: u64) -> Self {
        Self {
            graphs: Cache::builder()
                .max_capacity(max_graphs)
                .time_to_idle(TIME_TO_IDLE)
                .build(),
            engines: Cache::builder()
                .max_capacity(MAX_ENGINES)
                .time_to_idle(TIME_TO_IDLE)
                .build(),
        }
    }

    /// The graph of `user` compiled at `epoch`, if cached.
    pub fn graph(
        &self,
        tenant: TenantId,
        user: UserId,
        epoch: i64,
    ) -> Option<Arc<PermissionGraph>> {
        self.graphs.get(&(tenant, user, epoch))
    }

    /// Caches a graph under its own tenant, user and epoch.
    pub fn put_graph(&self, g: Arc<PermissionGraph>) {
        self.graphs.insert((g.tenant_id, g.user_id, g.epoch), g);
    }

    /// The engine of `tenant` built at `epoch`, if cached.
    pub fn engine(&self, tenant: TenantId, epoch: i64) -> Option<Arc<Engine>> {
        self.engines.get(&(tenant, epoch))
    }

    pub fn put_engine(&self, tenant: TenantId, epoch: i64, e: Arc<Engine>) {
        self.engines.insert((tenant, epoch), e);
    }
}
