//! Refresh-token families: rotation moves the generation on, presenting an older token
//! revokes the family (journaled once), unknown / expired / revoked tokens are invalid, and
//! exactly one of several concurrent rotations with the same token wins.

use crate::fixtures::{
    at, create_tenant, create_user, fresh_uuid, hash, head_seq, journal, last_event, refresh_family,
};
use futures::future::{BoxFuture, join_all};
use tessera_domain::RefreshFamilyId;
use tessera_domain::ports::{Journal, Store, StoreError};
use tessera_domain::token::{RefreshFamily, RefreshOutcome};

fn reused(family: &RefreshFamily) -> Journal {
    journal(
        family.tenant_id,
        "auth.refresh_reused",
        Some(("refresh_family", family.id.to_string())),
    )
}

pub async fn refresh_rotation(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let family = refresh_family(&user, None, 100);
    let t0 = hash();
    store.insert_refresh_family(&family, &t0).await.unwrap();
    assert_eq!(
        store.refresh_family_by_hash(t.id, &t0).await.unwrap(),
        Some(family.clone())
    );
    assert_eq!(
        store.refresh_family_by_hash(other.id, &t0).await.unwrap(),
        None
    );
    assert_eq!(
        store.refresh_family_by_hash(t.id, &hash()).await.unwrap(),
        None
    );

    // The current token rotates; the family keeps its end.
    let head = head_seq(store, t.id).await;
    let on_reuse = reused(&family);
    let (t1, t2) = (hash(), hash());
    let gen1 = RefreshFamily {
        generation: 1,
        ..family.clone()
    };
    assert_eq!(
        store
            .rotate_refresh(t.id, &t0, &t1, at(200), &on_reuse)
            .await
            .unwrap(),
        RefreshOutcome::Rotated(gen1.clone())
    );
    // Every generation's token names the family.
    assert_eq!(
        store.refresh_family_by_hash(t.id, &t1).await.unwrap(),
        Some(gen1.clone())
    );
    assert_eq!(
        store.refresh_family_by_hash(t.id, &t0).await.unwrap(),
        Some(gen1)
    );
    let gen2 = RefreshFamily {
        generation: 2,
        ..family.clone()
    };
    assert_eq!(
        store
            .rotate_refresh(t.id, &t1, &t2, at(300), &on_reuse)
            .await
            .unwrap(),
        RefreshOutcome::Rotated(gen2.clone())
    );
    assert_eq!(
        head_seq(store, t.id).await,
        head,
        "a rotation is not journaled"
    );

    // Another tenant cannot present it; an unknown token is invalid. Nothing changes.
    for (tenant, token) in [(other.id, &t2), (t.id, &hash())] {
        assert_eq!(
            store
                .rotate_refresh(tenant, token, &hash(), at(350), &on_reuse)
                .await
                .unwrap(),
            RefreshOutcome::Invalid
        );
    }
    assert_eq!(
        store.refresh_family_by_hash(t.id, &t2).await.unwrap(),
        Some(gen2.clone())
    );

    // An older generation: the family is revoked and `on_reuse` journaled.
    let stolen = hash();
    assert_eq!(
        store
            .rotate_refresh(t.id, &t0, &stolen, at(400), &on_reuse)
            .await
            .unwrap(),
        RefreshOutcome::Reused(RefreshFamily {
            revoked_at: Some(at(400)),
            ..gen2.clone()
        })
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);
    assert_eq!(last_event(store, t.id).await.id, on_reuse.events[0].id);
    assert_eq!(
        store.refresh_family_by_hash(t.id, &stolen).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .refresh_family_by_hash(t.id, &t2)
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(at(400))
    );
    // Revoked: every token, the current one included, is invalid; nothing more journaled.
    for token in [&t2, &t0, &t1] {
        assert_eq!(
            store
                .rotate_refresh(t.id, token, &hash(), at(500), &reused(&family))
                .await
                .unwrap(),
            RefreshOutcome::Invalid
        );
    }
    assert_eq!(head_seq(store, t.id).await, head + 1);

    // Expired at `now` (the end itself included): invalid, and not revoked.
    let expiring = refresh_family(&user, None, 100);
    let te = hash();
    store.insert_refresh_family(&expiring, &te).await.unwrap();
    assert_eq!(
        store
            .rotate_refresh(t.id, &te, &hash(), expiring.expires_at, &reused(&expiring))
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
    assert_eq!(
        store.refresh_family_by_hash(t.id, &te).await.unwrap(),
        Some(expiring.clone())
    );
    assert_eq!(
        store
            .rotate_refresh(t.id, &te, &hash(), at(86_499), &reused(&expiring))
            .await
            .unwrap(),
        RefreshOutcome::Rotated(RefreshFamily {
            generation: 1,
            ..expiring
        })
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);
}

pub async fn refresh_revocation(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let family = refresh_family(&user, None, 100);
    let token = hash();
    store.insert_refresh_family(&family, &token).await.unwrap();
    let revoked = journal(
        t.id,
        "refresh_family.revoked",
        Some(("refresh_family", family.id.to_string())),
    );

    let head = head_seq(store, t.id).await;
    let ghost = RefreshFamilyId::from_uuid(fresh_uuid());
    assert_err!(
        store
            .revoke_refresh_family(t.id, ghost, at(600), &revoked)
            .await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .revoke_refresh_family(other.id, family.id, at(600), &revoked)
            .await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, t.id).await, head);
    assert_eq!(
        store.refresh_family_by_hash(t.id, &token).await.unwrap(),
        Some(family.clone())
    );

    store
        .revoke_refresh_family(t.id, family.id, at(600), &revoked)
        .await
        .unwrap();
    assert_eq!(head_seq(store, t.id).await, head + 1);
    let gone = RefreshFamily {
        revoked_at: Some(at(600)),
        ..family.clone()
    };
    assert_eq!(
        store.refresh_family_by_hash(t.id, &token).await.unwrap(),
        Some(gone.clone())
    );
    // Twice is not an error, and the family keeps the instant it was revoked at.
    store
        .revoke_refresh_family(t.id, family.id, at(700), &Journal::default())
        .await
        .unwrap();
    assert_eq!(
        store.refresh_family_by_hash(t.id, &token).await.unwrap(),
        Some(gone)
    );
    assert_eq!(
        store
            .rotate_refresh(t.id, &token, &hash(), at(800), &reused(&family))
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );

    // The same token hash twice in a tenant is refused.
    let twin = refresh_family(&user, None, 100);
    assert_err!(
        store.insert_refresh_family(&twin, &token).await,
        StoreError::Duplicate { .. }
    );
}

