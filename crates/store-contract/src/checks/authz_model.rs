//! The tenant's model as a whole: the epoch (0 at first, advanced once per journal marked
//! `authz_changed` for each of its tenants, never by other journals or refused writes), the
//! model read in one call, unit ancestry, isolation between tenants, and erasing a user
//! taking their assignments and template grants with them.

use crate::authz_fixtures::{
    assignment, authz_journal, custom, custom_role, decision, epoch, grant, policy_set,
    resource_type, system, template,
};
use crate::fixtures::{at, create_tenant, create_user, draft, journal, unit};
use tessera_domain::authz::{AccessScope, GrantTarget, TenantModel};
use tessera_domain::ports::{Journal, Store, StoreError};
use tessera_domain::role::SystemRole;
use tessera_domain::user::User;
use tessera_domain::{OrgUnitId, TenantId};

pub async fn authz_epoch_advances(store: &dyn Store) {
    let a = create_tenant(store).await;
    let b = create_tenant(store).await;
    assert_eq!((epoch(store, a.id).await, epoch(store, b.id).await), (0, 0));
    let never = TenantId::from_uuid(crate::fixtures::fresh_uuid());
    assert_eq!(epoch(store, never).await, 0);

    // Journals that are not marked leave the epoch alone.
    store
        .append(&journal(a.id, "auth.refused", None))
        .await
        .unwrap();
    let user = create_user(store, a.id).await;
    let renamed = User {
        updated_at: at(200),
        version: 2,
        ..user.clone()
    };
    store
        .update_user(&renamed, 1, &journal(a.id, "user.updated", None))
        .await
        .unwrap();
    assert_eq!(epoch(store, a.id).await, 0);

    // A marked journal advances the epoch once, however many events of the tenant it holds.
    store
        .append(&authz_journal(a.id, "access.changed"))
        .await
        .unwrap();
    assert_eq!(epoch(store, a.id).await, 1);
    let three = Journal {
        events: (0..3)
            .map(|_| draft(a.id, "access.changed", None))
            .collect(),
        authz_changed: true,
    };
    store.append(&three).await.unwrap();
    assert_eq!(epoch(store, a.id).await, 2);
    // A user change marked as changing access (a suspension, say) advances it too.
    let suspended = User {
        updated_at: at(300),
        version: 3,
        ..renamed
    };
    store
        .update_user(
            &suspended,
            2,
            &journal(a.id, "user.suspended", None).changing_authz(),
        )
        .await
        .unwrap();
    assert_eq!(epoch(store, a.id).await, 3);
    assert_eq!(epoch(store, b.id).await, 0);

    // A journal of two tenants advances both, each once.
    let both = Journal {
        events: vec![
            draft(a.id, "access.changed", None),
            draft(b.id, "access.changed", None),
            draft(a.id, "access.changed", None),
        ],
        authz_changed: true,
    };
    store.append(&both).await.unwrap();
    assert_eq!((epoch(store, a.id).await, epoch(store, b.id).await), (4, 1));

    // Every change of the model advances it; a refused one does not.
    let role = custom_role(a.id, None);
    store
        .insert_custom_role(&role, &authz_journal(a.id, "role.created"))
        .await
        .unwrap();
    assert_eq!(epoch(store, a.id).await, 5);
    assert_err!(
        store
            .insert_custom_role(&role, &authz_journal(a.id, "role.created"))
            .await,
        StoreError::Duplicate { .. }
    );
    assert_err!(
        store
            .update_user(
                &suspended,
                2,
                &journal(a.id, "user.updated", None).changing_authz()
            )
            .await,
        StoreError::Conflict
    );
    assert_eq!(epoch(store, a.id).await, 5);
    store
        .grant_role(
            a.id,
            &assignment(user.id, custom(&role), AccessScope::SelfOnly, 310),
            &authz_journal(a.id, "role.granted"),
        )
        .await
        .unwrap();
    store
        .insert_policy_set(&policy_set(a.id, 1), &authz_journal(a.id, "policies.saved"))
        .await
        .unwrap();
    assert_eq!((epoch(store, a.id).await, epoch(store, b.id).await), (7, 1));
    // Decisions are not changes of the model.
    store
        .record_decisions(&[decision(a.id, 320, true)])
        .await
        .unwrap();
    assert_eq!(epoch(store, a.id).await, 7);
}

