//! TOTP factors: pending until confirmed (a pending factor can be replaced, a confirmed one
//! cannot), each time step accepted once and never one before the last, exactly one winner
//! among concurrent uses of a step, deletion, tenant isolation.

use crate::fixtures::{
    at, create_tenant, create_user, head_seq, journal, minimal_user, totp_factor,
};
use futures::future::{BoxFuture, join_all};
use tessera_domain::mfa::TotpFactor;
use tessera_domain::ports::{Journal, Store, StoreError};
use tessera_domain::user::User;

fn used(user: &User) -> Journal {
    journal(
        user.tenant_id,
        "mfa.totp_used",
        Some(("user", user.id.to_string())),
    )
}

pub async fn totp_enrol_confirm_and_use(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;
    assert_eq!(store.totp(t.id, user.id).await.unwrap(), None);

    // Pending: stored, replaceable, invisible from another tenant, not usable.
    let first = totp_factor(&user, 100);
    store.put_pending_totp(&first).await.unwrap();
    assert_eq!(
        store.totp(t.id, user.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.totp(other.id, user.id).await.unwrap(), None);
    assert_eq!(store.totp(t.id, someone.id).await.unwrap(), None);
    let pending = TotpFactor {
        secret_sealed: vec![7, 0, 7],
        ..totp_factor(&user, 110)
    };
    store.put_pending_totp(&pending).await.unwrap();
    assert_eq!(
        store.totp(t.id, user.id).await.unwrap(),
        Some(pending.clone())
    );
    let head = head_seq(store, t.id).await;
    assert!(
        !store
            .use_totp_step(t.id, user.id, 5, &used(&user))
            .await
            .unwrap()
    );
    assert_eq!(head_seq(store, t.id).await, head);

    // Confirmed once, with the first code's step, journaled; a second confirmation finds
    // nothing pending. Another tenant cannot confirm it.
    assert!(
        !store
            .confirm_totp(other.id, user.id, 900, at(115), &used(&user))
            .await
            .unwrap()
    );
    let confirmed = journal(
        t.id,
        "mfa.totp_enrolled",
        Some(("user", user.id.to_string())),
    );
    assert!(
        store
            .confirm_totp(t.id, user.id, 1_000, at(120), &confirmed)
            .await
            .unwrap()
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);
    let factor = TotpFactor {
        confirmed_at: Some(at(120)),
        last_step: 1_000,
        ..pending.clone()
    };
    assert_eq!(
        store.totp(t.id, user.id).await.unwrap(),
        Some(factor.clone())
    );
    assert!(
        !store
            .confirm_totp(t.id, user.id, 1_001, at(121), &confirmed)
            .await
            .unwrap()
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);

    // A confirmed factor is not replaced by a pending one.
    assert_err!(
        store.put_pending_totp(&totp_factor(&user, 130)).await,
        StoreError::Conflict
    );
    assert_eq!(
        store.totp(t.id, user.id).await.unwrap(),
        Some(factor.clone())
    );

    // Steps: the confirming step and earlier ones are refused, a later one is accepted
    // once (journaled), steps may jump forward, never back.
    let head = head_seq(store, t.id).await;
    for step in [1_000, 999, 0, -1] {
        assert!(
            !store
                .use_totp_step(t.id, user.id, step, &used(&user))
                .await
                .unwrap(),
            "step {step}"
        );
    }
    assert_eq!(head_seq(store, t.id).await, head);
    assert!(
        store
            .use_totp_step(t.id, user.id, 1_001, &used(&user))
            .await
            .unwrap()
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert!(
        !store
            .use_totp_step(t.id, user.id, 1_001, &used(&user))
            .await
            .unwrap()
    );
    assert!(
        store
            .use_totp_step(t.id, user.id, 1_005, &used(&user))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_totp_step(t.id, user.id, 1_003, &used(&user))
            .await
            .unwrap()
    );
    assert_eq!(head_seq(store, t.id).await, head + 2);
    assert_eq!(
        store.totp(t.id, user.id).await.unwrap().unwrap().last_step,
        1_005
    );
    // Not from another tenant, nor for a user without a factor.
    assert!(
        !store
            .use_totp_step(other.id, user.id, 2_000, &used(&user))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_totp_step(t.id, someone.id, 2_000, &used(&someone))
            .await
            .unwrap()
    );
    assert_eq!(head_seq(store, t.id).await, head + 2);

    // A user that does not exist has no factor to store.
    assert_err!(
        store
            .put_pending_totp(&totp_factor(&minimal_user(t.id), 140))
            .await,
        StoreError::NotFound
    );

    // Deletion: NotFound for a user without one or from another tenant (nothing journaled),
    // then gone; a pending factor can be deleted too.
    let removed = || {
        journal(
            t.id,
            "mfa.totp_removed",
            Some(("user", user.id.to_string())),
        )
    };
    let head = head_seq(store, t.id).await;
    assert_err!(
        store.delete_totp(t.id, someone.id, &removed()).await,
        StoreError::NotFound
    );
    assert_err!(
        store.delete_totp(other.id, user.id, &removed()).await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, t.id).await, head);
    store.delete_totp(t.id, user.id, &removed()).await.unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(store.totp(t.id, user.id).await.unwrap(), None);
    assert!(
        !store
            .use_totp_step(t.id, user.id, 3_000, &used(&user))
            .await
            .unwrap()
    );
    assert_err!(
        store.delete_totp(t.id, user.id, &removed()).await,
        StoreError::NotFound
    );
    store
        .put_pending_totp(&totp_factor(&user, 150))
        .await
        .unwrap();
    store.delete_totp(t.id, user.id, &removed()).await.unwrap();
    assert_eq!(store.totp(t.id, user.id).await.unwrap(), None);
}

pub async fn totp_concurrent_use(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    store
        .put_pending_totp(&totp_factor(&user, 100))
        .await
        .unwrap();

    // Eight confirmations at once: exactly one confirms.
    let head = head_seq(store, t.id).await;
    let j = used(&user);
    let confirms: Vec<BoxFuture<'_, Result<bool, StoreError>>> = (0..8)
        .map(|i| store.confirm_totp(t.id, user.id, 10 + i, at(110), &j))
        .collect();
    let wins = join_all(confirms)
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|won| *won)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(head_seq(store, t.id).await, head + 1);
    let step = store.totp(t.id, user.id).await.unwrap().unwrap().last_step;
    assert!((10..18).contains(&step), "{step}");

    // Eight uses of the next step at once: exactly one is accepted, and journaled.
    let j = used(&user);
    let uses: Vec<BoxFuture<'_, Result<bool, StoreError>>> = (0..8)
        .map(|_| store.use_totp_step(t.id, user.id, 100, &j))
        .collect();
    let wins = join_all(uses)
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|won| *won)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(head_seq(store, t.id).await, head + 2);
    assert_eq!(
        store.totp(t.id, user.id).await.unwrap().unwrap().last_step,
        100
    );
}
