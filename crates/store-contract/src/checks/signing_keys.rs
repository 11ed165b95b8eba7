//! Signing keys: the first key, rotation that names the current key (else `Conflict`,
//! nothing written), retired keys published until a given instant, pruning.

use crate::fixtures::{at, create_tenant, head_seq, journal, signing_key, tag};
use tessera_domain::ports::{Journal, Store, StoreError};
use tessera_domain::token::SigningKey;

fn retired(key: &SigningKey, at_s: i64, until_s: i64) -> SigningKey {
    SigningKey {
        retired_at: Some(at(at_s)),
        publish_until: Some(at(until_s)),
        ..key.clone()
    }
}

pub async fn signing_key_rotation(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    assert!(store.signing_keys(t.id).await.unwrap().is_empty());
    let added = || journal(t.id, "signing_key.added", None);
    let k1 = signing_key(t.id, &format!("k1-{}", tag()), 100);
    let k2 = signing_key(t.id, &format!("k2-{}", tag()), 200);
    let k3 = signing_key(t.id, &format!("k3-{}", tag()), 300);

    // The first key retires nothing.
    let head = head_seq(store, t.id).await;
    store.add_signing_key(&k1, None, &added()).await.unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(store.signing_keys(t.id).await.unwrap(), vec![k1.clone()]);

    // Not naming the current key (another node rotated first): `Conflict`, nothing written.
    let head = head_seq(store, t.id).await;
    assert_err!(
        store.add_signing_key(&k2, None, &added()).await,
        StoreError::Conflict
    );
    assert_err!(
        store
            .add_signing_key(&k2, Some(("not-the-current-kid", at(4_100))), &added())
            .await,
        StoreError::Conflict
    );
    assert_eq!(store.signing_keys(t.id).await.unwrap(), vec![k1.clone()]);
    assert_eq!(head_seq(store, t.id).await, head);

    // Rotation: the current key is retired at the new key's creation, published until then.
    store
        .add_signing_key(&k2, Some((&k1.kid, at(4_100))), &added())
        .await
        .unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(
        store.signing_keys(t.id).await.unwrap(),
        vec![k2.clone(), retired(&k1, 200, 4_100)]
    );

    // Naming a key that is already retired: `Conflict`.
    assert_err!(
        store
            .add_signing_key(&k3, Some((&k1.kid, at(9_000))), &added())
            .await,
        StoreError::Conflict
    );
    // A kid used before: refused, and the current key is not retired.
    let reused_kid = signing_key(t.id, &k1.kid, 300);
    assert_err!(
        store
            .add_signing_key(&reused_kid, Some((&k2.kid, at(9_000))), &added())
            .await,
        StoreError::Duplicate { .. }
    );
    assert_eq!(
        store.signing_keys(t.id).await.unwrap(),
        vec![k2.clone(), retired(&k1, 200, 4_100)]
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);

    // Another tenant has keys of its own: none yet, so its first key retires nothing, and
    // the same kid is free there.
    assert!(store.signing_keys(other.id).await.unwrap().is_empty());
    let theirs = signing_key(other.id, &k1.kid, 100);
    store
        .add_signing_key(&theirs, None, &Journal::default())
        .await
        .unwrap();
    assert_eq!(store.signing_keys(other.id).await.unwrap(), vec![theirs]);
    assert_eq!(store.signing_keys(t.id).await.unwrap().len(), 2);

    store
        .add_signing_key(&k3, Some((&k2.kid, at(8_000))), &added())
        .await
        .unwrap();
    assert_eq!(
        store.signing_keys(t.id).await.unwrap(),
        vec![
            k3.clone(),
            retired(&k2, 300, 8_000),
            retired(&k1, 200, 4_100)
        ]
    );
}

pub async fn signing_key_prune(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let k1 = signing_key(t.id, "k1", 100);
    let k2 = signing_key(t.id, "k2", 200);
    let k3 = signing_key(t.id, "k3", 300);
    let none = Journal::default();
    store.add_signing_key(&k1, None, &none).await.unwrap();
    store
        .add_signing_key(&k2, Some(("k1", at(4_100))), &none)
        .await
        .unwrap();
    store
        .add_signing_key(&k3, Some(("k2", at(8_000))), &none)
        .await
        .unwrap();
    let theirs = signing_key(other.id, "k1", 100);
    store.add_signing_key(&theirs, None, &none).await.unwrap();

    // Still published: nothing pruned.
    assert_eq!(store.prune_signing_keys(t.id, at(4_099)).await.unwrap(), 0);
    assert_eq!(store.signing_keys(t.id).await.unwrap().len(), 3);
    // At its `publish_until` a retired key is no longer published.
    assert_eq!(store.prune_signing_keys(t.id, at(4_100)).await.unwrap(), 1);
    assert_eq!(
        store.signing_keys(t.id).await.unwrap(),
        vec![k3.clone(), retired(&k2, 300, 8_000)]
    );
    assert_eq!(store.prune_signing_keys(t.id, at(7_999)).await.unwrap(), 0);
    // The current key is never pruned, however late.
    assert_eq!(
        store
            .prune_signing_keys(t.id, at(10_000_000))
            .await
            .unwrap(),
        1
    );
    assert_eq!(store.signing_keys(t.id).await.unwrap(), vec![k3]);
    // Pruning one tenant leaves the others alone.
    assert_eq!(
        store
            .prune_signing_keys(other.id, at(10_000_000))
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.signing_keys(other.id).await.unwrap(), vec![theirs]);
}
