//! The tenant's menu, filtered for the caller: the menus the templates carry, merged by item
//! key (in template key order), each item shown when the caller holds every permission it
//! requires (in any scope).

use crate::app::App;
use crate::auth::sessions::SignedIn;
use crate::error::Error;
use tessera_domain::authz::{MenuItem, Permission, visible_menu};

/// Merges `more` into `into`: items with a known key merge their children; new keys append.
fn merge(into: &mut Vec<MenuItem>, more: &[MenuItem]) {
    for item in more {
        match into.iter_mut().find(|i| i.key == item.key) {
            Some(existing) => merge(&mut existing.children, &item.children),
            None => into.push(item.clone()),
        }
    }
}

impl App {
    /// `GET /t/{t}/api/v1/me/menu`.
    pub async fn my_menu(&self, me: &SignedIn) -> Result<Vec<MenuItem>, Error> {
        let epoch = self.authz_epoch(me.tenant.id).await?;
        let model = self.tenant_model(me.tenant.id, epoch).await?;
        let mut templates: Vec<_> = model.templates.iter().collect();
        templates.sort_by(|a, b| a.key.cmp(&b.key));
        let mut menu = Vec::new();
        for t in templates {
            merge(&mut menu, &t.menu);
        }
        let graph = self.permission_graph(me.tenant.id, me.user.id).await?;
        let holds = |p: &Permission| graph.as_ref().is_some_and(|g| g.holds(p));
        Ok(visible_menu(&menu, &holds))
    }
}
