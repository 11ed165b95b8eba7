//! The bulk path for users: a batch round-trips with one audit event per user appended in
//! order; a duplicate (within the batch or against a user already there) writes nothing.

use crate::fixtures::{
    create_tenant, draft, fresh_uuid, full_user, head_seq, minimal_user, named_user, phone,
    verify_chain,
};
use tessera_domain::TenantId;
use tessera_domain::identifiers::{Email, Username};
use tessera_domain::ports::{Journal, Store, StoreError, UserQuery};
use tessera_domain::user::{EmailEntry, PhoneEntry, User};

/// One `user.created` event per user, in the batch's order.
fn created_all(users: &[User]) -> Journal {
    Journal {
        events: users
            .iter()
            .map(|u| {
                draft(
                    u.tenant_id,
                    "user.created",
                    Some(("user", u.id.to_string())),
                )
            })
            .collect(),
        authz_changed: false,
    }
}

/// `count` users with a username, an email and a phone each.
fn batch(tenant: TenantId, count: usize) -> Vec<User> {
    (0..count)
        .map(|i| {
            let mut user = named_user(tenant, &format!("bulk{i}-"));
            user.phones.push(PhoneEntry {
                number: phone(),
                verified: i % 2 == 0,
                primary: true,
            });
            user
        })
        .collect()
}

async fn count_users(store: &dyn Store, tenant: TenantId) -> usize {
    let query = UserQuery {
        limit: 500,
        ..Default::default()
    };
    store.list_users(tenant, &query).await.unwrap().items.len()
}

pub async fn user_bulk_round_trip(store: &dyn Store) {
    let t = create_tenant(store).await;
    let mut users = vec![full_user(t.id), minimal_user(t.id)];
    users.extend(batch(t.id, 120));
    let journal = created_all(&users);
    store.insert_users(&users, &journal).await.unwrap();

    for user in &users {
        assert_eq!(
            store.user(t.id, user.id).await.unwrap().as_ref(),
            Some(user)
        );
    }
    for email in &users[0].emails {
        let found = store
            .user_by_email(t.id, email.address.key())
            .await
            .unwrap();
        assert_eq!(found.as_ref(), Some(&users[0]));
    }
    assert_eq!(count_users(store, t.id).await, users.len());

    // tenant.created, then one user.created per user, in the batch's order.
    let events = verify_chain(store, t.id, 50).await;
    assert_eq!(events.len(), 1 + users.len());
    for (event, draft) in events[1..].iter().zip(&journal.events) {
        crate::fixtures::assert_event_matches(event, draft);
    }
    let subjects: Vec<String> = events[1..]
        .iter()
        .filter_map(|e| e.subject_id.clone())
        .collect();
    let ids: Vec<String> = users.iter().map(|u| u.id.to_string()).collect();
    assert_eq!(subjects, ids);

    // A second batch continues the chain; an empty batch writes nothing.
    let more = batch(t.id, 3);
    store
        .insert_users(&more, &created_all(&more))
        .await
        .unwrap();
    store.insert_users(&[], &Journal::default()).await.unwrap();
    assert_eq!(
        verify_chain(store, t.id, 50).await.len(),
        1 + users.len() + 3
    );

    // Users of two tenants in one batch are refused, and nothing is written.
    let other = create_tenant(store).await;
    let mixed = vec![minimal_user(t.id), minimal_user(other.id)];
    assert!(
        store
            .insert_users(&mixed, &created_all(&mixed))
            .await
            .is_err()
    );
    assert_eq!(store.user(t.id, mixed[0].id).await.unwrap(), None);
    assert_eq!(store.user(other.id, mixed[1].id).await.unwrap(), None);
    // A batch for a tenant that does not exist.
    let lost = vec![minimal_user(TenantId::from_uuid(fresh_uuid()))];
    assert_err!(
        store.insert_users(&lost, &Journal::default()).await,
        StoreError::NotFound
    );
}

