//! Users: round trip, identifier uniqueness, tenant isolation, optimistic updates, erasure.

use crate::fixtures::{
    at, create_tenant, fresh_uuid, full_user, head_seq, journal, minimal_user, named_user, phone,
    unit,
};
use tessera_domain::UserId;
use tessera_domain::identifiers::{Email, Username};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::org_unit::Assignment;
use tessera_domain::ports::{Store, StoreError, UserQuery};
use tessera_domain::user::{EmailEntry, PhoneEntry, User, UserKind};

fn created(user: &User) -> tessera_domain::ports::Journal {
    journal(
        user.tenant_id,
        "user.created",
        Some(("user", user.id.to_string())),
    )
}

pub async fn user_round_trip(store: &dyn Store) {
    let t = create_tenant(store).await;
    let merchant = unit(t.id, None, "Merchant");
    store
        .insert_unit(&merchant, &Default::default())
        .await
        .unwrap();

    let mut customer = full_user(t.id);
    customer.kind = UserKind::Customer;
    customer.org_unit_id = Some(merchant.id);
    customer.state = LifecycleState::Deactivated;
    customer.state_before_delete = Some(LifecycleState::Suspended);
    customer.updated_at = at(11);
    customer.version = 7;
    store
        .insert_user(&customer, &created(&customer))
        .await
        .unwrap();
    assert_eq!(
        store.user(t.id, customer.id).await.unwrap(),
        Some(customer.clone())
    );
    for email in &customer.emails {
        assert_eq!(
            store
                .user_by_email(t.id, email.address.key())
                .await
                .unwrap(),
            Some(customer.clone()),
            "found by {}",
            email.address
        );
    }

    let bare = minimal_user(t.id);
    store.insert_user(&bare, &created(&bare)).await.unwrap();
    assert_eq!(store.user(t.id, bare.id).await.unwrap(), Some(bare));

    assert_eq!(
        store
            .user(t.id, UserId::from_uuid(fresh_uuid()))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .user_by_email(t.id, "nobody@example.com")
            .await
            .unwrap(),
        None
    );

    // A user of a tenant that does not exist.
    let lost = minimal_user(tessera_domain::TenantId::from_uuid(fresh_uuid()));
    assert_err!(
        store.insert_user(&lost, &Default::default()).await,
        StoreError::NotFound
    );
    // A customer of a unit that does not exist.
    let mut stray = minimal_user(t.id);
    stray.org_unit_id = Some(tessera_domain::OrgUnitId::from_uuid(fresh_uuid()));
    assert_err!(
        store.insert_user(&stray, &Default::default()).await,
        StoreError::NotFound
    );
    assert_eq!(store.user(t.id, stray.id).await.unwrap(), None);
}

pub async fn user_duplicate_identifiers(store: &dyn Store) {
    let t = create_tenant(store).await;
    let first = full_user(t.id);
    store.insert_user(&first, &created(&first)).await.unwrap();
    let head = head_seq(store, t.id).await;

    let name = first.username.as_ref().unwrap().as_str().to_uppercase();
    let email = first.emails[0].address.as_str().to_lowercase();
    let number = first.phones[1].number.clone();

    let mut by_username = named_user(t.id, "other");
    by_username.username = Some(Username::parse(&name).unwrap());
    let mut by_email = named_user(t.id, "other");
    by_email.emails.push(EmailEntry {
        address: Email::parse(&email).unwrap(),
        verified: false,
        primary: false,
    });
    let mut by_phone = named_user(t.id, "other");
    by_phone.phones.push(PhoneEntry {
        number: phone(),
        verified: false,
        primary: true,
    });
    by_phone.phones.push(PhoneEntry {
        number: number.clone(),
        verified: false,
        primary: false,
    });

    for (candidate, field, value) in [
        (by_username, "username", name),
        (by_email, "email", email),
        (by_phone, "phone", number.as_str().to_owned()),
    ] {
        match store.insert_user(&candidate, &created(&candidate)).await {
            Err(StoreError::Duplicate { field: f, value: v }) => {
                assert_eq!(f, field);
                let v = v.unwrap_or_else(|| panic!("Duplicate {field} carries its value"));
                assert_eq!(v.to_lowercase(), value.to_lowercase());
            }
            other => panic!("expected Duplicate {{ field: {field:?} }}, got {other:?}"),
        }
        // Nothing of the refused user was written.
        assert_eq!(store.user(t.id, candidate.id).await.unwrap(), None);
        let own = candidate.emails[0].address.key();
        assert_eq!(store.user_by_email(t.id, own).await.unwrap(), None);
        assert_eq!(head_seq(store, t.id).await, head);
    }
    assert_eq!(
        store.user(t.id, first.id).await.unwrap(),
        Some(first.clone())
    );

    // The same identifiers are free in another tenant.
    let t2 = create_tenant(store).await;
    let mut twin = first.clone();
    twin.id = UserId::from_uuid(fresh_uuid());
    twin.tenant_id = t2.id;
    store.insert_user(&twin, &created(&twin)).await.unwrap();
    assert_eq!(store.user(t2.id, twin.id).await.unwrap(), Some(twin));
}

