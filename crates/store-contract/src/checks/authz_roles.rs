//! Custom roles: creation (unique key per tenant, an existing custom parent), optimistic
//! updates, and deletion (refused while a role names it as parent; taking its assignments
//! and template grants with it). Every change is journaled and advances the epoch; a refused
//! one writes nothing.

use crate::authz_fixtures::{
    assignment, authz_journal, custom, custom_role, grant, marks, system, template,
};
use crate::fixtures::{at, create_tenant, create_user};
use tessera_domain::authz::{AccessScope, GrantTarget, TenantModel};
use tessera_domain::ports::{Store, StoreError};
use tessera_domain::role::SystemRole;

pub async fn authz_custom_roles(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let j = || authz_journal(t.id, "role.changed");

    let parent = custom_role(t.id, Some(system(SystemRole::Employee)));
    let child = custom_role(t.id, Some(custom(&parent)));
    let (head, epoch) = marks(store, t.id).await;
    store.insert_custom_role(&parent, &j()).await.unwrap();
    store.insert_custom_role(&child, &j()).await.unwrap();
    assert_eq!(marks(store, t.id).await, (head + 2, epoch + 2));
    let mut both = vec![parent.clone(), child.clone()];
    both.sort_by(|a, b| a.key.cmp(&b.key));
    assert_eq!(store.tenant_model(t.id).await.unwrap().roles, both);

    // Refused, nothing written: a taken key (even with other details), a missing parent.
    let before = marks(store, t.id).await;
    let taken = custom_role(t.id, None);
    let taken = tessera_domain::authz::CustomRole {
        key: parent.key.clone(),
        ..taken
    };
    assert_err!(
        store.insert_custom_role(&taken, &j()).await,
        StoreError::Duplicate { field: "key", .. }
    );
    let orphan = custom_role(t.id, Some(custom(&custom_role(t.id, None))));
    assert_err!(
        store.insert_custom_role(&orphan, &j()).await,
        StoreError::NotFound
    );
    // A parent of another tenant does not exist here.
    let foreign = custom_role(other.id, None);
    store
        .insert_custom_role(&foreign, &authz_journal(other.id, "role.created"))
        .await
        .unwrap();
    let adopted = custom_role(t.id, Some(custom(&foreign)));
    assert_err!(
        store.insert_custom_role(&adopted, &j()).await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, before);
    // Keys are per tenant.
    let twin = tessera_domain::authz::CustomRole {
        tenant_id: other.id,
        key: parent.key.clone(),
        parent: None,
        ..parent.clone()
    };
    store
        .insert_custom_role(&twin, &authz_journal(other.id, "role.created"))
        .await
        .unwrap();

    // Updates: the expected version, the role and its new parent must exist.
    let renamed = tessera_domain::authz::CustomRole {
        name: "Support lead".to_owned(),
        description: String::new(),
        priority: 60,
        parent: Some(system(SystemRole::Owner)),
        updated_at: at(300),
        version: 2,
        ..child.clone()
    };
    store.update_custom_role(&renamed, 1, &j()).await.unwrap();
    let before = marks(store, t.id).await;
    assert_eq!(before, (head + 3, epoch + 3));
    assert_err!(
        store.update_custom_role(&renamed, 1, &j()).await,
        StoreError::Conflict
    );
    let missing = custom_role(t.id, None);
    assert_err!(
        store
            .update_custom_role(
                &tessera_domain::authz::CustomRole {
                    version: 2,
                    ..missing
                },
                1,
                &j()
            )
            .await,
        StoreError::NotFound
    );
    let lost_parent = tessera_domain::authz::CustomRole {
        parent: Some(custom(&custom_role(t.id, None))),
        version: 3,
        ..renamed.clone()
    };
    assert_err!(
        store.update_custom_role(&lost_parent, 2, &j()).await,
        StoreError::NotFound
    );
    // Another tenant's update of a key it does not hold.
    let from_other = tessera_domain::authz::CustomRole {
        tenant_id: other.id,
        key: child.key.clone(),
        version: 2,
        ..child.clone()
    };
    assert_err!(
        store
            .update_custom_role(&from_other, 1, &authz_journal(other.id, "role.updated"))
            .await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, before);
    // Back under the custom parent.
    let regrouped = tessera_domain::authz::CustomRole {
        parent: Some(custom(&parent)),
        version: 3,
        ..renamed.clone()
    };
    store.update_custom_role(&regrouped, 2, &j()).await.unwrap();
    let model = store.tenant_model(t.id).await.unwrap();
    assert!(model.roles.contains(&regrouped), "{:?}", model.roles);

    // Delete: refused while a role names it as parent.
    let before = marks(store, t.id).await;
    assert_err!(
        store.delete_custom_role(t.id, &parent.key, &j()).await,
        StoreError::InUse
    );
    assert_eq!(marks(store, t.id).await, before);

    // Deleting a role takes its assignments and template grants with it.
    let user = create_user(store, t.id).await;
    let tpl = template(t.id);
    store.insert_template(&tpl, &j()).await.unwrap();
    store
        .grant_role(
            t.id,
            &assignment(user.id, custom(&child), AccessScope::Tenant, 310),
            &j(),
        )
        .await
        .unwrap();
    store
        .grant_role(
            t.id,
            &assignment(
                user.id,
                system(SystemRole::Cashier),
                AccessScope::Tenant,
                311,
            ),
            &j(),
        )
        .await
        .unwrap();
    for target in [
        GrantTarget::Role(custom(&child)),
        GrantTarget::Role(custom(&parent)),
    ] {
        store
            .grant_template(t.id, &grant(&tpl, target, 312), &j())
            .await
            .unwrap();
    }
    let before = marks(store, t.id).await;
    store
        .delete_custom_role(t.id, &child.key, &j())
        .await
        .unwrap();
    assert_eq!(marks(store, t.id).await, (before.0 + 1, before.1 + 1));
    let roles = store.user_roles(t.id, user.id).await.unwrap();
    assert_eq!(roles.len(), 1);
    assert_eq!(roles[0].role, system(SystemRole::Cashier));
    assert_eq!(store.role_holders(t.id, &custom(&child)).await.unwrap(), 0);
    let model: TenantModel = store.tenant_model(t.id).await.unwrap();
    assert_eq!(model.roles, vec![parent.clone()]);
    assert_eq!(
        model.grants.iter().map(|g| &g.target).collect::<Vec<_>>(),
        vec![&GrantTarget::Role(custom(&parent))]
    );

    // Gone: NotFound (here, and for the other tenant's twin seen from here).
    let before = marks(store, t.id).await;
    assert_err!(
        store.delete_custom_role(t.id, &child.key, &j()).await,
        StoreError::NotFound
    );
    assert_err!(
        store.delete_custom_role(t.id, &foreign.key, &j()).await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, before);
    // Without children, the parent goes too; the twin of the other tenant stays.
    store
        .delete_custom_role(t.id, &parent.key, &j())
        .await
        .unwrap();
    assert!(store.tenant_model(t.id).await.unwrap().roles.is_empty());
    assert!(store.tenant_model(t.id).await.unwrap().grants.is_empty());
    let theirs = store.tenant_model(other.id).await.unwrap().roles;
    assert!(theirs.contains(&twin) && theirs.contains(&foreign));
}
