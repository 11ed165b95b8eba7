//! `list_users`: filters, sorts, keyset paging, and SQL metacharacters treated as data.

use crate::fixtures::{at, counts, create_tenant, full_user, minimal_user, named_user, unit};
use tessera_domain::identifiers::Username;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::paging::{Cursor, SortOrder};
use tessera_domain::ports::{Store, UserQuery, UserSort};
use tessera_domain::user::{User, UserKind};
use tessera_domain::{TenantId, UserId};
use time::Duration;

/// Every page of a query, checking page sizes; returns the ids in the order listed.
pub(crate) async fn walk(store: &dyn Store, tenant: TenantId, query: UserQuery) -> Vec<UserId> {
    let mut ids = Vec::new();
    let mut after: Option<Cursor> = None;
    for _ in 0..1_000 {
        let page = store
            .list_users(
                tenant,
                &UserQuery {
                    after: after.clone(),
                    ..query.clone()
                },
            )
            .await
            .unwrap();
        assert!(
            page.items.len() <= query.limit as usize,
            "page larger than its limit"
        );
        ids.extend(page.items.iter().map(|u| u.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return ids,
        }
    }
    panic!("paging never ended");
}

pub(crate) async fn ids(store: &dyn Store, tenant: TenantId, query: UserQuery) -> Vec<UserId> {
    let mut ids = walk(
        store,
        tenant,
        UserQuery {
            limit: 500,
            ..query
        },
    )
    .await;
    ids.sort();
    ids
}

pub(crate) fn sorted(users: &[&User]) -> Vec<UserId> {
    let mut ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
    ids.sort();
    ids
}

pub async fn user_list_filters(store: &dyn Store) {
    let t = create_tenant(store).await;
    let shop = unit(t.id, None, "Shop");
    store.insert_unit(&shop, &Default::default()).await.unwrap();

    let mut active = full_user(t.id);
    active.state = LifecycleState::Active;
    let mut customer = named_user(t.id, "cust");
    customer.kind = UserKind::Customer;
    customer.org_unit_id = Some(shop.id);
    let mut deleted = named_user(t.id, "gone");
    deleted.state = LifecycleState::Deleted;
    deleted.state_before_delete = Some(LifecycleState::Active);
    let mut suspended = named_user(t.id, "susp");
    suspended.state = LifecycleState::Suspended;
    let bare = minimal_user(t.id);
    for u in [&active, &customer, &deleted, &suspended, &bare] {
        store.insert_user(u, &Default::default()).await.unwrap();
    }
    // Noise in another tenant with the same shapes.
    let other = create_tenant(store).await;
    let mut twin = active.clone();
    twin.id = UserId::from_uuid(crate::fixtures::fresh_uuid());
    twin.tenant_id = other.id;
    store.insert_user(&twin, &Default::default()).await.unwrap();

    let q = UserQuery::default;
    assert_eq!(
        ids(store, t.id, q()).await,
        sorted(&[&active, &customer, &suspended, &bare])
    );
    let by_email = active.emails[1].address.key().to_owned();
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                email: Some(by_email),
                ..q()
            }
        )
        .await,
        sorted(&[&active])
    );
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                phone: Some(active.phones[0].number.clone()),
                ..q()
            }
        )
        .await,
        sorted(&[&active])
    );
    let key = suspended.username.as_ref().map(|u| u.key().to_owned());
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                username: key,
                ..q()
            }
        )
        .await,
        sorted(&[&suspended])
    );
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                state: Some(LifecycleState::Deleted),
                ..q()
            }
        )
        .await,
        sorted(&[&deleted])
    );
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                state: Some(LifecycleState::Created),
                ..q()
            }
        )
        .await,
        sorted(&[&customer, &bare])
    );
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                kind: Some(UserKind::Customer),
                ..q()
            }
        )
        .await,
        sorted(&[&customer])
    );
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                org_unit_id: Some(shop.id),
                ..q()
            }
        )
        .await,
        sorted(&[&customer])
    );
    let combined = UserQuery {
        kind: Some(UserKind::User),
        state: Some(LifecycleState::Active),
        email: Some(active.emails[0].address.key().to_owned()),
        ..q()
    };
    assert_eq!(ids(store, t.id, combined).await, sorted(&[&active]));
    let nobody = UserQuery {
        email: Some("nobody@example.com".to_owned()),
        ..q()
    };
    assert!(ids(store, t.id, nobody).await.is_empty());
    // A deleted user is found by its own filter only when the state asks for it.
    let gone = deleted.emails[0].address.key().to_owned();
    assert!(
        ids(
            store,
            t.id,
            UserQuery {
                email: Some(gone.clone()),
                ..q()
            }
        )
        .await
        .is_empty()
    );
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                email: Some(gone),
                state: Some(LifecycleState::Deleted),
                ..q()
            }
        )
        .await,
        sorted(&[&deleted])
    );
}

