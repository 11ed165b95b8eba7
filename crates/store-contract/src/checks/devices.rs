//! Devices: round trip by hash, touching (with and without remembering), listing the live
//! ones most recently seen first, revoking one (only one's own) or all; networks: known after
//! the first record, which alone says "first time"; tenant isolation.

use crate::fixtures::{
    at, create_tenant, create_user, device, fresh_uuid, head_seq, journal, minimal_user,
};
use tessera_domain::DeviceId;
use tessera_domain::mfa::Device;
use tessera_domain::ports::{Journal, Store, StoreError};
use tessera_domain::user::User;

async fn live_ids(store: &dyn Store, user: &User) -> Vec<DeviceId> {
    store
        .devices(user.tenant_id, user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.id)
        .collect()
}

pub async fn device_lifecycle(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;

    let d1 = device(&user, 100);
    let d2 = Device {
        description: None,
        remember_until: Some(at(100 + 30 * 86_400)),
        ..device(&user, 200)
    };
    let d3 = device(&user, 300);
    let theirs = device(&someone, 150);
    for d in [&d1, &d2, &d3, &theirs] {
        store.insert_device(d).await.unwrap();
    }
    assert_eq!(
        store.device_by_hash(t.id, &d2.secret_hash).await.unwrap(),
        Some(d2.clone())
    );
    assert_eq!(
        store
            .device_by_hash(other.id, &d2.secret_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .device_by_hash(t.id, &crate::fixtures::hash())
            .await
            .unwrap(),
        None
    );
    assert_eq!(live_ids(store, &user).await, vec![d3.id, d2.id, d1.id]);
    assert!(store.devices(other.id, user.id).await.unwrap().is_empty());

    // The same secret twice in a tenant: Duplicate. A user that does not exist: NotFound.
    let twin = Device {
        secret_hash: d1.secret_hash.clone(),
        ..device(&someone, 160)
    };
    assert_err!(
        store.insert_device(&twin).await,
        StoreError::Duplicate { .. }
    );
    assert_err!(
        store.insert_device(&device(&minimal_user(t.id), 160)).await,
        StoreError::NotFound
    );

    // Touch: seen now; remembered when asked, otherwise the remembrance is kept; seen never
    // moves back.
    let until = at(400 + 30 * 86_400);
    store
        .touch_device(t.id, d1.id, at(400), Some(until))
        .await
        .unwrap();
    let touched = Device {
        last_seen_at: at(400),
        remember_until: Some(until),
        ..d1.clone()
    };
    assert_eq!(
        store.device_by_hash(t.id, &d1.secret_hash).await.unwrap(),
        Some(touched.clone())
    );
    assert!(touched.remembered(at(500)));
    store
        .touch_device(t.id, d1.id, at(350), None)
        .await
        .unwrap();
    assert_eq!(
        store.device_by_hash(t.id, &d1.secret_hash).await.unwrap(),
        Some(touched.clone())
    );
    store
        .touch_device(t.id, d2.id, at(450), None)
        .await
        .unwrap();
    assert_eq!(
        store.device_by_hash(t.id, &d2.secret_hash).await.unwrap(),
        Some(Device {
            last_seen_at: at(450),
            ..d2.clone()
        })
    );
    assert_eq!(live_ids(store, &user).await, vec![d2.id, d1.id, d3.id]);
    for (tenant, id) in [(other.id, d1.id), (t.id, DeviceId::from_uuid(fresh_uuid()))] {
        assert_err!(
            store.touch_device(tenant, id, at(460), None).await,
            StoreError::NotFound
        );
    }

    // Revoke one: only a live device of this user, journaled.
    let revoked = || journal(t.id, "device.revoked", Some(("user", user.id.to_string())));
    let head = head_seq(store, t.id).await;
    for (tenant, owner, id) in [
        (t.id, someone.id, d1.id),
        (other.id, user.id, d1.id),
        (t.id, user.id, theirs.id),
        (t.id, user.id, DeviceId::from_uuid(fresh_uuid())),
    ] {
        assert_err!(
            store
                .revoke_devices(tenant, owner, Some(id), at(500), &revoked())
                .await,
            StoreError::NotFound
        );
    }
    assert_eq!(head_seq(store, t.id).await, head);
    let n = store
        .revoke_devices(t.id, user.id, Some(d1.id), at(500), &revoked())
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(head_seq(store, t.id).await, head + 1);
    let gone = store
        .device_by_hash(t.id, &d1.secret_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.revoked_at, Some(at(500)));
    assert!(
        !gone.remembered(at(501)),
        "a revoked device is not remembered"
    );
    assert_eq!(live_ids(store, &user).await, vec![d2.id, d3.id]);
    assert_err!(
        store
            .revoke_devices(t.id, user.id, Some(d1.id), at(510), &revoked())
            .await,
        StoreError::NotFound
    );

    // Revoke all: the user's live ones; earlier revocations keep their instant.
    let n = store
        .revoke_devices(t.id, user.id, None, at(600), &revoked())
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert!(live_ids(store, &user).await.is_empty());
    assert_eq!(
        store
            .device_by_hash(t.id, &d2.secret_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(at(600))
    );
    assert_eq!(
        store
            .device_by_hash(t.id, &d1.secret_hash)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(at(500))
    );
    let n = store
        .revoke_devices(t.id, user.id, None, at(700), &Journal::default())
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Someone else's device lives on.
    assert_eq!(live_ids(store, &someone).await, vec![theirs.id]);
}

pub async fn network_recognition(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;
    let v4 = "203.0.113.0/24";
    let v6 = "2001:db8:1::/48";

    assert!(!store.network_known(t.id, user.id, v4).await.unwrap());
    assert!(
        store
            .record_network(t.id, user.id, v4, at(100))
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_network(t.id, user.id, v4, at(200))
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_network(t.id, user.id, v4, at(150))
            .await
            .unwrap()
    );
    assert!(store.network_known(t.id, user.id, v4).await.unwrap());
    assert!(!store.network_known(t.id, user.id, v6).await.unwrap());
    assert!(
        store
            .record_network(t.id, user.id, v6, at(300))
            .await
            .unwrap()
    );
    assert!(store.network_known(t.id, user.id, v6).await.unwrap());

    // Per user and per tenant.
    assert!(!store.network_known(t.id, someone.id, v4).await.unwrap());
    assert!(!store.network_known(other.id, user.id, v4).await.unwrap());
    assert!(
        store
            .record_network(t.id, someone.id, v4, at(400))
            .await
            .unwrap()
    );

    // A user that does not exist: NotFound.
    assert_err!(
        store
            .record_network(t.id, minimal_user(t.id).id, v4, at(500))
            .await,
        StoreError::NotFound
    );
}
