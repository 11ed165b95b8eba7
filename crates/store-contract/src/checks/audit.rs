//! The audit trail: hash chain, exact round trip, atomicity with the change, filters,
//! concurrent writers.

use crate::fixtures::{
    assert_event_matches, at, create_tenant, draft, fresh_uuid, full_user, head_seq, journal,
    minimal_user, named_user, organization, tenant, unit, verify_chain,
};
use futures::future::{BoxFuture, join_all};
use std::collections::BTreeMap;
use tessera_domain::audit::{Actor, ActorKind, AuditDraft, Outcome};
use tessera_domain::org_unit::Assignment;
use tessera_domain::paging::{Cursor, SortOrder};
use tessera_domain::ports::{AuditQuery, Journal, Store, StoreError};
use tessera_domain::{AuditEventId, TenantId};
use time::Duration;

/// Runs a series of writes on a new tenant and returns it with every draft journaled, in
/// order.
async fn busy_tenant(store: &dyn Store) -> (TenantId, Vec<AuditDraft>) {
    let operator = create_tenant(store).await;
    let org = organization();
    let t = tenant(org.id);
    // Tenant creation journals into the operator's chain and into the new tenant's chain.
    let creation = Journal {
        events: vec![
            draft(
                operator.id,
                "tenant.created",
                Some(("tenant", t.id.to_string())),
            ),
            draft(t.id, "tenant.created", Some(("tenant", t.id.to_string()))),
        ],
        authz_changed: false,
    };
    store
        .create_tenant(Some(&org), &t, &creation)
        .await
        .unwrap();
    let operator_events = verify_chain(store, operator.id, 10).await;
    assert_eq!(operator_events.len(), 2);
    assert_event_matches(&operator_events[1], &creation.events[0]);

    let mut drafts = vec![creation.events[1].clone()];
    let mut journaled = |j: Journal| {
        drafts.extend(j.events.iter().cloned());
        j
    };
    let user = full_user(t.id);
    let j = journaled(journal(
        t.id,
        "user.created",
        Some(("user", user.id.to_string())),
    ));
    store.insert_user(&user, &j).await.unwrap();
    let mut changed = user.clone();
    changed.version = 2;
    changed.updated_at = at(500);
    let two = Journal {
        events: vec![
            draft(t.id, "user.updated", Some(("user", user.id.to_string()))),
            draft(
                t.id,
                "user.state_changed",
                Some(("user", user.id.to_string())),
            ),
        ],
        authz_changed: false,
    };
    store
        .update_user(&changed, 1, &journaled(two))
        .await
        .unwrap();
    let shop = unit(t.id, None, "Shop");
    let j = journaled(journal(
        t.id,
        "org_unit.created",
        Some(("org_unit", shop.id.to_string())),
    ));
    store.insert_unit(&shop, &j).await.unwrap();
    let assignment = Assignment {
        tenant_id: t.id,
        unit_id: shop.id,
        user_id: user.id,
        created_at: at(7),
    };
    store
        .assign(
            &assignment,
            &journaled(journal(t.id, "org_unit.assigned", None)),
        )
        .await
        .unwrap();
    let key = crate::fixtures::api_key(t.id);
    store
        .insert_api_key(&key, &journaled(journal(t.id, "api_key.created", None)))
        .await
        .unwrap();
    let j = journaled(journal(t.id, "api_key.revoked", None));
    store.revoke_api_key(t.id, key.id, at(8), &j).await.unwrap();
    let mut refused = draft(t.id, "auth.refused", None);
    refused.outcome = Outcome::Failure;
    refused.actor = Actor::cli();
    refused.origin = Default::default();
    refused.changes = vec![];
    store
        .append(&journaled(Journal::one(refused)))
        .await
        .unwrap();
    let j = journaled(journal(t.id, "org_unit.unassigned", None));
    store.unassign(t.id, shop.id, user.id, &j).await.unwrap();
    let j = journaled(journal(
        t.id,
        "user.erased",
        Some(("user", user.id.to_string())),
    ));
    store.erase_user(t.id, user.id, &j).await.unwrap();
    (t.id, drafts)
}

pub async fn audit_chain_verifies(store: &dyn Store) {
    let (t, drafts) = busy_tenant(store).await;
    for page in [1, 3, 500] {
        let events = verify_chain(store, t, page).await;
        assert_eq!(events.len(), drafts.len());
        let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=drafts.len() as i64).collect::<Vec<_>>());
    }
    let (seq, hash) = store.audit_head(t).await.unwrap().unwrap();
    assert_eq!(seq, drafts.len() as i64);
    assert_eq!(hash.len(), 64);
    assert_eq!(
        store
            .audit_head(TenantId::from_uuid(fresh_uuid()))
            .await
            .unwrap(),
        None
    );
}

