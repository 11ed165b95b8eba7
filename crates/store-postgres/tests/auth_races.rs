//! Exactly-once under real concurrency: many connections presenting the same code or refresh
//! token, rotating the same signing key, signing in the same user at once, using the same TOTP
//! step, backup code or challenge. (The contract suite checks the behaviour; these checks run
//! the races on a pool wide enough for every contender to hold its own connection.) Skipped,
//! with a line saying so, when `TESSERA_TEST_DATABASE_URL` is not set.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use futures::future::join_all;
use tessera_domain::code::{CodeCheck, CodePurpose, OneTimeCode};
use tessera_domain::ports::{Journal, SessionSelector, Store, StoreError};
use tessera_domain::session::Session;
use tessera_domain::token::{RefreshFamily, RefreshOutcome, SigningAlgorithm, SigningKey};
use tessera_domain::user::User;
use tessera_domain::{CodeId, RefreshFamilyId, SessionId, TenantId};
use tessera_store_contract::fixtures::{self, at, fresh_uuid};
use tessera_store_postgres::PostgresStore;
use tessera_store_postgres::testing::TestDatabase;

const CONTENDERS: usize = 12;

struct Fixture {
    store: PostgresStore,
    _db: TestDatabase,
}

async fn setup(test: &str) -> Option<Fixture> {
    let db = TestDatabase::from_env(test).await?;
    let mut settings = db.settings();
    settings.max_connections = u32::try_from(CONTENDERS).unwrap() + 2;
    PostgresStore::migrate(&settings).await.expect("migrate");
    let store = PostgresStore::connect(&settings).await.expect("connect");
    Some(Fixture { store, _db: db })
}

async fn user(store: &dyn Store) -> User {
    let tenant = fixtures::create_tenant(store).await;
    let user = fixtures::minimal_user(tenant.id);
    store.insert_user(&user, &Journal::default()).await.unwrap();
    user
}

fn hash() -> String {
    format!("{}{}", fresh_uuid().simple(), fresh_uuid().simple())
}

fn session(user: &User, created: i64) -> Session {
    Session {
        id: SessionId::from_uuid(fresh_uuid()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        secret_hash: hash(),
        created_at: at(created),
        last_seen_at: at(created),
        expires_at: at(created + 36_000),
        idle_timeout: time::Duration::minutes(30),
        ip: None,
        user_agent: None,
        device: None,
        amr: vec!["pwd".to_owned()],
        auth_time: at(created),
        acr: tessera_domain::mfa::ACR_ONE_FACTOR.to_owned(),
        restriction: None,
        revoked_at: None,
    }
}

fn family(user: &User, session: Option<SessionId>) -> RefreshFamily {
    RefreshFamily {
        id: RefreshFamilyId::from_uuid(fresh_uuid()),
        tenant_id: user.tenant_id,
        user_id: user.id,
        session_id: session,
        client_id: "console".to_owned(),
        scope: "openid offline_access".to_owned(),
        generation: 0,
        created_at: at(20),
        expires_at: at(86_400),
        revoked_at: None,
    }
}

fn key(tenant: TenantId, kid: &str, created: i64) -> SigningKey {
    SigningKey {
        tenant_id: tenant,
        kid: kid.to_owned(),
        alg: SigningAlgorithm::EdDSA,
        public_jwk: serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": kid }),
        private_sealed: vec![0, 255, 1],
        created_at: at(created),
        retired_at: None,
        publish_until: None,
    }
}

#[tokio::test]
async fn concurrent_right_codes_are_accepted_once_and_wrong_guesses_all_count() {
    let Some(f) =
        setup("concurrent_right_codes_are_accepted_once_and_wrong_guesses_all_count").await
    else {
        return;
    };
    let store: &dyn Store = &f.store;
    let user = user(store).await;
    let t = user.tenant_id;
    let code = |target: &str, hash: &str, max_attempts: u32| OneTimeCode {
        id: CodeId::from_uuid(fresh_uuid()),
        tenant_id: t,
        user_id: user.id,
        purpose: CodePurpose::RecoverPassword,
        target: target.to_owned(),
        code_hash: hash.to_owned(),
        created_at: at(30),
        expires_at: at(630),
        attempts: 0,
        max_attempts,
        consumed_at: None,
    };

    let right = hash();
    store
        .insert_code(&code("email:a@example.com", &right, 5), &Journal::default())
        .await
        .unwrap();
    let checks = (0..CONTENDERS).map(|_| {
        store.check_code(
            t,
            CodePurpose::RecoverPassword,
            "email:a@example.com",
            &right,
            at(60),
        )
    });
    let results: Vec<CodeCheck> = join_all(checks)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let accepted = results
        .iter()
        .filter(|r| matches!(r, CodeCheck::Accepted(_)))
        .count();
    assert_eq!(accepted, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, CodeCheck::Accepted(_) | CodeCheck::NoneLive))
    );

    // Wrong guesses at once: exactly max_attempts are counted, the rest find nothing live.
    store
        .insert_code(
            &code("email:b@example.com", &hash(), 3),
            &Journal::default(),
        )
        .await
        .unwrap();
    let wrong = hash();
    let guesses = (0..CONTENDERS).map(|_| {
        store.check_code(
            t,
            CodePurpose::RecoverPassword,
            "email:b@example.com",
            &wrong,
            at(60),
        )
    });
    let mut remaining: Vec<u32> = join_all(guesses)
        .await
        .into_iter()
        .filter_map(|r| match r.unwrap() {
            CodeCheck::Wrong { remaining } => Some(remaining),
            CodeCheck::NoneLive => None,
            other => panic!("a wrong code gave {other:?}"),
        })
        .collect();
    remaining.sort_unstable();
    assert_eq!(remaining, vec![0, 1, 2]);
}

