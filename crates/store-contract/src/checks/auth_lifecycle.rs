//! A user's lifecycle and their authentication data: suspending, deactivating or deleting
//! a user revokes every session and refresh token in the same write; erasing removes the
//! password, sessions, codes and refresh tokens for good.

use crate::fixtures::{
    at, code, create_session_with_family, create_tenant, create_user, email_target, hash, head_seq,
    journal, password, refresh_family,
};
use tessera_domain::code::{CodeCheck, CodePurpose};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::{Journal, Store};
use tessera_domain::token::RefreshOutcome;
use tessera_domain::user::User;

pub async fn auth_user_suspension_revokes_sessions(store: &dyn Store) {
    let t = create_tenant(store).await;
    let bystander = create_user(store, t.id).await;
    let (b, _, rb) = create_session_with_family(store, &bystander, 100).await;
    for state in [
        LifecycleState::Suspended,
        LifecycleState::Deactivated,
        LifecycleState::Deleted,
    ] {
        let user = create_user(store, t.id).await;
        let (s1, _, r1) = create_session_with_family(store, &user, 100).await;
        let (s2, _, r2) = create_session_with_family(store, &user, 200).await;
        let loose = refresh_family(&user, None, 150);
        let r0 = hash();
        store.insert_refresh_family(&loose, &r0).await.unwrap();

        let changed = User {
            state,
            state_before_delete: (state == LifecycleState::Deleted)
                .then_some(LifecycleState::Active),
            updated_at: at(900),
            version: 2,
            ..user.clone()
        };
        let head = head_seq(store, t.id).await;
        let j = journal(
            t.id,
            "user.state_changed",
            Some(("user", user.id.to_string())),
        );
        store.update_user(&changed, 1, &j).await.unwrap();
        assert_eq!(head_seq(store, t.id).await, head + 1);
        assert_eq!(store.user(t.id, user.id).await.unwrap(), Some(changed));

        assert!(
            store
                .list_sessions(t.id, user.id, at(900))
                .await
                .unwrap()
                .is_empty(),
            "{state:?}: no session is live"
        );
        for s in [&s1, &s2] {
            let stored = store.session(t.id, s.id).await.unwrap().unwrap();
            assert!(stored.revoked_at.is_some(), "{state:?}: session revoked");
        }
        for token in [&r0, &r1, &r2] {
            let family = store.refresh_family_by_hash(t.id, token).await.unwrap();
            assert!(
                family.unwrap().revoked_at.is_some(),
                "{state:?}: refresh family revoked"
            );
        }
        assert_eq!(
            store
                .rotate_refresh(t.id, &r2, &hash(), at(901), &Journal::default())
                .await
                .unwrap(),
            RefreshOutcome::Invalid
        );
    }
    // Another user's session and token are untouched.
    assert_eq!(
        store.session(t.id, b.id).await.unwrap().unwrap().revoked_at,
        None
    );
    assert_eq!(
        store
            .refresh_family_by_hash(t.id, &rb)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );

    // An update that leaves the user active ends nothing.
    let user = create_user(store, t.id).await;
    let (s, _, r) = create_session_with_family(store, &user, 100).await;
    let mut renamed = user.clone();
    renamed.profile.given_name = Some("Renamed".to_owned());
    renamed.version = 2;
    store
        .update_user(&renamed, 1, &Journal::default())
        .await
        .unwrap();
    let live: Vec<_> = store
        .list_sessions(t.id, user.id, at(900))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, vec![s.id]);
    assert_eq!(
        store
            .refresh_family_by_hash(t.id, &r)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
}

pub async fn auth_erase_user_removes_everything(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let bystander = create_user(store, t.id).await;
    let ticket_target = user.id.to_string();
    let target = email_target(&user);
    let bystander_target = email_target(&bystander);
    for u in [&user, &bystander] {
        store
            .set_password(&password(u), None, None, at(10), &Journal::default())
            .await
            .unwrap();
    }
    let (s, _, r) = create_session_with_family(store, &user, 100).await;
    let loose = refresh_family(&user, None, 100);
    let r0 = hash();
    store.insert_refresh_family(&loose, &r0).await.unwrap();
    for c in [
        code(&user, CodePurpose::VerifyIdentifier, &target, "verify", 100),
        code(
            &user,
            CodePurpose::ResetTicket,
            &ticket_target,
            "ticket",
            100,
        ),
        code(
            &bystander,
            CodePurpose::VerifyIdentifier,
            &bystander_target,
            "other",
            100,
        ),
    ] {
        store.insert_code(&c, &Journal::default()).await.unwrap();
    }
    let (b, _, rb) = create_session_with_family(store, &bystander, 100).await;

    let erased = journal(t.id, "user.erased", Some(("user", user.id.to_string())));
    store.erase_user(t.id, user.id, &erased).await.unwrap();

    assert_eq!(store.password(t.id, user.id).await.unwrap(), None);
    assert_eq!(store.session(t.id, s.id).await.unwrap(), None);
    assert_eq!(
        store.session_by_hash(t.id, &s.secret_hash).await.unwrap(),
        None
    );
    assert!(
        store
            .list_sessions(t.id, user.id, at(200))
            .await
            .unwrap()
            .is_empty()
    );
    for token in [&r, &r0] {
        assert_eq!(
            store.refresh_family_by_hash(t.id, token).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .rotate_refresh(t.id, token, &hash(), at(200), &Journal::default())
                .await
                .unwrap(),
            RefreshOutcome::Invalid
        );
    }
    for (purpose, target, presented) in [
        (CodePurpose::VerifyIdentifier, &target, "verify"),
        (CodePurpose::ResetTicket, &ticket_target, "ticket"),
    ] {
        assert_eq!(
            store
                .check_code(t.id, purpose, target, presented, at(200))
                .await
                .unwrap(),
            CodeCheck::NoneLive
        );
    }

    // Everything of another user is still there.
    assert!(store.password(t.id, bystander.id).await.unwrap().is_some());
    assert_eq!(
        store.session(t.id, b.id).await.unwrap().unwrap().revoked_at,
        None
    );
    assert!(
        store
            .refresh_family_by_hash(t.id, &rb)
            .await
            .unwrap()
            .is_some()
    );
    assert!(matches!(
        store
            .check_code(
                t.id,
                CodePurpose::VerifyIdentifier,
                &bystander_target,
                "other",
                at(200)
            )
            .await
            .unwrap(),
        CodeCheck::Accepted(_)
    ));

    // The same identifiers register again, with a code of their own.
    let again = User {
        id: tessera_domain::UserId::from_uuid(crate::fixtures::fresh_uuid()),
        ..user.clone()
    };
    let fresh = code(&again, CodePurpose::VerifyIdentifier, &target, "again", 300);
    store
        .register_user(&again, &password(&again), Some(&fresh), &Journal::default())
        .await
        .unwrap();
    assert_eq!(
        store
            .check_code(
                t.id,
                CodePurpose::VerifyIdentifier,
                &target,
                "verify",
                at(310)
            )
            .await
            .unwrap(),
        CodeCheck::Wrong { remaining: 2 }
    );
}