pub async fn authz_tenant_model(store: &dyn Store) {
    let t = create_tenant(store).await;
    assert_eq!(
        store.tenant_model(t.id).await.unwrap(),
        TenantModel::default()
    );
    let j = || authz_journal(t.id, "model.changed");
    let lead = custom_role(t.id, Some(system(SystemRole::Owner)));
    let support = custom_role(t.id, Some(custom(&lead)));
    for role in [&lead, &support] {
        store.insert_custom_role(role, &j()).await.unwrap();
    }
    let (sales, audit) = (template(t.id), template(t.id));
    for tpl in [&sales, &audit] {
        store.insert_template(tpl, &j()).await.unwrap();
    }
    let user = create_user(store, t.id).await;
    let grants = [
        grant(&sales, GrantTarget::Role(custom(&support)), 500),
        grant(&audit, GrantTarget::Role(system(SystemRole::Admin)), 501),
        grant(&audit, GrantTarget::User(user.id), 502),
    ];
    for g in &grants {
        store.grant_template(t.id, g, &j()).await.unwrap();
    }
    let orders = resource_type("orders");
    store.put_resource_type(t.id, &orders, &j()).await.unwrap();
    let versions = [policy_set(t.id, 1), policy_set(t.id, 2)];
    for set in &versions {
        store.insert_policy_set(set, &j()).await.unwrap();
    }

    let model = store.tenant_model(t.id).await.unwrap();
    let mut roles = vec![lead, support];
    roles.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(model.roles, roles);
    let mut templates = vec![sales, audit];
    templates.sort_by(|x, y| x.key.cmp(&y.key));
    assert_eq!(model.templates, templates);
    let mut expected = grants.to_vec();
    expected.sort_by(|x, y| x.template.cmp(&y.template));
    let mut got = model.grants.clone();
    got.sort_by(|x, y| x.template.cmp(&y.template));
    assert_eq!(got.len(), expected.len());
    for g in &expected {
        assert!(got.contains(g), "{g:?} missing from {got:?}");
    }
    assert_eq!(model.resource_types, vec![orders]);
    assert_eq!(model.policies.as_ref(), versions.last());
}

