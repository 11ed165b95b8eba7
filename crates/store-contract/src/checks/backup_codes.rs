//! Backup codes: a new set replaces the old one (whose codes stop working), each code works
//! once and only for its user in its tenant, the summary counts them, and of several
//! concurrent uses of one code exactly one wins.

use crate::fixtures::{at, create_tenant, create_user, hash, head_seq, journal, minimal_user};
use futures::future::{BoxFuture, join_all};
use tessera_domain::mfa::BackupCodeSummary;
use tessera_domain::ports::{Journal, Store, StoreError};
use tessera_domain::user::User;

fn summary(total: u32, remaining: u32, created: Option<i64>) -> BackupCodeSummary {
    BackupCodeSummary {
        total,
        remaining,
        created_at: created.map(at),
    }
}

fn used(user: &User) -> Journal {
    journal(
        user.tenant_id,
        "mfa.backup_code_used",
        Some(("user", user.id.to_string())),
    )
}

pub async fn backup_codes_replace_and_use(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;
    assert_eq!(
        store.backup_codes(t.id, user.id).await.unwrap(),
        summary(0, 0, None)
    );

    let first: Vec<String> = (0..3).map(|_| hash()).collect();
    let head = head_seq(store, t.id).await;
    let generated = || journal(t.id, "mfa.backup_codes_generated", None);
    store
        .replace_backup_codes(t.id, user.id, &first, at(100), &generated())
        .await
        .unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(
        store.backup_codes(t.id, user.id).await.unwrap(),
        summary(3, 3, Some(100))
    );
    assert_eq!(
        store.backup_codes(other.id, user.id).await.unwrap(),
        summary(0, 0, None)
    );
    assert_eq!(
        store.backup_codes(t.id, someone.id).await.unwrap(),
        summary(0, 0, None)
    );

    // Used once, journaled once.
    assert!(
        store
            .use_backup_code(t.id, user.id, &first[1], at(110), &used(&user))
            .await
            .unwrap()
    );
    assert_eq!(head_seq(store, t.id).await, head + 2);
    assert_eq!(
        store.backup_codes(t.id, user.id).await.unwrap(),
        summary(3, 2, Some(100))
    );
    // Used already, another user's, from another tenant, unknown: refused, nothing journaled.
    for (tenant, owner, code) in [
        (t.id, user.id, first[1].clone()),
        (t.id, someone.id, first[0].clone()),
        (other.id, user.id, first[0].clone()),
        (t.id, user.id, hash()),
    ] {
        assert!(
            !store
                .use_backup_code(tenant, owner, &code, at(111), &used(&user))
                .await
                .unwrap()
        );
    }
    assert_eq!(head_seq(store, t.id).await, head + 2);
    assert_eq!(
        store.backup_codes(t.id, user.id).await.unwrap(),
        summary(3, 2, Some(100))
    );

    // A new set: the old codes no longer work, used or not.
    let second: Vec<String> = (0..2).map(|_| hash()).collect();
    store
        .replace_backup_codes(t.id, user.id, &second, at(200), &generated())
        .await
        .unwrap();
    assert_eq!(
        store.backup_codes(t.id, user.id).await.unwrap(),
        summary(2, 2, Some(200))
    );
    for old in &first {
        assert!(
            !store
                .use_backup_code(t.id, user.id, old, at(210), &used(&user))
                .await
                .unwrap()
        );
    }
    assert!(
        store
            .use_backup_code(t.id, user.id, &second[0], at(210), &used(&user))
            .await
            .unwrap()
    );
    assert_eq!(
        store.backup_codes(t.id, user.id).await.unwrap(),
        summary(2, 1, Some(200))
    );

    // An empty set removes them.
    store
        .replace_backup_codes(t.id, user.id, &[], at(300), &Journal::default())
        .await
        .unwrap();
    assert_eq!(
        store.backup_codes(t.id, user.id).await.unwrap(),
        summary(0, 0, None)
    );
    assert!(
        !store
            .use_backup_code(t.id, user.id, &second[1], at(310), &used(&user))
            .await
            .unwrap()
    );

    // Codes of a user that does not exist: NotFound, nothing written.
    let head = head_seq(store, t.id).await;
    let ghost = minimal_user(t.id);
    assert_err!(
        store
            .replace_backup_codes(t.id, ghost.id, &[hash()], at(400), &generated())
            .await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, t.id).await, head);
}

pub async fn backup_codes_concurrent_use(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let codes = vec![hash(), hash()];
    store
        .replace_backup_codes(t.id, user.id, &codes, at(100), &Journal::default())
        .await
        .unwrap();
    let head = head_seq(store, t.id).await;
    let j = used(&user);
    let uses: Vec<BoxFuture<'_, Result<bool, StoreError>>> = (0..8)
        .map(|_| store.use_backup_code(t.id, user.id, &codes[0], at(110), &j))
        .collect();
    let wins = join_all(uses)
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|won| *won)
        .count();
    assert_eq!(wins, 1);
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(
        store.backup_codes(t.id, user.id).await.unwrap(),
        summary(2, 1, Some(100))
    );
}