pub async fn refresh_concurrent_rotation(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let family = refresh_family(&user, None, 100);
    let t0 = hash();
    store.insert_refresh_family(&family, &t0).await.unwrap();
    let head = head_seq(store, t.id).await;

    // Eight rotations of the same token at once: exactly one wins, the first loser sees an
    // older generation and revokes the family, the rest find it revoked.
    let new: Vec<String> = (0..8).map(|_| hash()).collect();
    let journals: Vec<Journal> = (0..8).map(|_| reused(&family)).collect();
    let rotations: Vec<BoxFuture<'_, Result<RefreshOutcome, StoreError>>> = new
        .iter()
        .zip(&journals)
        .map(|(n, j)| store.rotate_refresh(t.id, &t0, n, at(200), j))
        .collect();
    let results: Vec<RefreshOutcome> = join_all(rotations)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let winners: Vec<usize> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| matches!(r, RefreshOutcome::Rotated(_)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    let winner = winners[0];
    assert_eq!(
        results[winner],
        RefreshOutcome::Rotated(RefreshFamily {
            generation: 1,
            ..family.clone()
        })
    );
    let mut reuses = 0;
    for (i, result) in results.iter().enumerate() {
        match result {
            RefreshOutcome::Rotated(_) => {}
            RefreshOutcome::Reused(f) => {
                reuses += 1;
                assert_eq!(f.id, family.id);
                assert_eq!(f.generation, 1);
                assert_eq!(f.revoked_at, Some(at(200)));
            }
            RefreshOutcome::Invalid => {}
        }
        if i != winner {
            assert_eq!(
                store.refresh_family_by_hash(t.id, &new[i]).await.unwrap(),
                None,
                "a losing rotation stores no token"
            );
        }
    }
    assert!(reuses >= 1, "the reuse is detected: {results:?}");
    // One `on_reuse` journal per `Reused`, and the family ends revoked.
    assert_eq!(head_seq(store, t.id).await, head + reuses);
    let after = store
        .refresh_family_by_hash(t.id, &new[winner])
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after,
        RefreshFamily {
            generation: 1,
            revoked_at: Some(at(200)),
            ..family
        }
    );
    assert_eq!(
        store
            .rotate_refresh(t.id, &new[winner], &hash(), at(300), &Journal::default())
            .await
            .unwrap(),
        RefreshOutcome::Invalid
    );
}
