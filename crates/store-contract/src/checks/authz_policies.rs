//! Versioned policy sets (each version exactly one more than the newest, refused otherwise
//! with nothing written; concurrent saves of one version: exactly one wins) and the decision
//! log (newest first, limited, per tenant).

use crate::authz_fixtures::{authz_journal, decision, marks, policy_set};
use crate::fixtures::create_tenant;
use futures::future::join_all;
use tessera_domain::authz::PolicySet;
use tessera_domain::ports::{Store, StoreError};

pub async fn authz_policy_versions(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let j = || authz_journal(t.id, "policies.saved");
    assert!(store.policy_sets(t.id).await.unwrap().is_empty());
    assert_eq!(store.tenant_model(t.id).await.unwrap().policies, None);
    assert_eq!(store.policy_set(t.id, 1).await.unwrap(), None);

    // The first version is 1.
    let before = marks(store, t.id).await;
    for wrong in [0, 2, -1] {
        assert_err!(
            store
                .insert_policy_set(&policy_set(t.id, wrong), &j())
                .await,
            StoreError::Conflict
        );
    }
    assert_eq!(marks(store, t.id).await, before);
    let v1 = policy_set(t.id, 1);
    store.insert_policy_set(&v1, &j()).await.unwrap();
    assert_eq!(marks(store, t.id).await, (before.0 + 1, before.1 + 1));

    // Then exactly one more than the newest: not the same again, not a gap.
    let before = marks(store, t.id).await;
    for wrong in [1, 3] {
        assert_err!(
            store
                .insert_policy_set(&policy_set(t.id, wrong), &j())
                .await,
            StoreError::Conflict
        );
    }
    assert_eq!(marks(store, t.id).await, before);
    let v2 = PolicySet {
        created_by: None,
        comment: String::new(),
        ..policy_set(t.id, 2)
    };
    store.insert_policy_set(&v2, &j()).await.unwrap();
    // Restoring an old text is saving it as a new version.
    let v3 = PolicySet {
        text: v1.text.clone(),
        ..policy_set(t.id, 3)
    };
    store.insert_policy_set(&v3, &j()).await.unwrap();

    assert_eq!(
        store.policy_sets(t.id).await.unwrap(),
        vec![v3.clone(), v2.clone(), v1.clone()]
    );
    assert_eq!(store.policy_set(t.id, 2).await.unwrap(), Some(v2));
    assert_eq!(store.policy_set(t.id, 1).await.unwrap(), Some(v1));
    assert_eq!(store.policy_set(t.id, 4).await.unwrap(), None);
    assert_eq!(store.tenant_model(t.id).await.unwrap().policies, Some(v3));

    // Versions are per tenant; the other tenant starts at 1 and sees none of these.
    assert!(store.policy_sets(other.id).await.unwrap().is_empty());
    assert_eq!(store.policy_set(other.id, 1).await.unwrap(), None);
    assert_err!(
        store
            .insert_policy_set(&policy_set(other.id, 4), &authz_journal(other.id, "x"))
            .await,
        StoreError::Conflict
    );
    store
        .insert_policy_set(&policy_set(other.id, 1), &authz_journal(other.id, "x"))
        .await
        .unwrap();
    assert_eq!(store.policy_sets(t.id).await.unwrap().len(), 3);
}

pub async fn authz_policy_concurrent_insert(store: &dyn Store) {
    let t = create_tenant(store).await;
    for version in 1..=4 {
        let before = marks(store, t.id).await;
        let sets: Vec<PolicySet> = (0..2)
            .map(|n| PolicySet {
                comment: format!("writer {n}"),
                ..policy_set(t.id, version)
            })
            .collect();
        let journals: Vec<_> = (0..2)
            .map(|_| authz_journal(t.id, "policies.saved"))
            .collect();
        let saves = sets
            .iter()
            .zip(&journals)
            .map(|(set, journal)| store.insert_policy_set(set, journal));
        let results = join_all(saves).await;
        let won: Vec<usize> = (0..2).filter(|i| results[*i].is_ok()).collect();
        assert_eq!(won.len(), 1, "version {version}: {results:?}");
        for result in &results {
            if let Err(e) = result {
                assert!(matches!(e, StoreError::Conflict), "{e:?}");
            }
        }
        // Only the winner's set, journal and epoch advance were written.
        assert_eq!(marks(store, t.id).await, (before.0 + 1, before.1 + 1));
        let stored = store.policy_sets(t.id).await.unwrap();
        assert_eq!(stored.len(), usize::try_from(version).unwrap());
        assert_eq!(stored[0], sets[won[0]]);
    }
}

pub async fn authz_decision_log(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    store.record_decisions(&[]).await.unwrap();
    assert!(store.recent_decisions(t.id, 10).await.unwrap().is_empty());

    // Recorded out of order, across two tenants, in one call; not audited, no epoch change.
    let before = marks(store, t.id).await;
    let mine: Vec<_> = [50, 10, 40, 20, 30]
        .iter()
        .map(|s| decision(t.id, *s, *s % 20 == 0))
        .collect();
    let theirs = decision(other.id, 60, true);
    let mut batch = mine.clone();
    batch.insert(2, theirs.clone());
    store.record_decisions(&batch).await.unwrap();
    assert_eq!(marks(store, t.id).await, before);

    let mut newest_first = mine.clone();
    newest_first.sort_by_key(|d| std::cmp::Reverse(d.at));
    assert_eq!(
        store.recent_decisions(t.id, 10).await.unwrap(),
        newest_first
    );
    assert_eq!(
        store.recent_decisions(t.id, 3).await.unwrap(),
        newest_first[..3].to_vec()
    );
    assert!(store.recent_decisions(t.id, 0).await.unwrap().is_empty());
    assert_eq!(
        store.recent_decisions(other.id, 10).await.unwrap(),
        vec![theirs]
    );

    // A later call adds to the log.
    let latest = decision(t.id, 70, false);
    store
        .record_decisions(std::slice::from_ref(&latest))
        .await
        .unwrap();
    assert_eq!(store.recent_decisions(t.id, 1).await.unwrap(), vec![latest]);
}
