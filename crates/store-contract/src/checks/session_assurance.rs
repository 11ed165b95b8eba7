//! Session assurance: `acr` and `restriction` round trip; elevation lifts the restriction,
//! replaces `amr`, `acr`, `auth_time` and the end, stores the first refresh token, and is
//! refused (writing nothing) for a session that is not live.

use crate::fixtures::{
    at, create_tenant, create_user, hash, head_seq, journal, refresh_family, session,
};
use tessera_domain::mfa::{ACR_MFA, ACR_ONE_FACTOR, Restriction};
use tessera_domain::ports::{Journal, SessionSelector, Store, StoreError};
use tessera_domain::session::Session;
use tessera_domain::user::User;

/// A session of `user` created at `at(created)` after a password only, waiting for
/// `restriction`.
fn restricted(user: &User, created: i64, restriction: Restriction) -> Session {
    Session {
        amr: vec!["pwd".to_owned()],
        acr: ACR_ONE_FACTOR.to_owned(),
        restriction: Some(restriction),
        expires_at: at(created + 600),
        ..session(user, created)
    }
}

/// `s` after a second factor at `at(when)`, good for ten hours from then.
fn elevated(s: &Session, when: i64) -> Session {
    Session {
        amr: vec!["pwd".to_owned(), "otp".to_owned(), "mfa".to_owned()],
        acr: ACR_MFA.to_owned(),
        restriction: None,
        auth_time: at(when),
        expires_at: at(when + 36_000),
        ..s.clone()
    }
}

pub async fn session_assurance_round_trip(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    for s in [
        restricted(&user, 100, Restriction::SecondFactor),
        restricted(&user, 110, Restriction::Enrolment),
        Session {
            acr: ACR_ONE_FACTOR.to_owned(),
            ..session(&user, 120)
        },
        session(&user, 130),
    ] {
        store
            .create_session(&s, None, 100, &Journal::default())
            .await
            .unwrap();
        assert_eq!(store.session(t.id, s.id).await.unwrap(), Some(s.clone()));
        assert_eq!(
            store.session_by_hash(t.id, &s.secret_hash).await.unwrap(),
            Some(s.clone())
        );
    }
    let listed = store.list_sessions(t.id, user.id, at(200)).await.unwrap();
    assert_eq!(listed.len(), 4);
    assert_eq!(listed[3].restriction, Some(Restriction::SecondFactor));
    assert_eq!(listed[0].acr, ACR_MFA);
}

pub async fn session_elevate(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;

    // After the second factor: restriction lifted, assurance raised, first refresh token.
    let s = restricted(&user, 100, Restriction::SecondFactor);
    store
        .create_session(&s, None, 100, &Journal::default())
        .await
        .unwrap();
    let up = elevated(&s, 150);
    let family = refresh_family(&user, Some(s.id), 150);
    let token = hash();
    let passed = || {
        journal(
            t.id,
            "session.elevated",
            Some(("session", s.id.to_string())),
        )
    };
    let head = head_seq(store, t.id).await;
    store
        .elevate_session(&up, Some((&family, &token)), &passed())
        .await
        .unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(store.session(t.id, s.id).await.unwrap(), Some(up.clone()));
    assert_eq!(
        store.refresh_family_by_hash(t.id, &token).await.unwrap(),
        Some(family)
    );
    assert_eq!(
        store.list_sessions(t.id, user.id, at(1_000)).await.unwrap(),
        vec![up.clone()],
        "live until its new end"
    );

    // A step-up later: no refresh token this time.
    let again = Session {
        amr: vec!["pwd".to_owned(), "hwk".to_owned(), "user".to_owned()],
        ..elevated(&up, 2_000)
    };
    store
        .elevate_session(&again, None, &passed())
        .await
        .unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 2);
    assert_eq!(
        store.session(t.id, s.id).await.unwrap(),
        Some(again.clone())
    );

    // An enrolment restriction is lifted the same way.
    let e = restricted(&user, 300, Restriction::Enrolment);
    store
        .create_session(&e, None, 100, &Journal::default())
        .await
        .unwrap();
    store
        .elevate_session(&elevated(&e, 310), None, &Journal::default())
        .await
        .unwrap();
    assert_eq!(
        store.session(t.id, e.id).await.unwrap(),
        Some(elevated(&e, 310))
    );

    // Not live (revoked, past its end), someone else's, another tenant's: NotFound, and
    // nothing written (no refresh token, no journal, the session unchanged).
    let revoked = restricted(&user, 400, Restriction::SecondFactor);
    store
        .create_session(&revoked, None, 100, &Journal::default())
        .await
        .unwrap();
    store
        .end_sessions(
            t.id,
            user.id,
            SessionSelector::One(revoked.id),
            at(410),
            &Journal::default(),
        )
        .await
        .unwrap();
    let ended = store.session(t.id, revoked.id).await.unwrap().unwrap();
    let expired = restricted(&user, 500, Restriction::SecondFactor);
    store
        .create_session(&expired, None, 100, &Journal::default())
        .await
        .unwrap();
    let head = head_seq(store, t.id).await;
    for (attempt, stays) in [
        (elevated(&ended, 420), ended.clone()),
        (elevated(&expired, 500 + 600), expired.clone()),
        (elevated(&expired, 500 + 700), expired.clone()),
        (
            Session {
                user_id: someone.id,
                ..elevated(&expired, 510)
            },
            expired.clone(),
        ),
        (
            Session {
                tenant_id: other.id,
                ..elevated(&expired, 510)
            },
            expired.clone(),
        ),
    ] {
        let family = refresh_family(&user, Some(attempt.id), 420);
        let token = hash();
        assert_err!(
            store
                .elevate_session(&attempt, Some((&family, &token)), &passed())
                .await,
            StoreError::NotFound
        );
        assert_eq!(
            store.refresh_family_by_hash(t.id, &token).await.unwrap(),
            None
        );
        assert_eq!(store.session(t.id, stays.id).await.unwrap(), Some(stays));
    }
    assert_eq!(head_seq(store, t.id).await, head);
}