#[tokio::test]
async fn concurrent_rotations_of_one_token_rotate_once_and_revoke_the_family_once() {
    let Some(f) =
        setup("concurrent_rotations_of_one_token_rotate_once_and_revoke_the_family_once").await
    else {
        return;
    };
    let store: &dyn Store = &f.store;
    let user = user(store).await;
    let t = user.tenant_id;
    let family = family(&user, None);
    let token = hash();
    store.insert_refresh_family(&family, &token).await.unwrap();
    let before = fixtures::head_seq(store, t).await;

    let new_hashes: Vec<String> = (0..CONTENDERS).map(|_| hash()).collect();
    // Each presentation brings its own journal (an event id is appended once).
    let journals: Vec<Journal> = (0..CONTENDERS)
        .map(|_| fixtures::journal(t, "auth.refresh.reused", None))
        .collect();
    let rotations = new_hashes
        .iter()
        .zip(&journals)
        .map(|(new, reuse)| store.rotate_refresh(t, &token, new, at(100), reuse));
    let outcomes: Vec<RefreshOutcome> = join_all(rotations)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let count = |f: fn(&RefreshOutcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let rotated = count(|o| matches!(o, RefreshOutcome::Rotated(f) if f.generation == 1));
    let reused = count(|o| matches!(o, RefreshOutcome::Reused(f) if f.revoked_at == Some(at(100))));
    let invalid = count(|o| *o == RefreshOutcome::Invalid);
    // One wins; the first loser revokes the family (and journals it); the rest find it
    // revoked.
    assert_eq!(
        (rotated, reused, invalid),
        (1, 1, CONTENDERS - 2),
        "{outcomes:?}"
    );
    let stored = store
        .refresh_family_by_hash(t, &token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.generation, 1);
    assert_eq!(stored.revoked_at, Some(at(100)));
    assert_eq!(fixtures::head_seq(store, t).await, before + 1);
    fixtures::verify_chain(store, t, 100).await;

    // The winner's new token belongs to the revoked family: presenting it is Invalid.
    let mut winners = Vec::new();
    for h in &new_hashes {
        if store.refresh_family_by_hash(t, h).await.unwrap().is_some() {
            winners.push(h);
        }
    }
    assert_eq!(winners.len(), 1, "only the winner's new token is stored");
    let winner = winners[0];
    assert_eq!(
        store
            .rotate_refresh(t, winner, &hash(), at(101), &Journal::default())
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
}

#[tokio::test]
async fn concurrent_key_rotations_let_one_node_win() {
    let Some(f) = setup("concurrent_key_rotations_let_one_node_win").await else {
        return;
    };
    let store: &dyn Store = &f.store;
    let tenant = fixtures::create_tenant(store).await.id;

    // Several nodes creating the first key at once.
    let none = Journal::default();
    let firsts: Vec<SigningKey> = (0..CONTENDERS)
        .map(|i| key(tenant, &format!("first-{i}"), 10))
        .collect();
    let results = join_all(firsts.iter().map(|k| store.add_signing_key(k, None, &none))).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict)))
    );
    let keys = store.signing_keys(tenant).await.unwrap();
    assert_eq!(keys.len(), 1);
    let current = keys[0].kid.clone();

    // Several nodes retiring it at once.
    let seconds: Vec<SigningKey> = (0..CONTENDERS)
        .map(|i| key(tenant, &format!("second-{i}"), 20))
        .collect();
    let rotated = fixtures::journal(tenant, "signing_key.rotated", None);
    let results = join_all(
        seconds
            .iter()
            .map(|k| store.add_signing_key(k, Some((current.as_str(), at(4_000))), &rotated)),
    )
    .await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        results
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict)))
    );
    let keys = store.signing_keys(tenant).await.unwrap();
    assert_eq!(keys.len(), 2);
    assert!(keys[0].is_current() && keys[0].kid.starts_with("second-"));
    assert_eq!(keys[1].retired_at, Some(at(20)));
    assert_eq!(keys[1].publish_until, Some(at(4_000)));
    fixtures::verify_chain(store, tenant, 100).await;
}