/// Asserts that `users` is refused as a duplicate of `field` carrying `value` (compared
/// case-insensitively), and that nothing was written: no user, no audit event.
async fn assert_refused(
    store: &dyn Store,
    tenant: TenantId,
    users: &[User],
    field: &str,
    value: &str,
) {
    let head = store.audit_head(tenant).await.unwrap();
    let before = count_users(store, tenant).await;
    let journal = created_all(users);
    match store.insert_users(users, &journal).await {
        Err(StoreError::Duplicate { field: f, value: v }) => {
            assert_eq!(f, field);
            let v = v.unwrap_or_else(|| panic!("Duplicate {field} carries its value"));
            assert_eq!(v.to_lowercase(), value.to_lowercase());
        }
        other => panic!("expected Duplicate {{ field: {field:?} }}, got {other:?}"),
    }
    for user in users {
        assert_eq!(store.user(tenant, user.id).await.unwrap(), None);
    }
    assert_eq!(count_users(store, tenant).await, before);
    assert_eq!(store.audit_head(tenant).await.unwrap(), head);
    let events = verify_chain(store, tenant, 100).await;
    assert!(
        events
            .iter()
            .all(|e| journal.events.iter().all(|d| d.id != e.id))
    );
}

pub async fn user_bulk_duplicates_write_nothing(store: &dyn Store) {
    let t = create_tenant(store).await;
    let existing = full_user(t.id);
    store
        .insert_users(
            std::slice::from_ref(&existing),
            &created_all(std::slice::from_ref(&existing)),
        )
        .await
        .unwrap();
    let seq = head_seq(store, t.id).await;

    // Repeated within the batch (other case): the later item is the duplicate.
    let mut users = batch(t.id, 10);
    let repeated = users[2].emails[0].address.as_str().to_uppercase();
    users[7].emails.push(EmailEntry {
        address: Email::parse(&repeated).unwrap(),
        verified: false,
        primary: false,
    });
    assert_refused(store, t.id, &users, "email", &repeated).await;

    let mut users = batch(t.id, 10);
    let name = users[4].username.as_ref().unwrap().as_str().to_uppercase();
    users[9].username = Some(Username::parse(&name).unwrap());
    assert_refused(store, t.id, &users, "username", &name).await;

    let mut users = batch(t.id, 10);
    let number = users[0].phones[0].number.clone();
    users[5].phones.push(PhoneEntry {
        number: number.clone(),
        verified: false,
        primary: false,
    });
    assert_refused(store, t.id, &users, "phone", number.as_str()).await;

    // Taken by a user already there (the clash is in the middle of the batch).
    let mut users = batch(t.id, 10);
    let email = existing.emails[1].address.as_str().to_lowercase();
    users[6].emails = vec![EmailEntry {
        address: Email::parse(&email).unwrap(),
        verified: false,
        primary: true,
    }];
    assert_refused(store, t.id, &users, "email", &email).await;

    let mut users = batch(t.id, 10);
    let name = existing.username.as_ref().unwrap().as_str().to_uppercase();
    users[3].username = Some(Username::parse(&name).unwrap());
    assert_refused(store, t.id, &users, "username", &name).await;

    let mut users = batch(t.id, 10);
    let number = existing.phones[1].number.clone();
    users[8].phones = vec![PhoneEntry {
        number: number.clone(),
        verified: false,
        primary: true,
    }];
    assert_refused(store, t.id, &users, "phone", number.as_str()).await;

    assert_eq!(head_seq(store, t.id).await, seq);
    assert_eq!(count_users(store, t.id).await, 1);

    // The same identifiers are free in another tenant, and the batch goes through there.
    let t2 = create_tenant(store).await;
    let mut twin = existing.clone();
    twin.id = tessera_domain::UserId::from_uuid(fresh_uuid());
    twin.tenant_id = t2.id;
    let twins = vec![twin];
    store
        .insert_users(&twins, &created_all(&twins))
        .await
        .unwrap();
    assert_eq!(
        store.user(t2.id, twins[0].id).await.unwrap().as_ref(),
        twins.first()
    );
}
