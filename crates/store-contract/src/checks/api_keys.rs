//! Admin API keys: lookup by hash, listing, use, revocation.

use crate::fixtures::{api_key, at, create_tenant, fresh_uuid, head_seq, journal};
use tessera_domain::ApiKeyId;
use tessera_domain::paging::Cursor;
use tessera_domain::ports::{Store, StoreError};

pub async fn api_key_lifecycle(store: &dyn Store) {
    let t = create_tenant(store).await;
    let b = create_tenant(store).await;
    let key = api_key(t.id);
    let created = journal(
        t.id,
        "api_key.created",
        Some(("api_key", key.id.to_string())),
    );
    store.insert_api_key(&key, &created).await.unwrap();
    assert_eq!(
        store.api_key_by_hash(t.id, &key.secret_hash).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(
        store.api_key(t.id, key.id).await.unwrap(),
        Some(key.clone())
    );
    assert_eq!(
        store.api_key_by_hash(b.id, &key.secret_hash).await.unwrap(),
        None
    );
    assert_eq!(store.api_key(b.id, key.id).await.unwrap(), None);
    assert_eq!(store.api_key_by_hash(t.id, "00").await.unwrap(), None);

    // A key without the optional parts round-trips too.
    let mut plain = api_key(t.id);
    plain.created_by = None;
    plain.expires_at = None;
    plain.scopes = vec![tessera_domain::api_key::Scope::All];
    store
        .insert_api_key(&plain, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        store.api_key(t.id, plain.id).await.unwrap(),
        Some(plain.clone())
    );

    // The same secret hash twice in a tenant is refused.
    let mut twin = api_key(t.id);
    twin.secret_hash.clone_from(&key.secret_hash);
    assert_err!(
        store.insert_api_key(&twin, &Default::default()).await,
        StoreError::Duplicate { .. }
    );
    assert_eq!(store.api_key(t.id, twin.id).await.unwrap(), None);

    // Listing by id.
    let third = api_key(t.id);
    store
        .insert_api_key(&third, &Default::default())
        .await
        .unwrap();
    let mut listed = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store.list_api_keys(t.id, after.as_ref(), 2).await.unwrap();
        assert!(page.items.len() <= 2);
        listed.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut expected = vec![key.clone(), plain, third];
    expected.sort_by_key(|k| k.id);
    assert_eq!(listed, expected);
    assert!(
        store
            .list_api_keys(b.id, None, 50)
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // Use.
    store.touch_api_key(t.id, key.id, at(3_600)).await.unwrap();
    let used = store.api_key(t.id, key.id).await.unwrap().unwrap();
    assert_eq!(used.last_used_at, Some(at(3_600)));

    // Revocation, once.
    let head = head_seq(store, t.id).await;
    let revoked = journal(
        t.id,
        "api_key.revoked",
        Some(("api_key", key.id.to_string())),
    );
    assert_err!(
        store
            .revoke_api_key(b.id, key.id, at(7_200), &revoked)
            .await,
        StoreError::NotFound
    );
    store
        .revoke_api_key(t.id, key.id, at(7_200), &revoked)
        .await
        .unwrap();
    let gone = store
        .api_key_by_hash(t.id, &key.secret_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.revoked_at, Some(at(7_200)));
    assert_eq!(gone.last_used_at, Some(at(3_600)));
    assert_err!(
        store
            .revoke_api_key(t.id, key.id, at(9_000), &revoked)
            .await,
        StoreError::NotFound
    );
    assert_eq!(
        store
            .api_key(t.id, key.id)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(at(7_200)),
        "a second revocation changes nothing"
    );
    let ghost = ApiKeyId::from_uuid(fresh_uuid());
    assert_err!(
        store.revoke_api_key(t.id, ghost, at(1), &revoked).await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);
}