pub async fn audit_events_round_trip(store: &dyn Store) {
    let (t, drafts) = busy_tenant(store).await;
    let events = verify_chain(store, t, 4).await;
    for (event, draft) in events.iter().zip(&drafts) {
        assert_event_matches(event, draft);
    }
    // Newest first, paged.
    let mut desc = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let query = AuditQuery {
            order: SortOrder::Desc,
            after,
            limit: 4,
            ..Default::default()
        };
        let page = store.list_audit(t, &query).await.unwrap();
        desc.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let mut asc = desc.clone();
    asc.reverse();
    assert_eq!(asc, events);
}

pub async fn audit_failed_writes_leave_no_event(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = named_user(t.id, "dup");
    store.insert_user(&user, &Default::default()).await.unwrap();
    let head = store.audit_head(t.id).await.unwrap();

    let mut twin = minimal_user(t.id);
    twin.username = user.username.clone();
    let lost = journal(t.id, "user.created", Some(("user", twin.id.to_string())));
    assert_err!(
        store.insert_user(&twin, &lost).await,
        StoreError::Duplicate { .. }
    );
    let mut stale = user.clone();
    stale.version = 5;
    assert_err!(
        store.update_user(&stale, 4, &lost).await,
        StoreError::Conflict
    );
    // A journal naming a tenant that does not exist fails the write as a whole.
    let ghost_tenant = TenantId::from_uuid(fresh_uuid());
    let mixed = Journal {
        events: vec![
            draft(t.id, "user.created", None),
            draft(ghost_tenant, "user.created", None),
        ],
        authz_changed: false,
    };
    let other = minimal_user(t.id);
    assert!(store.insert_user(&other, &mixed).await.is_err());
    assert_eq!(store.user(t.id, other.id).await.unwrap(), None);

    assert_eq!(store.audit_head(t.id).await.unwrap(), head);
    let events = verify_chain(store, t.id, 50).await;
    let ids: Vec<AuditEventId> = events.iter().map(|e| e.id).collect();
    assert!(!ids.contains(&lost.events[0].id));
    assert!(!ids.contains(&mixed.events[0].id));
    assert_eq!(store.audit_head(ghost_tenant).await.unwrap(), None);
}

