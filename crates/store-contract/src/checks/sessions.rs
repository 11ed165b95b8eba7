//! Sessions: round trip and tenant isolation, the per-user limit, listing live sessions,
//! ending one, all or all but one with their refresh tokens.

use crate::fixtures::{
    at, create_session_with_family, create_tenant, create_user, hash, head_seq, journal,
    refresh_family, session,
};
use tessera_domain::SessionId;
use tessera_domain::ports::{Journal, SessionSelector, Store, StoreError};
use tessera_domain::session::Session;
use tessera_domain::user::User;
use time::OffsetDateTime;

async fn live_ids(store: &dyn Store, user: &User, now: OffsetDateTime) -> Vec<SessionId> {
    store
        .list_sessions(user.tenant_id, user.id, now)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect()
}

async fn revoked_at(store: &dyn Store, s: &Session) -> Option<OffsetDateTime> {
    store
        .session(s.tenant_id, s.id)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
}

async fn family_revoked_at(store: &dyn Store, user: &User, token: &str) -> Option<OffsetDateTime> {
    store
        .refresh_family_by_hash(user.tenant_id, token)
        .await
        .unwrap()
        .unwrap()
        .revoked_at
}

fn sorted(mut ids: Vec<SessionId>) -> Vec<SessionId> {
    ids.sort();
    ids
}

