//! One-time codes: single use, counted wrong guesses, expiry, only the newest code of a
//! (purpose, target) works, and exactly one of several concurrent presentations wins.

use crate::fixtures::{at, code, create_tenant, create_user, email_target, head_seq, journal};
use futures::future::{BoxFuture, join_all};
use tessera_domain::TenantId;
use tessera_domain::code::{CodeCheck, CodePurpose, OneTimeCode};
use tessera_domain::ports::{Journal, Store, StoreError};

const VERIFY: CodePurpose = CodePurpose::VerifyIdentifier;

fn accepted(code: &OneTimeCode, attempts: u32, now: time::OffsetDateTime) -> CodeCheck {
    CodeCheck::Accepted(OneTimeCode {
        attempts,
        consumed_at: Some(now),
        ..code.clone()
    })
}

/// Presents `presented` for `(purpose, target)` at `at(s)`.
async fn check(
    store: &dyn Store,
    tenant: TenantId,
    purpose: CodePurpose,
    target: &str,
    presented: &str,
    s: i64,
) -> CodeCheck {
    store
        .check_code(tenant, purpose, target, presented, at(s))
        .await
        .unwrap()
}

pub async fn code_single_use(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let target = email_target(&user);
    let c = code(&user, VERIFY, &target, "right", 100);
    let head = head_seq(store, t.id).await;
    let sent = journal(t.id, "code.sent", Some(("user", user.id.to_string())));
    store.insert_code(&c, &sent).await.unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);

    // Another tenant, another purpose, another target: nothing live there, and nothing
    // counted against the code.
    assert_eq!(
        check(store, other.id, VERIFY, &target, "right", 110).await,
        CodeCheck::NoneLive
    );
    assert_eq!(
        check(
            store,
            t.id,
            CodePurpose::RecoverPassword,
            &target,
            "right",
            110
        )
        .await,
        CodeCheck::NoneLive
    );
    assert_eq!(
        check(
            store,
            t.id,
            VERIFY,
            "email:nobody@example.com",
            "right",
            110
        )
        .await,
        CodeCheck::NoneLive
    );

    // Right: accepted and used up; a second presentation finds nothing live.
    assert_eq!(
        check(store, t.id, VERIFY, &target, "right", 120).await,
        accepted(&c, 0, at(120))
    );
    assert_eq!(
        check(store, t.id, VERIFY, &target, "right", 121).await,
        CodeCheck::NoneLive
    );
    assert_eq!(
        check(store, t.id, VERIFY, &target, "wrong", 122).await,
        CodeCheck::NoneLive
    );
    // Checking is not journaled by the store.
    assert_eq!(head_seq(store, t.id).await, head + 1);

    // A code of a user that does not exist is refused.
    let ghost = code(
        &crate::fixtures::minimal_user(t.id),
        VERIFY,
        "email:ghost@example.com",
        "x",
        100,
    );
    assert_err!(
        store
            .insert_code(&ghost, &journal(t.id, "code.sent", None))
            .await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);
}

pub async fn code_wrong_guesses(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let target = email_target(&user);
    let c = code(&user, VERIFY, &target, "right", 100);
    store.insert_code(&c, &Journal::default()).await.unwrap();
    assert_eq!(
        check(store, t.id, VERIFY, &target, "wrong", 110).await,
        CodeCheck::Wrong { remaining: 2 }
    );
    assert_eq!(
        check(store, t.id, VERIFY, &target, "wrong-2", 111).await,
        CodeCheck::Wrong { remaining: 1 }
    );
    // The right code still works, and says how many guesses were counted.
    assert_eq!(
        check(store, t.id, VERIFY, &target, "right", 112).await,
        accepted(&c, 2, at(112))
    );

    // Out of guesses: nothing is live any more, not even the right code.
    let c2 = code(&user, VERIFY, &target, "right-2", 200);
    store.insert_code(&c2, &Journal::default()).await.unwrap();
    assert_eq!(
        check(store, t.id, VERIFY, &target, "wrong", 210).await,
        CodeCheck::Wrong { remaining: 2 }
    );
    assert_eq!(
        check(store, t.id, VERIFY, &target, "wrong", 211).await,
        CodeCheck::Wrong { remaining: 1 }
    );
    assert_eq!(
        check(store, t.id, VERIFY, &target, "wrong", 212).await,
        CodeCheck::Wrong { remaining: 0 }
    );
    assert_eq!(
        check(store, t.id, VERIFY, &target, "right-2", 213).await,
        CodeCheck::NoneLive
    );
    assert_eq!(
        check(store, t.id, VERIFY, &target, "wrong", 214).await,
        CodeCheck::NoneLive
    );
}