pub async fn user_other_tenant_is_invisible(store: &dyn Store) {
    let a = create_tenant(store).await;
    let b = create_tenant(store).await;
    let user = full_user(a.id);
    store.insert_user(&user, &created(&user)).await.unwrap();
    let head_b = head_seq(store, b.id).await;

    assert_eq!(store.user(b.id, user.id).await.unwrap(), None);
    assert_eq!(
        store
            .user_by_email(b.id, user.emails[0].address.key())
            .await
            .unwrap(),
        None
    );
    let listed = store
        .list_users(
            b.id,
            &UserQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await;
    assert!(listed.unwrap().items.is_empty());

    let mut moved = user.clone();
    moved.tenant_id = b.id;
    moved.version = 2;
    assert_err!(
        store.update_user(&moved, 1, &Default::default()).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .erase_user(b.id, user.id, &journal(b.id, "user.erased", None))
            .await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, b.id).await, head_b);
    assert_eq!(store.user(a.id, user.id).await.unwrap(), Some(user));
}

pub async fn user_update_replaces_identifiers(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = full_user(t.id);
    store.insert_user(&user, &created(&user)).await.unwrap();
    let other = named_user(t.id, "other");
    store.insert_user(&other, &created(&other)).await.unwrap();

    let mut changed = full_user(t.id);
    changed.id = user.id;
    let mut kept = user.emails[1].clone(); // one address kept, one dropped
    kept.primary = false;
    changed.emails.push(kept);
    changed.state = LifecycleState::Suspended;
    changed.profile.given_name = None;
    changed.custom_attributes.clear();
    changed.created_at = user.created_at;
    changed.updated_at = at(50);
    changed.version = 2;
    let updated = journal(t.id, "user.updated", Some(("user", user.id.to_string())));
    store.update_user(&changed, 1, &updated).await.unwrap();
    assert_eq!(
        store.user(t.id, user.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(
        store
            .user_by_email(t.id, user.emails[0].address.key())
            .await
            .unwrap(),
        None
    );
    for email in &changed.emails {
        let found = store
            .user_by_email(t.id, email.address.key())
            .await
            .unwrap();
        assert_eq!(found.map(|u| u.id), Some(user.id));
    }

    // The dropped identifiers are free again.
    let mut reuse = minimal_user(t.id);
    reuse.username = user.username.clone();
    reuse.emails = vec![user.emails[0].clone()];
    reuse.phones = user.phones.clone();
    store.insert_user(&reuse, &created(&reuse)).await.unwrap();

    // Stale version.
    let head = head_seq(store, t.id).await;
    let mut stale = changed.clone();
    stale.state = LifecycleState::Active;
    stale.version = 2;
    assert_err!(
        store.update_user(&stale, 1, &updated).await,
        StoreError::Conflict
    );
    assert_eq!(
        store.user(t.id, user.id).await.unwrap(),
        Some(changed.clone())
    );

    // Unknown user.
    let ghost = minimal_user(t.id);
    assert_err!(
        store.update_user(&ghost, 1, &updated).await,
        StoreError::NotFound
    );

    // Taking an identifier of another user: refused, nothing changed.
    let mut grab = other.clone();
    grab.emails.push(changed.emails[0].clone());
    grab.emails[1].primary = false;
    grab.version = 2;
    assert_err!(
        store.update_user(&grab, 1, &updated).await,
        StoreError::Duplicate { field: "email", .. }
    );
    let mut grab = other.clone();
    grab.username = changed.username.clone();
    grab.version = 2;
    assert_err!(
        store.update_user(&grab, 1, &updated).await,
        StoreError::Duplicate {
            field: "username",
            ..
        }
    );
    assert_eq!(store.user(t.id, other.id).await.unwrap(), Some(other));
    assert_eq!(head_seq(store, t.id).await, head);
}

pub async fn user_erase_frees_identifiers(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = full_user(t.id);
    store.insert_user(&user, &created(&user)).await.unwrap();
    let shop = unit(t.id, None, "Shop");
    store.insert_unit(&shop, &Default::default()).await.unwrap();
    let assignment = Assignment {
        tenant_id: t.id,
        unit_id: shop.id,
        user_id: user.id,
        created_at: at(40),
    };
    store
        .assign(&assignment, &Default::default())
        .await
        .unwrap();

    let erased = journal(t.id, "user.erased", Some(("user", user.id.to_string())));
    store.erase_user(t.id, user.id, &erased).await.unwrap();
    assert_eq!(store.user(t.id, user.id).await.unwrap(), None);
    assert_eq!(
        store
            .user_by_email(t.id, user.emails[0].address.key())
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .user_assignments(t.id, user.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_err!(
        store.erase_user(t.id, user.id, &erased).await,
        StoreError::NotFound
    );
    // The unit is no longer in use.
    store
        .delete_unit(t.id, shop.id, &Default::default())
        .await
        .unwrap();

    // Every identifier can be taken again.
    let mut again = full_user(t.id);
    again.username = user.username.clone();
    again.emails = user.emails.clone();
    again.phones = user.phones.clone();
    store.insert_user(&again, &created(&again)).await.unwrap();
    assert_eq!(store.user(t.id, again.id).await.unwrap(), Some(again));
}