#[tokio::test]
async fn concurrent_sign_ins_keep_the_per_user_limit() {
    let Some(f) = setup("concurrent_sign_ins_keep_the_per_user_limit").await else {
        return;
    };
    let store: &dyn Store = &f.store;
    let user = user(store).await;
    let sessions: Vec<Session> = (0..CONTENDERS)
        .map(|i| session(&user, 100 + i64::try_from(i).unwrap()))
        .collect();
    let families: Vec<(RefreshFamily, String)> = sessions
        .iter()
        .map(|s| (family(&user, Some(s.id)), hash()))
        .collect();
    let none = Journal::default();
    let results = join_all(
        sessions
            .iter()
            .zip(&families)
            .map(|(s, (f, h))| store.create_session(s, Some((f, h.as_str())), 3, &none)),
    )
    .await;
    let ended: usize = results.into_iter().map(|r| r.unwrap().len()).sum();
    assert_eq!(ended, CONTENDERS - 3);
    let live = store
        .list_sessions(user.tenant_id, user.id, at(1_000))
        .await
        .unwrap();
    assert_eq!(live.len(), 3);
    // Every ended session's refresh family is revoked, the others are not.
    for (s, (_, h)) in sessions.iter().zip(&families) {
        let family = store
            .refresh_family_by_hash(user.tenant_id, h)
            .await
            .unwrap()
            .unwrap();
        let is_live = live.iter().any(|l| l.id == s.id);
        assert_eq!(family.revoked_at.is_none(), is_live);
    }
    // Ending all of them at once from several places ends each once.
    let ends = (0..4).map(|_| {
        store.end_sessions(
            user.tenant_id,
            user.id,
            SessionSelector::All,
            at(2_000),
            &none,
        )
    });
    let counts: u64 = join_all(ends).await.into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(counts, 3);
}

/// Counts the `true`s of concurrent single-use attempts.
async fn winners(
    attempts: impl Iterator<Item = impl std::future::Future<Output = Result<bool, StoreError>>>,
) -> usize {
    join_all(attempts)
        .await
        .into_iter()
        .map(Result::unwrap)
        .filter(|won| *won)
        .count()
}

#[tokio::test]
async fn concurrent_uses_of_a_totp_step_backup_code_or_challenge_win_once() {
    let Some(f) = setup("concurrent_uses_of_a_totp_step_backup_code_or_challenge_win_once").await
    else {
        return;
    };
    let store: &dyn Store = &f.store;
    let user = user(store).await;
    let t = user.tenant_id;
    store
        .put_pending_totp(&fixtures::totp_factor(&user, 40))
        .await
        .unwrap();
    let before = fixtures::head_seq(store, t).await;
    // Each attempt of each race brings its own journal (an event id is appended once, and
    // the same contender may win two races).
    let fresh = || -> Vec<Journal> {
        (0..CONTENDERS)
            .map(|_| fixtures::journal(t, "mfa.used", None))
            .collect()
    };
    let journals = fresh();
    let confirms = journals
        .iter()
        .map(|j| store.confirm_totp(t, user.id, 10, at(50), j));
    assert_eq!(winners(confirms).await, 1);
    let journals = fresh();
    let uses = journals
        .iter()
        .map(|j| store.use_totp_step(t, user.id, 11, j));
    assert_eq!(winners(uses).await, 1);

    let codes = vec![hash(), hash()];
    store
        .replace_backup_codes(t, user.id, &codes, at(60), &Journal::default())
        .await
        .unwrap();
    let journals = fresh();
    let uses = journals
        .iter()
        .map(|j| store.use_backup_code(t, user.id, &codes[0], at(70), j));
    assert_eq!(winners(uses).await, 1);
    // Exactly one journal per winner.
    assert_eq!(fixtures::head_seq(store, t).await, before + 3);

    let challenge = fixtures::challenge(
        t,
        Some(&user),
        tessera_domain::mfa::ChallengeKind::SignInLink,
        80,
    );
    store.insert_challenge(&challenge).await.unwrap();
    let consumes = (0..CONTENDERS).map(|_| store.consume_challenge(t, challenge.id, at(90)));
    assert_eq!(winners(consumes).await, 1);

    // Concurrent first sign-ins from one network: exactly one is told it is new.
    let records =
        (0..CONTENDERS).map(|_| store.record_network(t, user.id, "203.0.113.0/24", at(95)));
    assert_eq!(winners(records).await, 1);
}