pub async fn code_expiry(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let target = email_target(&user);
    let c = code(&user, VERIFY, &target, "right", 100);
    assert_eq!(c.expires_at, at(700));
    store.insert_code(&c, &Journal::default()).await.unwrap();
    // Expired at `now` (the end itself included): nothing live, nothing counted.
    for presented in ["right", "wrong"] {
        assert_eq!(
            store
                .check_code(t.id, VERIFY, &target, presented, at(700))
                .await
                .unwrap(),
            CodeCheck::NoneLive
        );
    }
    let c2 = code(&user, VERIFY, &target, "right-2", 100);
    store.insert_code(&c2, &Journal::default()).await.unwrap();
    assert_eq!(
        store
            .check_code(t.id, VERIFY, &target, "right-2", at(699))
            .await
            .unwrap(),
        accepted(&c2, 0, at(699))
    );
}

pub async fn code_newest_wins(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let target = email_target(&user);
    let first = code(&user, VERIFY, &target, "first", 100);
    let recover = code(&user, CodePurpose::RecoverPassword, &target, "recover", 105);
    let second = code(&user, VERIFY, &target, "second", 110);
    for c in [&first, &recover, &second] {
        store.insert_code(c, &Journal::default()).await.unwrap();
    }
    // The earlier code is used up: presenting it is a wrong guess against the newest.
    assert_eq!(
        store
            .check_code(t.id, VERIFY, &target, "first", at(120))
            .await
            .unwrap(),
        CodeCheck::Wrong { remaining: 2 }
    );
    assert_eq!(
        store
            .check_code(t.id, VERIFY, &target, "second", at(121))
            .await
            .unwrap(),
        accepted(&second, 1, at(121))
    );
    // Another purpose for the same target is a code of its own.
    assert_eq!(
        store
            .check_code(
                t.id,
                CodePurpose::RecoverPassword,
                &target,
                "recover",
                at(122)
            )
            .await
            .unwrap(),
        accepted(&recover, 0, at(122))
    );
}

pub async fn code_concurrent_check(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let target = email_target(&user);
    let c = code(&user, VERIFY, &target, "right", 100);
    store.insert_code(&c, &Journal::default()).await.unwrap();

    // Eight presentations of the right code at once: exactly one is accepted.
    let checks: Vec<BoxFuture<'_, Result<CodeCheck, StoreError>>> = (0..8)
        .map(|_| store.check_code(t.id, VERIFY, &target, "right", at(120)))
        .collect();
    let results: Vec<CodeCheck> = join_all(checks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let wins = results
        .iter()
        .filter(|r| matches!(r, CodeCheck::Accepted(_)))
        .count();
    assert_eq!(wins, 1, "{results:?}");
    assert_eq!(
        results
            .iter()
            .filter(|r| **r == CodeCheck::NoneLive)
            .count(),
        7,
        "{results:?}"
    );

    // Eight wrong guesses at once: each is counted, so exactly `max_attempts` are.
    let c2 = code(&user, VERIFY, &target, "right-2", 200);
    store.insert_code(&c2, &Journal::default()).await.unwrap();
    let guesses: Vec<BoxFuture<'_, Result<CodeCheck, StoreError>>> = (0..8)
        .map(|_| store.check_code(t.id, VERIFY, &target, "wrong", at(210)))
        .collect();
    let mut remaining: Vec<u32> = Vec::new();
    let mut none_live = 0;
    for result in join_all(guesses).await {
        match result.unwrap() {
            CodeCheck::Wrong { remaining: r } => remaining.push(r),
            CodeCheck::NoneLive => none_live += 1,
            other => panic!("a wrong guess gave {other:?}"),
        }
    }
    remaining.sort_unstable();
    assert_eq!(remaining, vec![0, 1, 2]);
    assert_eq!(none_live, 5);
    assert_eq!(
        store
            .check_code(t.id, VERIFY, &target, "right-2", at(220))
            .await
            .unwrap(),
        CodeCheck::NoneLive
    );
}