pub async fn audit_filters_and_order(store: &dyn Store) {
    let t = create_tenant(store).await; // event 1: tenant.created
    let mut drafts = Vec::new();
    for i in 0..6_i64 {
        let mut d = draft(
            t.id,
            if i % 2 == 0 {
                "user.created"
            } else {
                "user.updated"
            },
            None,
        );
        d.subject_kind = Some("user".to_owned());
        d.subject_id = Some(format!("subject-{}", i % 3));
        d.actor = Actor {
            kind: ActorKind::User,
            id: Some(format!("actor-{}", i % 2)),
            tenant_id: None,
        };
        d.outcome = if i == 5 {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        d.at = at(1_000) + Duration::seconds(i);
        store.append(&Journal::one(d.clone())).await.unwrap();
        drafts.push(d);
    }
    let list = |query: AuditQuery| async move {
        let page = store
            .list_audit(
                t.id,
                &AuditQuery {
                    limit: 500,
                    ..query
                },
            )
            .await
            .unwrap();
        page.items.into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let pick = |idx: &[usize]| idx.iter().map(|i| drafts[*i].id).collect::<Vec<_>>();
    let q = AuditQuery::default;
    assert_eq!(
        list(AuditQuery {
            action: Some("user.updated".to_owned()),
            ..q()
        })
        .await,
        pick(&[1, 3, 5])
    );
    assert_eq!(
        list(AuditQuery {
            actor_id: Some("actor-0".to_owned()),
            ..q()
        })
        .await,
        pick(&[0, 2, 4])
    );
    assert_eq!(
        list(AuditQuery {
            subject_id: Some("subject-1".to_owned()),
            ..q()
        })
        .await,
        pick(&[1, 4])
    );
    assert_eq!(
        list(AuditQuery {
            outcome: Some(Outcome::Failure),
            ..q()
        })
        .await,
        pick(&[5])
    );
    let window = AuditQuery {
        since: Some(drafts[1].at),
        until: Some(drafts[4].at),
        ..q()
    };
    assert_eq!(
        list(window).await,
        pick(&[1, 2, 3]),
        "`since` inclusive, `until` exclusive"
    );
    let newest_first = AuditQuery {
        action: Some("user.created".to_owned()),
        order: SortOrder::Desc,
        ..q()
    };
    assert_eq!(list(newest_first).await, pick(&[4, 2, 0]));
    let nasty = AuditQuery {
        action: Some("' OR 1=1 --".to_owned()),
        ..q()
    };
    assert!(list(nasty).await.is_empty());
    assert_eq!(list(q()).await.len(), 7);
}

pub async fn audit_concurrent_writers(store: &dyn Store) {
    let t = create_tenant(store).await;
    let users: Vec<_> = (0..8).map(|_| minimal_user(t.id)).collect();
    let journals: Vec<Journal> = users
        .iter()
        .map(|u| Journal {
            events: vec![
                draft(t.id, "user.created", Some(("user", u.id.to_string()))),
                draft(t.id, "user.state_changed", Some(("user", u.id.to_string()))),
            ],
            authz_changed: false,
        })
        .collect();
    let appends: Vec<Journal> = (0..4)
        .map(|_| journal(t.id, "auth.refused", None))
        .collect();
    // Every write at once: the store must serialise the appends to the one chain.
    let mut writes: Vec<BoxFuture<'_, Result<(), StoreError>>> = Vec::new();
    for (user, j) in users.iter().zip(&journals) {
        writes.push(store.insert_user(user, j));
    }
    for j in &appends {
        writes.push(store.append(j));
    }
    let results = join_all(writes).await;
    for result in results {
        result.unwrap();
    }
    let events = verify_chain(store, t.id, 7).await;
    assert_eq!(events.len(), 1 + 8 * 2 + 4);
    // Each journal's events are contiguous: a write appends its journal in one transaction.
    let position: BTreeMap<AuditEventId, i64> = events.iter().map(|e| (e.id, e.seq)).collect();
    for j in &journals {
        assert_eq!(position[&j.events[1].id], position[&j.events[0].id] + 1);
    }
    assert_eq!(head_seq(store, t.id).await, events.len() as i64);
}

pub async fn audit_action_prefix(store: &dyn Store) {
    let t = create_tenant(store).await; // event 1: tenant.created
    let actions = [
        "auth.login.succeeded",
        "auth.login.failed",
        "auth.logout",
        "auth_login.x",
        "AUTH.login.odd",
        "user.created",
        "auth.login",
        "authXlogin",
        "50%.off",
        "auth.logın",
    ];
    let mut drafts = Vec::new();
    for (i, action) in actions.iter().enumerate() {
        let mut d = draft(t.id, action, None);
        d.outcome = if *action == "auth.login.failed" {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        d.at = at(2_000) + Duration::seconds(i as i64);
        store.append(&Journal::one(d.clone())).await.unwrap();
        drafts.push(d);
    }
    let list = |query: AuditQuery| async move {
        let page = store
            .list_audit(
                t.id,
                &AuditQuery {
                    limit: 500,
                    ..query
                },
            )
            .await
            .unwrap();
        page.items.into_iter().map(|e| e.action).collect::<Vec<_>>()
    };
    let prefix = |p: &str| AuditQuery {
        action_prefix: Some(p.to_owned()),
        ..AuditQuery::default()
    };
    assert_eq!(
        list(prefix("auth.login")).await,
        ["auth.login.succeeded", "auth.login.failed", "auth.login"]
    );
    assert_eq!(
        list(prefix("auth.")).await,
        [
            "auth.login.succeeded",
            "auth.login.failed",
            "auth.logout",
            "auth.login",
            "auth.logın"
        ]
    );
    // `_` and `%` are literal (no LIKE wildcards), and the match is case-sensitive.
    assert_eq!(list(prefix("auth_")).await, ["auth_login.x"]);
    assert!(list(prefix("%")).await.is_empty());
    assert_eq!(list(prefix("50%")).await, ["50%.off"]);
    assert_eq!(list(prefix("AUTH")).await, ["AUTH.login.odd"]);
    assert_eq!(list(prefix("auth.logı")).await, ["auth.logın"]);
    assert!(list(prefix("auth.login.succeeded.")).await.is_empty());
    assert!(list(prefix("' OR 1=1 --")).await.is_empty());
    // The empty prefix matches every action.
    assert_eq!(list(prefix("")).await.len(), 1 + actions.len());

    // With the other filters, newest first, paged.
    assert_eq!(
        list(AuditQuery {
            outcome: Some(Outcome::Failure),
            ..prefix("auth.login")
        })
        .await,
        ["auth.login.failed"]
    );
    assert_eq!(
        list(AuditQuery {
            order: SortOrder::Desc,
            ..prefix("auth.login")
        })
        .await,
        ["auth.login", "auth.login.failed", "auth.login.succeeded"]
    );
    let mut paged = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store
            .list_audit(
                t.id,
                &AuditQuery {
                    after,
                    limit: 2,
                    ..prefix("auth.")
                },
            )
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        paged.extend(page.items.into_iter().map(|e| e.action));
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assert_eq!(paged, list(prefix("auth.")).await);
    // Another tenant's events never show.
    let other = create_tenant(store).await;
    let page = store.list_audit(other.id, &prefix("auth.")).await.unwrap();
    assert!(page.items.is_empty());
}
