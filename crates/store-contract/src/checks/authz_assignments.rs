//! Role assignments: granting within a scope (idempotent, journaled, advancing the epoch),
//! listing ordered by role key then scope, counting holders, revoking (NotFound when not
//! held), and refusing what does not exist in the tenant (user, custom role, unit) with
//! nothing written.

use crate::authz_fixtures::{assignment, authz_journal, custom, custom_role, marks, system};
use crate::fixtures::{create_tenant, create_user, fresh_uuid, journal, minimal_user, unit};
use tessera_domain::authz::AccessScope;
use tessera_domain::ports::{Store, StoreError};
use tessera_domain::role::SystemRole;
use tessera_domain::{OrgUnitId, UserId};

pub async fn authz_role_assignments(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;
    let stranger = create_user(store, other.id).await;
    let shop = unit(t.id, None, "Shop");
    store
        .insert_unit(&shop, &journal(t.id, "org_unit.created", None))
        .await
        .unwrap();
    let support = custom_role(t.id, Some(system(SystemRole::Employee)));
    store
        .insert_custom_role(&support, &authz_journal(t.id, "role.created"))
        .await
        .unwrap();
    assert!(store.user_roles(t.id, user.id).await.unwrap().is_empty());
    assert_eq!(
        store
            .role_holders(t.id, &system(SystemRole::Admin))
            .await
            .unwrap(),
        0
    );

    let admin = system(SystemRole::Admin);
    let cashier = system(SystemRole::Cashier);
    let granted = || authz_journal(t.id, "role.granted");
    let (head, epoch) = marks(store, t.id).await;
    let wanted = [
        assignment(user.id, admin.clone(), AccessScope::Tenant, 100),
        assignment(user.id, admin.clone(), AccessScope::Unit(shop.id), 101),
        assignment(user.id, admin.clone(), AccessScope::SelfOnly, 102),
        assignment(user.id, cashier.clone(), AccessScope::Tenant, 103),
        assignment(user.id, custom(&support), AccessScope::Unit(shop.id), 104),
    ];
    // Granted in another order than the one they are listed in.
    for a in wanted.iter().rev() {
        store.grant_role(t.id, a, &granted()).await.unwrap();
    }
    assert_eq!(marks(store, t.id).await, (head + 5, epoch + 5));
    assert_eq!(
        store.user_roles(t.id, user.id).await.unwrap(),
        wanted.to_vec()
    );

    // Granting again is not an error and keeps the first instant; it is journaled.
    let again = assignment(user.id, admin.clone(), AccessScope::Tenant, 900);
    store.grant_role(t.id, &again, &granted()).await.unwrap();
    assert_eq!(marks(store, t.id).await, (head + 6, epoch + 6));
    assert_eq!(
        store.user_roles(t.id, user.id).await.unwrap(),
        wanted.to_vec()
    );

    // Holders count users, not scopes.
    assert_eq!(store.role_holders(t.id, &admin).await.unwrap(), 1);
    store
        .grant_role(
            t.id,
            &assignment(someone.id, admin.clone(), AccessScope::SelfOnly, 110),
            &granted(),
        )
        .await
        .unwrap();
    assert_eq!(store.role_holders(t.id, &admin).await.unwrap(), 2);
    assert_eq!(
        store.role_holders(t.id, &custom(&support)).await.unwrap(),
        1
    );
    assert_eq!(
        store
            .role_holders(t.id, &system(SystemRole::Guest))
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.role_holders(other.id, &admin).await.unwrap(), 0);
    assert!(
        store
            .user_roles(other.id, user.id)
            .await
            .unwrap()
            .is_empty()
    );

    // What does not exist in the tenant: NotFound, nothing written.
    let ghost_role = custom_role(t.id, None);
    let foreign_role = custom_role(other.id, None);
    store
        .insert_custom_role(&foreign_role, &authz_journal(other.id, "role.created"))
        .await
        .unwrap();
    let foreign_unit = unit(other.id, None, "Elsewhere");
    store
        .insert_unit(&foreign_unit, &journal(other.id, "org_unit.created", None))
        .await
        .unwrap();
    let marks_before = marks(store, t.id).await;
    let refused = [
        assignment(
            minimal_user(t.id).id,
            admin.clone(),
            AccessScope::Tenant,
            120,
        ),
        assignment(stranger.id, admin.clone(), AccessScope::Tenant, 120),
        assignment(user.id, custom(&ghost_role), AccessScope::Tenant, 120),
        assignment(user.id, custom(&foreign_role), AccessScope::Tenant, 120),
        assignment(
            user.id,
            admin.clone(),
            AccessScope::Unit(OrgUnitId::from_uuid(fresh_uuid())),
            120,
        ),
        assignment(
            user.id,
            admin.clone(),
            AccessScope::Unit(foreign_unit.id),
            120,
        ),
    ];
    for a in &refused {
        assert_err!(
            store.grant_role(t.id, a, &granted()).await,
            StoreError::NotFound
        );
    }
    assert_eq!(marks(store, t.id).await, marks_before);
    assert_eq!(
        store.user_roles(t.id, user.id).await.unwrap(),
        wanted.to_vec()
    );

    // A unit that scopes an assignment is still in use.
    assert_err!(
        store
            .delete_unit(t.id, shop.id, &journal(t.id, "org_unit.deleted", None))
            .await,
        StoreError::InUse
    );

    // Revoke: one scope at a time, journaled; what is not held is NotFound.
    let revoked = || authz_journal(t.id, "role.revoked");
    store
        .revoke_role(t.id, user.id, &admin, &AccessScope::SelfOnly, &revoked())
        .await
        .unwrap();
    let (head, epoch) = marks(store, t.id).await;
    assert_eq!((head, epoch), (marks_before.0 + 1, marks_before.1 + 1));
    let left: Vec<_> = wanted
        .iter()
        .filter(|a| !(a.role == admin && a.scope == AccessScope::SelfOnly))
        .cloned()
        .collect();
    assert_eq!(store.user_roles(t.id, user.id).await.unwrap(), left);
    let not_held: [(UserId, _, AccessScope); 5] = [
        (user.id, admin.clone(), AccessScope::SelfOnly),
        (user.id, cashier.clone(), AccessScope::SelfOnly),
        (user.id, custom(&support), AccessScope::Tenant),
        (someone.id, admin.clone(), AccessScope::Tenant),
        (user.id, system(SystemRole::SuperAdmin), AccessScope::Tenant),
    ];
    for (owner, role, scope) in &not_held {
        assert_err!(
            store
                .revoke_role(t.id, *owner, role, scope, &revoked())
                .await,
            StoreError::NotFound
        );
    }
    // Seen from another tenant, nothing is held.
    assert_err!(
        store
            .revoke_role(other.id, user.id, &admin, &AccessScope::Tenant, &revoked())
            .await,
        StoreError::NotFound
    );
    assert_eq!(marks(store, t.id).await, (head, epoch));
    assert_eq!(store.user_roles(t.id, user.id).await.unwrap(), left);

    // Once the unit scope is revoked everywhere, the unit can go.
    for role in [&admin, &custom(&support)] {
        store
            .revoke_role(t.id, user.id, role, &AccessScope::Unit(shop.id), &revoked())
            .await
            .unwrap();
    }
    store
        .delete_unit(t.id, shop.id, &journal(t.id, "org_unit.deleted", None))
        .await
        .unwrap();
    assert_eq!(
        store.user_roles(t.id, user.id).await.unwrap(),
        vec![
            assignment(user.id, admin.clone(), AccessScope::Tenant, 100),
            assignment(user.id, cashier, AccessScope::Tenant, 103),
        ]
    );
}
