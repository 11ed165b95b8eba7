//! Ceremony challenges: round trip by id and by secret, consumed once, not after they
//! expire, exactly one winner among concurrent consumers, pruned by expiry across tenants,
//! tenant isolation.

use crate::fixtures::{at, challenge, create_tenant, create_user, fresh_uuid, hash, minimal_user};
use futures::future::{BoxFuture, join_all};
use tessera_domain::ChallengeId;
use tessera_domain::mfa::{Challenge, ChallengeKind};
use tessera_domain::ports::{Store, StoreError};

pub async fn challenge_single_use(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;

    // With a user, and without one (a discoverable passkey sign-in); with a secret (a link).
    let registration = challenge(t.id, Some(&user), ChallengeKind::PasskeyRegistration, 100);
    let discoverable = challenge(t.id, None, ChallengeKind::PasskeyAuthentication, 100);
    let link = Challenge {
        secret_hash: Some(hash()),
        ..challenge(t.id, Some(&user), ChallengeKind::SignInLink, 100)
    };
    for c in [&registration, &discoverable, &link] {
        store.insert_challenge(c).await.unwrap();
        assert_eq!(store.challenge(t.id, c.id).await.unwrap(), Some(c.clone()));
        assert_eq!(store.challenge(other.id, c.id).await.unwrap(), None);
    }
    let secret = link.secret_hash.clone().unwrap();
    assert_eq!(
        store.challenge_by_secret(t.id, &secret).await.unwrap(),
        Some(link.clone())
    );
    assert_eq!(
        store.challenge_by_secret(other.id, &secret).await.unwrap(),
        None
    );
    assert_eq!(
        store.challenge_by_secret(t.id, &hash()).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .challenge(t.id, ChallengeId::from_uuid(fresh_uuid()))
            .await
            .unwrap(),
        None
    );

    // The same secret twice in a tenant: Duplicate. A user that does not exist: NotFound.
    let twin = Challenge {
        secret_hash: Some(secret.clone()),
        ..challenge(t.id, Some(&user), ChallengeKind::SignInLink, 110)
    };
    assert_err!(
        store.insert_challenge(&twin).await,
        StoreError::Duplicate { .. }
    );
    assert_eq!(store.challenge(t.id, twin.id).await.unwrap(), None);
    let ghost = challenge(
        t.id,
        Some(&minimal_user(t.id)),
        ChallengeKind::PasskeyRegistration,
        110,
    );
    assert_err!(store.insert_challenge(&ghost).await, StoreError::NotFound);

    // Consumed once; not from another tenant.
    assert!(
        !store
            .consume_challenge(other.id, link.id, at(120))
            .await
            .unwrap()
    );
    assert!(
        store
            .consume_challenge(t.id, link.id, at(120))
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_challenge(t.id, link.id, at(121))
            .await
            .unwrap()
    );
    let consumed = Challenge {
        consumed_at: Some(at(120)),
        ..link.clone()
    };
    assert_eq!(
        store.challenge(t.id, link.id).await.unwrap(),
        Some(consumed.clone())
    );
    assert_eq!(
        store.challenge_by_secret(t.id, &secret).await.unwrap(),
        Some(consumed)
    );
    // Others are untouched.
    assert_eq!(
        store.challenge(t.id, registration.id).await.unwrap(),
        Some(registration.clone())
    );

    // Expired (at its end and after): not consumable, still readable.
    assert!(
        !store
            .consume_challenge(t.id, registration.id, registration.expires_at)
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_challenge(t.id, registration.id, at(10_000))
            .await
            .unwrap()
    );
    assert_eq!(
        store.challenge(t.id, registration.id).await.unwrap(),
        Some(registration)
    );
    // Just before its end: consumable.
    assert!(
        store
            .consume_challenge(
                t.id,
                discoverable.id,
                discoverable.expires_at - time::Duration::microseconds(1)
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .consume_challenge(t.id, ChallengeId::from_uuid(fresh_uuid()), at(120))
            .await
            .unwrap()
    );
}

pub async fn challenge_concurrent_consume(store: &dyn Store) {
    let t = create_tenant(store).await;
    let c = challenge(t.id, None, ChallengeKind::PasskeyAuthentication, 100);
    store.insert_challenge(&c).await.unwrap();
    let consumers: Vec<BoxFuture<'_, Result<bool, StoreError>>> = (0..8)
        .map(|_| store.consume_challenge(t.id, c.id, at(110)))
        .collect();
    let wins = join_all(consumers)
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|won| *won)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(
        store
            .challenge(t.id, c.id)
            .await
            .unwrap()
            .unwrap()
            .consumed_at,
        Some(at(110))
    );
}

pub async fn challenge_prune(store: &dyn Store) {
    let a = create_tenant(store).await;
    let b = create_tenant(store).await;
    let user = create_user(store, a.id).await;
    // Expiring at 400 (a, b, and a consumed one), and at 1_300 (a, b).
    let old_a = challenge(a.id, Some(&user), ChallengeKind::PasskeyRegistration, 100);
    let old_b = challenge(b.id, None, ChallengeKind::PasskeyAuthentication, 100);
    let old_used = challenge(a.id, None, ChallengeKind::PasskeyAuthentication, 100);
    let live_a = challenge(a.id, Some(&user), ChallengeKind::SignInLink, 1_000);
    let live_b = challenge(b.id, None, ChallengeKind::PasskeyAuthentication, 1_000);
    for c in [&old_a, &old_b, &old_used, &live_a, &live_b] {
        store.insert_challenge(c).await.unwrap();
    }
    assert!(
        store
            .consume_challenge(a.id, old_used.id, at(150))
            .await
            .unwrap()
    );

    // Expired at `before` exactly is not "before": kept.
    store.prune_challenges(at(400)).await.unwrap();
    assert!(store.challenge(a.id, old_a.id).await.unwrap().is_some());
    assert!(store.challenge(b.id, old_b.id).await.unwrap().is_some());

    // Every tenant's expired challenges go (the database may hold others' too: at least 3).
    let pruned = store.prune_challenges(at(401)).await.unwrap();
    assert!(pruned >= 3, "{pruned}");
    for (tenant, id) in [(a.id, old_a.id), (b.id, old_b.id), (a.id, old_used.id)] {
        assert_eq!(store.challenge(tenant, id).await.unwrap(), None);
    }
    assert_eq!(
        store.challenge(a.id, live_a.id).await.unwrap(),
        Some(live_a)
    );
    assert_eq!(
        store.challenge(b.id, live_b.id).await.unwrap(),
        Some(live_b)
    );
}
