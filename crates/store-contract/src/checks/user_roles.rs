//! System-role assignments: granting (idempotent, journaled), listing highest first,
//! revoking (NotFound when not held), tenant isolation.

use crate::fixtures::{at, create_tenant, create_user, head_seq, journal, minimal_user};
use tessera_domain::ports::{Store, StoreError};
use tessera_domain::role::SystemRole;

pub async fn role_grant_and_revoke(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;
    assert!(store.user_roles(t.id, user.id).await.unwrap().is_empty());

    let granted = || journal(t.id, "role.granted", Some(("user", user.id.to_string())));
    let head = head_seq(store, t.id).await;
    for role in [SystemRole::Cashier, SystemRole::Admin, SystemRole::Guest] {
        store
            .grant_role(t.id, user.id, role, at(100), &granted())
            .await
            .unwrap();
    }
    assert_eq!(head_seq(store, t.id).await, head + 3);
    assert_eq!(
        store.user_roles(t.id, user.id).await.unwrap(),
        vec![SystemRole::Admin, SystemRole::Cashier, SystemRole::Guest]
    );
    // Granting again is not an error and changes nothing.
    store
        .grant_role(t.id, user.id, SystemRole::Admin, at(200), &granted())
        .await
        .unwrap();
    assert_eq!(
        store.user_roles(t.id, user.id).await.unwrap(),
        vec![SystemRole::Admin, SystemRole::Cashier, SystemRole::Guest]
    );
    // Per user, per tenant.
    assert!(store.user_roles(t.id, someone.id).await.unwrap().is_empty());
    assert!(
        store
            .user_roles(other.id, user.id)
            .await
            .unwrap()
            .is_empty()
    );

    // A user that does not exist (or seen from another tenant): NotFound, nothing written.
    let head = head_seq(store, t.id).await;
    assert_err!(
        store
            .grant_role(
                t.id,
                minimal_user(t.id).id,
                SystemRole::Admin,
                at(300),
                &granted()
            )
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .grant_role(other.id, user.id, SystemRole::Admin, at(300), &granted())
            .await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, t.id).await, head);

    // Revoke: journaled; a role not held is NotFound (also from another tenant).
    let revoked = || journal(t.id, "role.revoked", Some(("user", user.id.to_string())));
    store
        .revoke_role(t.id, user.id, SystemRole::Cashier, &revoked())
        .await
        .unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(
        store.user_roles(t.id, user.id).await.unwrap(),
        vec![SystemRole::Admin, SystemRole::Guest]
    );
    for (tenant, owner, role) in [
        (t.id, user.id, SystemRole::Cashier),
        (t.id, user.id, SystemRole::SuperAdmin),
        (t.id, someone.id, SystemRole::Admin),
        (other.id, user.id, SystemRole::Admin),
    ] {
        assert_err!(
            store.revoke_role(tenant, owner, role, &revoked()).await,
            StoreError::NotFound
        );
    }
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(
        store.user_roles(t.id, user.id).await.unwrap(),
        vec![SystemRole::Admin, SystemRole::Guest]
    );
}