pub async fn session_create_and_read(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;

    let s = session(&user, 100);
    let family = refresh_family(&user, Some(s.id), 100);
    let token = hash();
    let head = head_seq(store, t.id).await;
    let created = journal(t.id, "session.created", Some(("session", s.id.to_string())));
    let ended = store
        .create_session(&s, Some((&family, &token)), 10, &created)
        .await
        .unwrap();
    assert!(ended.is_empty());
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(store.session(t.id, s.id).await.unwrap(), Some(s.clone()));
    assert_eq!(
        store.session_by_hash(t.id, &s.secret_hash).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        store.refresh_family_by_hash(t.id, &token).await.unwrap(),
        Some(family.clone())
    );
    // Another tenant sees none of it.
    assert_eq!(
        store
            .session_by_hash(other.id, &s.secret_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.session(other.id, s.id).await.unwrap(), None);
    assert_eq!(
        store
            .refresh_family_by_hash(other.id, &token)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.session_by_hash(t.id, &hash()).await.unwrap(), None);

    // A session without the optional parts and without a refresh token.
    let bare = Session {
        ip: None,
        user_agent: None,
        device: None,
        amr: vec![],
        ..session(&user, 200)
    };
    let ended = store
        .create_session(&bare, None, 10, &Journal::default())
        .await
        .unwrap();
    assert!(ended.is_empty());
    assert_eq!(
        store.session(t.id, bare.id).await.unwrap(),
        Some(bare.clone())
    );
    assert_eq!(live_ids(store, &user, at(300)).await, vec![bare.id, s.id]);

    // Activity.
    store.touch_session(t.id, s.id, at(160)).await.unwrap();
    let touched = store.session(t.id, s.id).await.unwrap().unwrap();
    assert_eq!(touched.last_seen_at, at(160));
    assert_eq!(
        Session {
            last_seen_at: s.last_seen_at,
            ..touched
        },
        s
    );

    // The same secret hash twice in a tenant: refused, nothing written.
    let head = head_seq(store, t.id).await;
    let twin = Session {
        secret_hash: s.secret_hash.clone(),
        ..session(&user, 300)
    };
    let twin_family = refresh_family(&user, Some(twin.id), 300);
    let twin_token = hash();
    assert_err!(
        store
            .create_session(
                &twin,
                Some((&twin_family, &twin_token)),
                10,
                &journal(t.id, "session.created", None)
            )
            .await,
        StoreError::Duplicate { .. }
    );
    assert_eq!(store.session(t.id, twin.id).await.unwrap(), None);
    assert_eq!(
        store
            .refresh_family_by_hash(t.id, &twin_token)
            .await
            .unwrap(),
        None
    );
    assert_eq!(head_seq(store, t.id).await, head);
}

pub async fn session_limit_evicts_oldest(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let bystander = create_user(store, t.id).await;
    let (b, _, rb) = create_session_with_family(store, &bystander, 50).await;
    let (s1, _, r1) = create_session_with_family(store, &user, 100).await;
    let (s2, _, r2) = create_session_with_family(store, &user, 200).await;
    let (s3, _, r3) = create_session_with_family(store, &user, 300).await;

    // A fourth session with a limit of three ends the oldest, with its refresh tokens.
    let s4 = session(&user, 400);
    let f4 = refresh_family(&user, Some(s4.id), 400);
    let r4 = hash();
    let head = head_seq(store, t.id).await;
    let created = journal(
        t.id,
        "session.created",
        Some(("session", s4.id.to_string())),
    );
    let ended = store
        .create_session(&s4, Some((&f4, &r4)), 3, &created)
        .await
        .unwrap();
    assert_eq!(ended, vec![s1.id]);
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert!(revoked_at(store, &s1).await.is_some());
    assert!(family_revoked_at(store, &user, &r1).await.is_some());
    assert_eq!(family_revoked_at(store, &user, &r2).await, None);
    assert_eq!(
        store.refresh_family_by_hash(t.id, &r4).await.unwrap(),
        Some(f4)
    );
    assert_eq!(
        live_ids(store, &user, at(400)).await,
        vec![s4.id, s3.id, s2.id]
    );

    // A session already past its end is not live: it neither counts nor is ended.
    let old = session(&user, -40_000);
    assert!(old.expires_at < at(500));
    let ended = store
        .create_session(&old, None, 1000, &Journal::default())
        .await
        .unwrap();
    assert!(ended.is_empty());

    // A lower limit ends as many as needed at once.
    let s5 = session(&user, 500);
    let ended = store
        .create_session(&s5, None, 2, &Journal::default())
        .await
        .unwrap();
    assert_eq!(sorted(ended), sorted(vec![s2.id, s3.id]));
    assert!(revoked_at(store, &s2).await.is_some());
    assert!(revoked_at(store, &s3).await.is_some());
    assert!(family_revoked_at(store, &user, &r3).await.is_some());
    assert_eq!(revoked_at(store, &old).await, None);
    assert_eq!(live_ids(store, &user, at(500)).await, vec![s5.id, s4.id]);
    assert_eq!(family_revoked_at(store, &user, &r4).await, None);

    // Only the user's own sessions count.
    assert_eq!(revoked_at(store, &b).await, None);
    assert_eq!(family_revoked_at(store, &bystander, &rb).await, None);
    assert_eq!(live_ids(store, &bystander, at(500)).await, vec![b.id]);
}

pub async fn session_list_and_end(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let someone = create_user(store, t.id).await;
    let (s1, _, r1) = create_session_with_family(store, &user, 100).await;
    let (s2, _, r2) = create_session_with_family(store, &user, 200).await;
    let (s3, _, r3) = create_session_with_family(store, &user, 300).await;
    let (s4, _, r4) = create_session_with_family(store, &user, 400).await;
    let expired = session(&user, -40_000);
    store
        .create_session(&expired, None, 1000, &Journal::default())
        .await
        .unwrap();
    let (o, _, ro) = create_session_with_family(store, &someone, 100).await;

    // Live sessions, newest first; a session is over at its absolute end.
    assert_eq!(
        live_ids(store, &user, at(1_000)).await,
        vec![s4.id, s3.id, s2.id, s1.id]
    );
    assert_eq!(
        live_ids(store, &user, s1.expires_at).await,
        vec![s4.id, s3.id, s2.id]
    );

    // One.
    let ended = || journal(t.id, "session.ended", Some(("user", user.id.to_string())));
    let head = head_seq(store, t.id).await;
    let n = store
        .end_sessions(
            t.id,
            user.id,
            SessionSelector::One(s1.id),
            at(1_000),
            &ended(),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(revoked_at(store, &s1).await, Some(at(1_000)));
    assert_eq!(family_revoked_at(store, &user, &r1).await, Some(at(1_000)));
    assert_eq!(family_revoked_at(store, &user, &r2).await, None);
    assert_eq!(
        live_ids(store, &user, at(1_000)).await,
        vec![s4.id, s3.id, s2.id]
    );

    // Not a live session of this user (ended already, expired, someone else's, seen from
    // another tenant): `NotFound`, nothing written.
    let head = head_seq(store, t.id).await;
    for (tenant, id) in [
        (t.id, s1.id),
        (t.id, expired.id),
        (t.id, o.id),
        (other.id, s2.id),
        (t.id, SessionId::from_uuid(crate::fixtures::fresh_uuid())),
    ] {
        assert_err!(
            store
                .end_sessions(
                    tenant,
                    user.id,
                    SessionSelector::One(id),
                    at(1_100),
                    &ended()
                )
                .await,
            StoreError::NotFound
        );
    }
    assert_eq!(head_seq(store, t.id).await, head);
    assert_eq!(revoked_at(store, &s1).await, Some(at(1_000)));
    assert_eq!(revoked_at(store, &o).await, None);
    assert_eq!(family_revoked_at(store, &someone, &ro).await, None);
    assert_eq!(revoked_at(store, &s2).await, None);

    // All but one.
    let n = store
        .end_sessions(
            t.id,
            user.id,
            SessionSelector::AllExcept(s4.id),
            at(1_200),
            &ended(),
        )
        .await
        .unwrap();
    assert_eq!(n, 2);
    assert_eq!(revoked_at(store, &s2).await, Some(at(1_200)));
    assert_eq!(revoked_at(store, &s3).await, Some(at(1_200)));
    assert_eq!(revoked_at(store, &s4).await, None);
    assert_eq!(family_revoked_at(store, &user, &r2).await, Some(at(1_200)));
    assert_eq!(family_revoked_at(store, &user, &r3).await, Some(at(1_200)));
    assert_eq!(family_revoked_at(store, &user, &r4).await, None);
    assert_eq!(live_ids(store, &user, at(1_200)).await, vec![s4.id]);

    // All.
    let n = store
        .end_sessions(t.id, user.id, SessionSelector::All, at(1_300), &ended())
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(revoked_at(store, &s4).await, Some(at(1_300)));
    assert_eq!(family_revoked_at(store, &user, &r4).await, Some(at(1_300)));
    assert!(live_ids(store, &user, at(1_300)).await.is_empty());
    // Nothing left to end is not an error.
    let n = store
        .end_sessions(t.id, user.id, SessionSelector::All, at(1_400), &ended())
        .await
        .unwrap();
    assert_eq!(n, 0);
    // Earlier ends keep their instant; someone else's session lives on.
    assert_eq!(revoked_at(store, &s2).await, Some(at(1_200)));
    assert_eq!(revoked_at(store, &o).await, None);
    assert_eq!(live_ids(store, &someone, at(1_400)).await, vec![o.id]);
}
