//! Passwords: registration (user, password and code at once), import with credentials,
//! optimistic password changes that end the selected sessions with their refresh tokens.

use crate::fixtures::{
    at, code, create_session_with_family, create_tenant, create_user, draft, email_target, hash,
    head_seq, journal, last_event, minimal_user, named_user, password, phc, refresh_family,
};
use tessera_domain::code::{CodeCheck, CodePurpose};
use tessera_domain::credential::PasswordCredential;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::{Journal, SessionSelector, Store, StoreError};
use tessera_domain::token::RefreshOutcome;
use tessera_domain::user::{EmailEntry, User};

fn registered(user: &User) -> Journal {
    journal(
        user.tenant_id,
        "user.registered",
        Some(("user", user.id.to_string())),
    )
}

pub async fn credential_register_user(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = User {
        state: LifecycleState::Unverified,
        ..crate::fixtures::full_user(t.id)
    };
    let pw = password(&user);
    let target = email_target(&user);
    let verify = code(
        &user,
        CodePurpose::VerifyIdentifier,
        &target,
        "code-hash-1",
        100,
    );
    let head = head_seq(store, t.id).await;
    let j = registered(&user);
    store
        .register_user(&user, &pw, Some(&verify), &j)
        .await
        .unwrap();
    assert_eq!(store.user(t.id, user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(
        store.password(t.id, user.id).await.unwrap(),
        Some(pw.clone())
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(last_event(store, t.id).await.id, j.events[0].id);
    // The code was stored with the user: it is accepted.
    let checked = store
        .check_code(
            t.id,
            CodePurpose::VerifyIdentifier,
            &target,
            "code-hash-1",
            at(120),
        )
        .await
        .unwrap();
    assert_eq!(
        checked,
        CodeCheck::Accepted(tessera_domain::code::OneTimeCode {
            consumed_at: Some(at(120)),
            ..verify
        })
    );
    // Passwords are tenant data.
    let other = create_tenant(store).await;
    assert_eq!(store.password(other.id, user.id).await.unwrap(), None);

    // Without a code.
    let plain = named_user(t.id, "plain");
    let plain_pw = password(&plain);
    store
        .register_user(&plain, &plain_pw, None, &registered(&plain))
        .await
        .unwrap();
    assert_eq!(
        store.password(t.id, plain.id).await.unwrap(),
        Some(plain_pw)
    );
    assert_eq!(
        store.user(t.id, plain.id).await.unwrap().map(|u| u.id),
        Some(plain.id)
    );

    // An identifier already taken: `Duplicate`, and neither the user, nor the password, nor
    // the code, nor the journal was written.
    let mut twin = named_user(t.id, "twin");
    twin.emails.push(EmailEntry {
        address: user.emails[0].address.clone(),
        verified: false,
        primary: false,
    });
    let twin_target = email_target(&twin);
    let twin_code = code(
        &twin,
        CodePurpose::VerifyIdentifier,
        &twin_target,
        "code-hash-2",
        200,
    );
    let head = head_seq(store, t.id).await;
    assert_err!(
        store
            .register_user(
                &twin,
                &password(&twin),
                Some(&twin_code),
                &registered(&twin)
            )
            .await,
        StoreError::Duplicate { field: "email", .. }
    );
    assert_eq!(store.user(t.id, twin.id).await.unwrap(), None);
    assert_eq!(store.password(t.id, twin.id).await.unwrap(), None);
    assert_eq!(
        store
            .check_code(
                t.id,
                CodePurpose::VerifyIdentifier,
                &twin_target,
                "code-hash-2",
                at(210)
            )
            .await
            .unwrap(),
        CodeCheck::NoneLive
    );
    assert_eq!(head_seq(store, t.id).await, head);
}

pub async fn credential_import_users(store: &dyn Store) {
    let t = create_tenant(store).await;
    let users = vec![
        named_user(t.id, "imp-a"),
        named_user(t.id, "imp-b"),
        minimal_user(t.id),
    ];
    let passwords = vec![
        password(&users[0]),
        PasswordCredential {
            hash: format!("$2b$12${}", hash()),
            history: vec![],
            ..password(&users[1])
        },
    ];
    let created = |users: &[User]| Journal {
        events: users
            .iter()
            .map(|u| draft(t.id, "user.imported", Some(("user", u.id.to_string()))))
            .collect(),
        authz_changed: false,
    };
    let head = head_seq(store, t.id).await;
    store
        .import_users(&users, &passwords, &created(&users))
        .await
        .unwrap();
    for user in &users {
        assert_eq!(
            store.user(t.id, user.id).await.unwrap().as_ref(),
            Some(user)
        );
    }
    assert_eq!(
        store.password(t.id, users[0].id).await.unwrap().as_ref(),
        Some(&passwords[0])
    );
    assert_eq!(
        store.password(t.id, users[1].id).await.unwrap().as_ref(),
        Some(&passwords[1])
    );
    assert_eq!(store.password(t.id, users[2].id).await.unwrap(), None);
    assert_eq!(head_seq(store, t.id).await, head + 3);

    // A credential naming a user not in the batch, whether stored already or not at all:
    // `NotFound`, nothing written.
    let head = head_seq(store, t.id).await;
    let newcomer = named_user(t.id, "imp-c");
    let stored_elsewhere = PasswordCredential {
        hash: phc(),
        ..password(&users[2])
    };
    let nobody = password(&minimal_user(t.id));
    for stray in [stored_elsewhere, nobody] {
        let batch = [newcomer.clone()];
        assert_err!(
            store
                .import_users(&batch, &[password(&newcomer), stray], &created(&batch))
                .await,
            StoreError::NotFound
        );
        assert_eq!(store.user(t.id, newcomer.id).await.unwrap(), None);
        assert_eq!(store.password(t.id, newcomer.id).await.unwrap(), None);
    }
    assert_eq!(store.password(t.id, users[2].id).await.unwrap(), None);

    // A duplicate identifier: `Duplicate`, nothing written.
    let fresh = named_user(t.id, "imp-d");
    let mut dup = named_user(t.id, "imp-e");
    dup.username = users[0].username.clone();
    let batch = [fresh.clone(), dup.clone()];
    assert_err!(
        store
            .import_users(
                &batch,
                &[password(&fresh), password(&dup)],
                &created(&batch)
            )
            .await,
        StoreError::Duplicate {
            field: "username",
            ..
        }
    );
    assert_eq!(store.user(t.id, fresh.id).await.unwrap(), None);
    assert_eq!(store.password(t.id, fresh.id).await.unwrap(), None);
    assert_eq!(
        store.password(t.id, users[0].id).await.unwrap().as_ref(),
        Some(&passwords[0])
    );
    assert_eq!(head_seq(store, t.id).await, head);
}

pub async fn credential_set_password(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let changed = || {
        journal(
            t.id,
            "user.password_changed",
            Some(("user", user.id.to_string())),
        )
    };

    // The first password (nothing expected).
    let first = password(&user);
    let head = head_seq(store, t.id).await;
    store
        .set_password(&first, None, None, at(20), &changed())
        .await
        .unwrap();
    assert_eq!(
        store.password(t.id, user.id).await.unwrap().as_ref(),
        Some(&first)
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);

    // A stale expected hash: `Conflict`, nothing changed.
    let second = first.changed(phc(), 3, at(30));
    assert_eq!(second.history[0], first.hash);
    assert_err!(
        store
            .set_password(&second, Some(&phc()), None, at(30), &changed())
            .await,
        StoreError::Conflict
    );
    assert_eq!(
        store.password(t.id, user.id).await.unwrap().as_ref(),
        Some(&first)
    );
    // The expected hash: replaced.
    store
        .set_password(&second, Some(&first.hash), None, at(30), &changed())
        .await
        .unwrap();
    assert_eq!(
        store.password(t.id, user.id).await.unwrap().as_ref(),
        Some(&second)
    );
    // A change prepared from `first` (racing the one above) now loses.
    let third = first.changed(phc(), 3, at(40));
    assert_err!(
        store
            .set_password(&third, Some(&first.hash), None, at(40), &changed())
            .await,
        StoreError::Conflict
    );
    assert_eq!(
        store.password(t.id, user.id).await.unwrap().as_ref(),
        Some(&second)
    );
    let head = head_seq(store, t.id).await;

    // A hash expected where the user has no password at all: `Conflict`.
    let bare = create_user(store, t.id).await;
    assert_err!(
        store
            .set_password(
                &password(&bare),
                Some(&first.hash),
                None,
                at(50),
                &changed()
            )
            .await,
        StoreError::Conflict
    );
    assert_eq!(store.password(t.id, bare.id).await.unwrap(), None);

    // An unknown user, or the user seen from another tenant: `NotFound`.
    let ghost = password(&minimal_user(t.id));
    assert_err!(
        store
            .set_password(&ghost, None, None, at(60), &changed())
            .await,
        StoreError::NotFound
    );
    let moved = PasswordCredential {
        tenant_id: other.id,
        ..password(&user)
    };
    assert_err!(
        store
            .set_password(&moved, None, None, at(60), &changed())
            .await,
        StoreError::NotFound
    );
    assert_eq!(store.password(other.id, user.id).await.unwrap(), None);
    assert_eq!(head_seq(store, t.id).await, head);
}

pub async fn credential_set_password_ends_sessions(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let bystander = create_user(store, t.id).await;
    let (s1, _, r1) = create_session_with_family(store, &user, 100).await;
    let (s2, _, r2) = create_session_with_family(store, &user, 200).await;
    let (s3, _, r3) = create_session_with_family(store, &user, 300).await;
    // A refresh family bound to no session.
    let loose = refresh_family(&user, None, 50);
    let r0 = hash();
    store.insert_refresh_family(&loose, &r0).await.unwrap();
    let (b1, _, rb) = create_session_with_family(store, &bystander, 100).await;

    let revoked_at = |token: String| async move {
        store
            .refresh_family_by_hash(t.id, &token)
            .await
            .unwrap()
            .unwrap()
            .revoked_at
    };
    let session_revoked_at =
        |id| async move { store.session(t.id, id).await.unwrap().unwrap().revoked_at };

    // "Sign out everywhere else": every other live session ends at `at`, with the refresh
    // families issued in it. A family bound to no session is no session's token: it stays.
    let first = password(&user);
    store
        .set_password(
            &first,
            None,
            Some(SessionSelector::AllExcept(s3.id)),
            at(1_000),
            &Journal::default(),
        )
        .await
        .unwrap();
    assert_eq!(session_revoked_at(s1.id).await, Some(at(1_000)));
    assert_eq!(session_revoked_at(s2.id).await, Some(at(1_000)));
    assert_eq!(session_revoked_at(s3.id).await, None);
    assert_eq!(revoked_at(r1.clone()).await, Some(at(1_000)));
    assert_eq!(revoked_at(r2.clone()).await, Some(at(1_000)));
    assert_eq!(revoked_at(r0.clone()).await, None);
    assert_eq!(revoked_at(r3.clone()).await, None);
    let live: Vec<_> = store
        .list_sessions(t.id, user.id, at(1_000))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(live, vec![s3.id]);
    assert_eq!(
        store
            .rotate_refresh(t.id, &r1, &hash(), at(1_001), &Journal::default())
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );

    // All: the kept one ends too; those ended before keep their instant.
    let second = first.changed(phc(), 3, at(2_000));
    store
        .set_password(
            &second,
            Some(&first.hash),
            Some(SessionSelector::All),
            at(2_000),
            &Journal::default(),
        )
        .await
        .unwrap();
    assert_eq!(session_revoked_at(s3.id).await, Some(at(2_000)));
    assert_eq!(revoked_at(r3).await, Some(at(2_000)));
    assert_eq!(session_revoked_at(s1.id).await, Some(at(1_000)));
    assert_eq!(revoked_at(r1).await, Some(at(1_000)));
    assert_eq!(revoked_at(r0).await, None);
    assert!(
        store
            .list_sessions(t.id, user.id, at(2_000))
            .await
            .unwrap()
            .is_empty()
    );

    // No selector: no session ends.
    let (s4, _, r4) = create_session_with_family(store, &user, 3_000).await;
    store
        .set_password(
            &second.changed(phc(), 3, at(3_100)),
            Some(&second.hash),
            None,
            at(3_100),
            &Journal::default(),
        )
        .await
        .unwrap();
    assert_eq!(session_revoked_at(s4.id).await, None);
    assert_eq!(revoked_at(r4).await, None);

    // Another user's session and token were never touched.
    assert_eq!(session_revoked_at(b1.id).await, None);
    assert_eq!(revoked_at(rb).await, None);
}
