//! Passkeys: round trip, credential ids unique per tenant, listing oldest first, lookup by
//! credential id, recording a use, renaming and deleting only one's own, tenant isolation.

use crate::fixtures::{at, create_tenant, create_user, head_seq, journal, minimal_user, passkey};
use tessera_domain::PasskeyId;
use tessera_domain::mfa::Passkey;
use tessera_domain::ports::{Journal, Store, StoreError};

pub async fn passkey_lifecycle(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;
    let stranger = create_user(store, other.id).await;

    let p1 = passkey(&user, 100);
    let p2 = Passkey {
        aaguid: None,
        backup_eligible: true,
        sign_count: u32::MAX,
        last_used_at: Some(at(150)),
        ..passkey(&user, 200)
    };
    let head = head_seq(store, t.id).await;
    let added = || {
        journal(
            t.id,
            "mfa.passkey_added",
            Some(("user", user.id.to_string())),
        )
    };
    store.insert_passkey(&p2, &added()).await.unwrap();
    store.insert_passkey(&p1, &added()).await.unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 2);
    assert_eq!(
        store.passkeys(t.id, user.id).await.unwrap(),
        vec![p1.clone(), p2.clone()]
    );
    assert_eq!(
        store
            .passkey_by_credential_id(t.id, &p1.credential_id)
            .await
            .unwrap(),
        Some(p1.clone())
    );
    assert_eq!(
        store
            .passkey_by_credential_id(t.id, &p2.credential_id)
            .await
            .unwrap(),
        Some(p2.clone())
    );
    assert_eq!(
        store
            .passkey_by_credential_id(t.id, &p1.credential_id.to_uppercase())
            .await
            .unwrap(),
        None,
        "credential ids are compared byte for byte"
    );
    assert!(store.passkeys(t.id, someone.id).await.unwrap().is_empty());
    // Another tenant sees none of them.
    assert!(store.passkeys(other.id, user.id).await.unwrap().is_empty());
    assert_eq!(
        store
            .passkey_by_credential_id(other.id, &p1.credential_id)
            .await
            .unwrap(),
        None
    );

    // A credential id registered in the tenant already: Duplicate, nothing written. In
    // another tenant it is another credential.
    let head = head_seq(store, t.id).await;
    let twin = Passkey {
        credential_id: p1.credential_id.clone(),
        ..passkey(&someone, 300)
    };
    match store.insert_passkey(&twin, &added()).await {
        Err(StoreError::Duplicate { field, .. }) => assert_eq!(field, "credential_id"),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    assert_eq!(head_seq(store, t.id).await, head);
    assert!(store.passkeys(t.id, someone.id).await.unwrap().is_empty());
    let elsewhere = Passkey {
        credential_id: p1.credential_id.clone(),
        ..passkey(&stranger, 300)
    };
    store
        .insert_passkey(&elsewhere, &Journal::default())
        .await
        .unwrap();
    assert_eq!(
        store
            .passkey_by_credential_id(other.id, &p1.credential_id)
            .await
            .unwrap(),
        Some(elsewhere.clone())
    );
    // A user that does not exist: NotFound.
    assert_err!(
        store
            .insert_passkey(&passkey(&minimal_user(t.id), 300), &added())
            .await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, t.id).await, head);

    // A use: the new counter and serialised credential, and when (not journaled).
    store
        .record_passkey_use(t.id, p1.id, 7, "{\"updated\":true}", at(400))
        .await
        .unwrap();
    let p1_used = Passkey {
        sign_count: 7,
        credential: "{\"updated\":true}".to_owned(),
        last_used_at: Some(at(400)),
        ..p1.clone()
    };
    assert_eq!(
        store
            .passkey_by_credential_id(t.id, &p1.credential_id)
            .await
            .unwrap(),
        Some(p1_used.clone())
    );
    assert_eq!(head_seq(store, t.id).await, head);
    assert_err!(
        store
            .record_passkey_use(other.id, p1.id, 8, "x", at(401))
            .await,
        StoreError::NotFound
    );
    assert_eq!(
        store
            .passkey_by_credential_id(other.id, &p1.credential_id)
            .await
            .unwrap(),
        Some(elsewhere)
    );

    // Rename: only the owner's, journaled.
    let renamed = || journal(t.id, "mfa.passkey_renamed", None);
    store
        .rename_passkey(t.id, user.id, p1.id, "Work key — «2»", &renamed())
        .await
        .unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);
    let p1_renamed = Passkey {
        name: "Work key — «2»".to_owned(),
        ..p1_used
    };
    assert_eq!(
        store.passkeys(t.id, user.id).await.unwrap(),
        vec![p1_renamed.clone(), p2.clone()]
    );
    let unknown = PasskeyId::from_uuid(crate::fixtures::fresh_uuid());
    for (tenant, owner, id) in [
        (t.id, someone.id, p1.id),
        (other.id, user.id, p1.id),
        (t.id, user.id, unknown),
    ] {
        assert_err!(
            store
                .rename_passkey(tenant, owner, id, "Mine now", &renamed())
                .await,
            StoreError::NotFound
        );
        assert_err!(
            store.delete_passkey(tenant, owner, id, &renamed()).await,
            StoreError::NotFound
        );
    }
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(
        store.passkeys(t.id, user.id).await.unwrap(),
        vec![p1_renamed, p2.clone()]
    );

    // Delete: gone, journaled; a second delete is NotFound.
    let removed = || journal(t.id, "mfa.passkey_removed", None);
    store
        .delete_passkey(t.id, user.id, p1.id, &removed())
        .await
        .unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 2);
    assert_eq!(store.passkeys(t.id, user.id).await.unwrap(), vec![p2]);
    assert_eq!(
        store
            .passkey_by_credential_id(t.id, &p1.credential_id)
            .await
            .unwrap(),
        None
    );
    assert_err!(
        store.delete_passkey(t.id, user.id, p1.id, &removed()).await,
        StoreError::NotFound
    );
    // The credential id is free again in the tenant.
    let again = Passkey {
        credential_id: p1.credential_id.clone(),
        ..passkey(&someone, 500)
    };
    store
        .insert_passkey(&again, &Journal::default())
        .await
        .unwrap();
    assert_eq!(store.passkeys(t.id, someone.id).await.unwrap(), vec![again]);
}