pub async fn user_list_sorts_and_paging(store: &dyn Store) {
    let t = create_tenant(store).await;
    let names = [
        Some("bravo"),
        Some("Alpha"),
        None,
        Some("émile"),
        Some("ALPHA2"),
        None,
        Some("zulu"),
        Some("b"),
    ];
    let mut users = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let i = i as i64;
        let mut u = minimal_user(t.id);
        u.username =
            name.map(|n| Username::parse(&format!("{n}{}", crate::fixtures::tag())).unwrap());
        // Ties on created_at (pairs) and on updated_at (all but two), to exercise the id
        // tie-breaker; microseconds differ elsewhere.
        u.created_at = at(0) + Duration::seconds(i / 2);
        u.updated_at = at(0) + Duration::microseconds(if i % 3 == 0 { i } else { 1 });
        store.insert_user(&u, &Default::default()).await.unwrap();
        users.push(u);
    }
    for sort in [UserSort::CreatedAt, UserSort::UpdatedAt, UserSort::Username] {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let mut expected = users.clone();
            expected.sort_by(|a, b| {
                let key = |u: &User| match sort {
                    UserSort::CreatedAt => (u.created_at, String::new()),
                    UserSort::UpdatedAt => (u.updated_at, String::new()),
                    UserSort::Username => (
                        at(0),
                        u.username
                            .as_ref()
                            .map_or(String::new(), |n| n.key().to_owned()),
                    ),
                };
                key(a).cmp(&key(b)).then(a.id.cmp(&b.id))
            });
            if order == SortOrder::Desc {
                expected.reverse();
            }
            let expected: Vec<UserId> = expected.iter().map(|u| u.id).collect();
            for limit in [1, 3, 500] {
                let listed = walk(
                    store,
                    t.id,
                    UserQuery {
                        sort,
                        order,
                        limit,
                        ..Default::default()
                    },
                )
                .await;
                assert_eq!(
                    listed, expected,
                    "sort {sort:?} {order:?}, pages of {limit}"
                );
                assert!(counts(&listed).values().all(|n| *n == 1));
            }
        }
    }
}

pub async fn user_list_treats_sql_as_data(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = full_user(t.id);
    store.insert_user(&user, &Default::default()).await.unwrap();
    let nasty = [
        "' OR 1=1 --",
        "x' OR '1'='1",
        "\" OR \"\"=\"",
        "'; DROP TABLE users; --",
        "%",
        "_",
        "*",
        "\\",
        "') OR ('a'='a",
        "1; SELECT pg_sleep(1)",
        "",
    ];
    for value in nasty {
        for query in [
            UserQuery {
                email: Some(value.to_owned()),
                limit: 50,
                ..Default::default()
            },
            UserQuery {
                username: Some(value.to_owned()),
                limit: 50,
                ..Default::default()
            },
        ] {
            let page = store.list_users(t.id, &query).await.unwrap();
            assert!(
                page.items.is_empty(),
                "{value:?} matched {} users",
                page.items.len()
            );
            assert!(page.next.is_none());
        }
        // A forged cursor key is compared as data too.
        let query = UserQuery {
            sort: UserSort::Username,
            after: Some(Cursor {
                key: value.to_owned(),
                id: UserId::from_uuid(uuid::Uuid::nil()).to_string(),
            }),
            limit: 50,
            ..Default::default()
        };
        let page = store.list_users(t.id, &query).await.unwrap();
        assert!(page.items.len() <= 1);
    }
    assert_eq!(store.user(t.id, user.id).await.unwrap(), Some(user));
}
