//! Permission templates (unique key, optimistic updates, deletion with their grants), their
//! grants to roles and users (idempotent, refused for what does not exist), and resource
//! types (created or replaced by name). Every change is journaled and advances the epoch; a
//! refused one writes nothing.

use crate::authz_fixtures::{
    authz_journal, custom, custom_role, grant, marks, permission, resource_type, system, template,
};
use crate::fixtures::{at, create_tenant, create_user, minimal_user};
use tessera_domain::authz::{GrantTarget, Template};
use tessera_domain::ports::{Store, StoreError};
use tessera_domain::role::SystemRole;

pub async fn authz_templates(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let j = || authz_journal(t.id, "template.changed");

    let sales = template(t.id);
    let (head, epoch) = marks(store, t.id).await;
    store.insert_template(&sales, &j()).await.unwrap();
    assert_eq!(marks(store, t.id).await, (head + 1, epoch + 1));
    assert_eq!(
        store.tenant_model(t.id).await.unwrap().templates,
        vec![sales.clone()]
    );

    // A taken key: Duplicate, nothing written. The same key in another tenant is fine.
    let before = marks(store, t.id).await;
    let taken = Template {
        key: sales.key.clone(),
        name: "Other".to_owned(),
        ..template(t.id)
    };
    assert_err!(
        store.insert_template(&taken, &j()).await,
        StoreError::Duplicate { field: "key", .. }
    );
    assert_eq!(marks(store, t.id).await, before);
    let twin = Template {
        tenant_id: other.id,
        menu: vec![],
        ..sales.clone()
    };
    store
        .insert_template(&twin, &authz_journal(other.id, "template.created"))
        .await
        .unwrap();

    // Updates replace permissions and menu; a stale version is Conflict, a missing key
    // NotFound. The other tenant's template of the same key is another template.
    let edited = Template {
        name: "Sales desk — «EU»".to_owned(),
        permissions: [permission("orders:*"), permission("*")]
            .into_iter()
            .collect(),
        menu: sales.menu[1..].to_vec(),
        updated_at: at(400),
        version: 2,
        ..sales.clone()
    };
    store.update_template(&edited, 1, &j()).await.unwrap();
    let before = marks(store, t.id).await;
    assert_err!(
        store.update_template(&edited, 1, &j()).await,
        StoreError::Conflict
    );
    let ghost = Template {
        version: 2,
        ..template(t.id)
    };
    assert_err!(
        store.update_template(&ghost, 1, &j()).await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, before);
    assert_eq!(
        store.tenant_model(t.id).await.unwrap().templates,
        vec![edited.clone()]
    );
    assert_eq!(
        store.tenant_model(other.id).await.unwrap().templates,
        vec![twin.clone()]
    );

    // Grants to a system role, a custom role and users.
    let role = custom_role(t.id, None);
    store.insert_custom_role(&role, &j()).await.unwrap();
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;
    let audit = template(t.id);
    store.insert_template(&audit, &j()).await.unwrap();
    let grants = [
        grant(&edited, GrantTarget::Role(system(SystemRole::Cashier)), 410),
        grant(&edited, GrantTarget::Role(custom(&role)), 411),
        grant(&edited, GrantTarget::User(user.id), 412),
        grant(&audit, GrantTarget::User(user.id), 413),
    ];
    let before = marks(store, t.id).await;
    for g in &grants {
        store.grant_template(t.id, g, &j()).await.unwrap();
    }
    // Again: not an error, journaled, the first instant kept.
    let mut again = grants[2].clone();
    again.granted_at = at(999);
    store.grant_template(t.id, &again, &j()).await.unwrap();
    assert_eq!(marks(store, t.id).await, (before.0 + 5, before.1 + 5));
    let model = store.tenant_model(t.id).await.unwrap();
    assert_eq!(model.grants.len(), 4, "{:?}", model.grants);
    for g in &grants {
        assert!(
            model.grants.contains(g),
            "{g:?} missing from {:?}",
            model.grants
        );
    }
    let mut keys = vec![edited.key.clone(), audit.key.clone()];
    keys.sort();
    assert_eq!(store.user_templates(t.id, user.id).await.unwrap(), keys);
    assert!(
        store
            .user_templates(t.id, someone.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .user_templates(other.id, user.id)
            .await
            .unwrap()
            .is_empty()
    );

    // What does not exist in the tenant: NotFound, nothing written.
    let stranger = create_user(store, other.id).await;
    let before = marks(store, t.id).await;
    for g in [
        grant(&template(t.id), GrantTarget::User(user.id), 420),
        grant(
            &edited,
            GrantTarget::Role(custom(&custom_role(t.id, None))),
            420,
        ),
        grant(&edited, GrantTarget::User(minimal_user(t.id).id), 420),
        grant(&edited, GrantTarget::User(stranger.id), 420),
    ] {
        assert_err!(
            store.grant_template(t.id, &g, &j()).await,
            StoreError::NotFound
        );
    }
    // The other tenant cannot grant this tenant's template (it has its own twin only).
    assert_err!(
        store
            .grant_template(
                other.id,
                &grant(&audit, GrantTarget::User(stranger.id), 420),
                &authz_journal(other.id, "template.granted"),
            )
            .await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, before);

    // Revoke: journaled; a grant that does not exist is NotFound.
    store
        .revoke_template(t.id, &audit.key, &GrantTarget::User(user.id), &j())
        .await
        .unwrap();
    assert_eq!(
        store.user_templates(t.id, user.id).await.unwrap(),
        vec![edited.key.clone()]
    );
    let before = marks(store, t.id).await;
    for (key, target) in [
        (&audit.key, GrantTarget::User(user.id)),
        (&edited.key, GrantTarget::User(someone.id)),
        (&edited.key, GrantTarget::Role(system(SystemRole::Admin))),
        (
            &"missing".to_owned(),
            GrantTarget::Role(system(SystemRole::Cashier)),
        ),
    ] {
        assert_err!(
            store.revoke_template(t.id, key, &target, &j()).await,
            StoreError::NotFound
        );
    }
    assert_err!(
        store
            .revoke_template(
                other.id,
                &edited.key,
                &GrantTarget::Role(system(SystemRole::Cashier)),
                &authz_journal(other.id, "template.revoked"),
            )
            .await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, before);

    // Deleting a template takes its grants with it; then it is NotFound.
    store
        .delete_template(t.id, &edited.key, &j())
        .await
        .unwrap();
    assert_eq!(marks(store, t.id).await, (before.0 + 1, before.1 + 1));
    let model = store.tenant_model(t.id).await.unwrap();
    assert_eq!(model.templates, vec![audit.clone()]);
    assert!(model.grants.is_empty(), "{:?}", model.grants);
    assert!(
        store
            .user_templates(t.id, user.id)
            .await
            .unwrap()
            .is_empty()
    );
    let before = marks(store, t.id).await;
    assert_err!(
        store.delete_template(t.id, &edited.key, &j()).await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, before);
    // The other tenant's twin of the same key is untouched.
    assert_eq!(
        store.tenant_model(other.id).await.unwrap().templates,
        vec![twin]
    );
}

pub async fn authz_resource_types(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let j = || authz_journal(t.id, "resource_type.changed");

    let orders = resource_type("orders");
    let invoices = resource_type("invoices");
    let (head, epoch) = marks(store, t.id).await;
    store.put_resource_type(t.id, &orders, &j()).await.unwrap();
    store
        .put_resource_type(t.id, &invoices, &j())
        .await
        .unwrap();
    assert_eq!(marks(store, t.id).await, (head + 2, epoch + 2));
    assert_eq!(
        store.tenant_model(t.id).await.unwrap().resource_types,
        vec![invoices.clone(), orders.clone()]
    );

    // Putting a type of the same name replaces it.
    let mut fewer = orders.clone();
    fewer.actions.remove("refund");
    fewer.attributes.clear();
    fewer.description = "Orders, read only".to_owned();
    store.put_resource_type(t.id, &fewer, &j()).await.unwrap();
    assert_eq!(
        store.tenant_model(t.id).await.unwrap().resource_types,
        vec![invoices.clone(), fewer.clone()]
    );
    assert!(
        store
            .tenant_model(other.id)
            .await
            .unwrap()
            .resource_types
            .is_empty()
    );

    // Delete; then NotFound (also from another tenant), nothing written.
    store
        .delete_resource_type(t.id, "invoices", &j())
        .await
        .unwrap();
    assert_eq!(marks(store, t.id).await, (head + 4, epoch + 4));
    assert_err!(
        store.delete_resource_type(t.id, "invoices", &j()).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .delete_resource_type(other.id, "orders", &authz_journal(other.id, "x"))
            .await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, (head + 4, epoch + 4));
    assert_eq!(
        store.tenant_model(t.id).await.unwrap().resource_types,
        vec![fewer]
    );
}