pub async fn authz_unit_ancestors(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let j = || journal(t.id, "org_unit.created", None);
    let root = unit(t.id, None, "Merchant");
    let mid = unit(t.id, Some(root.id), "Region");
    let leaf = unit(t.id, Some(mid.id), "Store");
    let side = unit(t.id, Some(root.id), "Warehouse");
    for u in [&root, &mid, &leaf, &side] {
        store.insert_unit(u, &j()).await.unwrap();
    }
    assert_eq!(
        store.unit_ancestors(t.id, leaf.id).await.unwrap(),
        vec![leaf.id, mid.id, root.id]
    );
    assert_eq!(
        store.unit_ancestors(t.id, side.id).await.unwrap(),
        vec![side.id, root.id]
    );
    assert_eq!(
        store.unit_ancestors(t.id, root.id).await.unwrap(),
        vec![root.id]
    );
    let missing = OrgUnitId::from_uuid(crate::fixtures::fresh_uuid());
    assert!(
        store
            .unit_ancestors(t.id, missing)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .unit_ancestors(other.id, leaf.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Tenant A's whole model, and what tenant B sees of it: nothing.
pub async fn authz_tenant_isolation(store: &dyn Store) {
    let a = create_tenant(store).await;
    let b = create_tenant(store).await;
    let j = || authz_journal(a.id, "model.changed");
    let role = custom_role(a.id, None);
    store.insert_custom_role(&role, &j()).await.unwrap();
    let tpl = template(a.id);
    store.insert_template(&tpl, &j()).await.unwrap();
    let user = create_user(store, a.id).await;
    let shop = unit(a.id, None, "Shop");
    store
        .insert_unit(&shop, &journal(a.id, "org_unit.created", None))
        .await
        .unwrap();
    store
        .grant_role(
            a.id,
            &assignment(user.id, custom(&role), AccessScope::Unit(shop.id), 600),
            &j(),
        )
        .await
        .unwrap();
    store
        .grant_template(a.id, &grant(&tpl, GrantTarget::User(user.id), 601), &j())
        .await
        .unwrap();
    store
        .put_resource_type(a.id, &resource_type("orders"), &j())
        .await
        .unwrap();
    store
        .insert_policy_set(&policy_set(a.id, 1), &j())
        .await
        .unwrap();
    store
        .record_decisions(&[decision(a.id, 602, true)])
        .await
        .unwrap();
    let model_a = store.tenant_model(a.id).await.unwrap();

    // B reads nothing of A.
    let bj = || authz_journal(b.id, "model.changed");
    assert_eq!(
        store.tenant_model(b.id).await.unwrap(),
        TenantModel::default()
    );
    assert!(store.user_roles(b.id, user.id).await.unwrap().is_empty());
    assert_eq!(store.role_holders(b.id, &custom(&role)).await.unwrap(), 0);
    assert!(
        store
            .user_templates(b.id, user.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(store.policy_sets(b.id).await.unwrap().is_empty());
    assert_eq!(store.policy_set(b.id, 1).await.unwrap(), None);
    assert!(store.recent_decisions(b.id, 100).await.unwrap().is_empty());
    assert!(
        store
            .unit_ancestors(b.id, shop.id)
            .await
            .unwrap()
            .is_empty()
    );

    // And changes nothing of A: every write naming A's rows from B is NotFound.
    let scope = AccessScope::Unit(shop.id);
    assert_err!(
        store
            .revoke_role(b.id, user.id, &custom(&role), &scope, &bj())
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store.delete_custom_role(b.id, &role.key, &bj()).await,
        StoreError::NotFound
    );
    assert_err!(
        store.delete_template(b.id, &tpl.key, &bj()).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .revoke_template(b.id, &tpl.key, &GrantTarget::User(user.id), &bj())
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store.delete_resource_type(b.id, "orders", &bj()).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .grant_role(
                b.id,
                &assignment(user.id, system(SystemRole::Admin), AccessScope::Tenant, 603),
                &bj(),
            )
            .await,
        StoreError::NotFound
    );
    assert_eq!(store.tenant_model(a.id).await.unwrap(), model_a);
    assert_eq!(store.user_roles(a.id, user.id).await.unwrap().len(), 1);
    assert_eq!(store.recent_decisions(a.id, 100).await.unwrap().len(), 1);
    assert_eq!(store.policy_sets(a.id).await.unwrap().len(), 1);
}

/// Erasing a user removes their assignments and direct template grants, and nobody else's.
pub async fn authz_erase_user_cascades(store: &dyn Store) {
    let t = create_tenant(store).await;
    let j = || authz_journal(t.id, "access.changed");
    let shop = unit(t.id, None, "Shop");
    store
        .insert_unit(&shop, &journal(t.id, "org_unit.created", None))
        .await
        .unwrap();
    let role = custom_role(t.id, None);
    store.insert_custom_role(&role, &j()).await.unwrap();
    let tpl = template(t.id);
    store.insert_template(&tpl, &j()).await.unwrap();
    let user = create_user(store, t.id).await;
    let bystander = create_user(store, t.id).await;
    for u in [&user, &bystander] {
        for (r, scope) in [
            (system(SystemRole::Cashier), AccessScope::Tenant),
            (custom(&role), AccessScope::Unit(shop.id)),
        ] {
            store
                .grant_role(t.id, &assignment(u.id, r, scope, 700), &j())
                .await
                .unwrap();
        }
        store
            .grant_template(t.id, &grant(&tpl, GrantTarget::User(u.id), 701), &j())
            .await
            .unwrap();
    }
    assert_eq!(store.role_holders(t.id, &custom(&role)).await.unwrap(), 2);

    store
        .erase_user(t.id, user.id, &journal(t.id, "user.erased", None))
        .await
        .unwrap();
    assert!(store.user_roles(t.id, user.id).await.unwrap().is_empty());
    assert!(
        store
            .user_templates(t.id, user.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.role_holders(t.id, &custom(&role)).await.unwrap(), 1);
    assert_eq!(
        store.tenant_model(t.id).await.unwrap().grants,
        vec![grant(&tpl, GrantTarget::User(bystander.id), 701)]
    );
    assert_eq!(store.user_roles(t.id, bystander.id).await.unwrap().len(), 2);
    assert_eq!(
        store.user_templates(t.id, bystander.id).await.unwrap(),
        vec![tpl.key.clone()]
    );
    // The erased user's rows no longer hold the unit: only the bystander's do.
    assert_err!(
        store
            .delete_unit(t.id, shop.id, &journal(t.id, "org_unit.deleted", None))
            .await,
        StoreError::InUse
    );
}
