//! `list_users` with a data-scope filter (`within`): the user themself, employees assigned
//! to a unit in the subtrees of the given units, customers linked to one; paging keeps
//! working with the filter, and units or users of another tenant match nobody.

use super::user_list::{ids, sorted, walk};
use crate::fixtures::{at, create_tenant, minimal_user, named_user, unit};
use tessera_domain::UserId;
use tessera_domain::authz::Within;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::org_unit::Assignment;
use tessera_domain::paging::SortOrder;
use tessera_domain::ports::{Store, UserQuery, UserSort};
use tessera_domain::user::{User, UserKind};

fn within(user: Option<&User>, units: &[tessera_domain::OrgUnitId]) -> UserQuery {
    UserQuery {
        within: Some(Within {
            user: user.map(|u| u.id),
            units: units.to_vec(),
        }),
        ..UserQuery::default()
    }
}

pub async fn user_list_within(store: &dyn Store) {
    let t = create_tenant(store).await;
    // root → a → a1, root → b.
    let root = unit(t.id, None, "Root");
    let a = unit(t.id, Some(root.id), "A");
    let a1 = unit(t.id, Some(a.id), "A1");
    let b = unit(t.id, Some(root.id), "B");
    for u in [&root, &a, &a1, &b] {
        store.insert_unit(u, &Default::default()).await.unwrap();
    }
    let employee_a1 = named_user(t.id, "ea1");
    let employee_b = named_user(t.id, "eb");
    let mut customer = named_user(t.id, "cust");
    customer.kind = UserKind::Customer;
    customer.org_unit_id = Some(a.id);
    let loner = minimal_user(t.id);
    // Deleted users stay out unless the state asks for them, scope or not.
    let mut gone = named_user(t.id, "gone");
    gone.state = LifecycleState::Deleted;
    gone.state_before_delete = Some(LifecycleState::Active);
    gone.org_unit_id = Some(a1.id);
    for u in [&employee_a1, &employee_b, &customer, &loner, &gone] {
        store.insert_user(u, &Default::default()).await.unwrap();
    }
    for (unit_id, user_id) in [
        (a1.id, employee_a1.id),
        (b.id, employee_b.id),
        // Assigned twice within one subtree: still listed once.
        (a.id, employee_a1.id),
    ] {
        let assignment = Assignment {
            tenant_id: t.id,
            unit_id,
            user_id,
            created_at: at(30),
        };
        store
            .assign(&assignment, &Default::default())
            .await
            .unwrap();
    }
    // Another tenant with a unit, an employee and a customer of its own.
    let other = create_tenant(store).await;
    let foreign = unit(other.id, None, "Foreign");
    store
        .insert_unit(&foreign, &Default::default())
        .await
        .unwrap();
    let mut foreign_customer = named_user(other.id, "fc");
    foreign_customer.kind = UserKind::Customer;
    foreign_customer.org_unit_id = Some(foreign.id);
    let foreign_employee = named_user(other.id, "fe");
    for u in [&foreign_customer, &foreign_employee] {
        store.insert_user(u, &Default::default()).await.unwrap();
    }
    store
        .assign(
            &Assignment {
                tenant_id: other.id,
                unit_id: foreign.id,
                user_id: foreign_employee.id,
                created_at: at(30),
            },
            &Default::default(),
        )
        .await
        .unwrap();

    // No filter: everyone not deleted.
    assert_eq!(
        ids(store, t.id, UserQuery::default()).await,
        sorted(&[&employee_a1, &employee_b, &customer, &loner])
    );
    assert_eq!(
        ids(store, t.id, within(None, &[a.id])).await,
        sorted(&[&employee_a1, &customer])
    );
    assert_eq!(
        ids(store, t.id, within(None, &[a1.id])).await,
        sorted(&[&employee_a1])
    );
    assert_eq!(
        ids(store, t.id, within(None, &[root.id])).await,
        sorted(&[&employee_a1, &employee_b, &customer])
    );
    assert_eq!(
        ids(store, t.id, within(None, &[a.id, b.id])).await,
        sorted(&[&employee_a1, &employee_b, &customer])
    );
    assert_eq!(
        ids(store, t.id, within(Some(&loner), &[])).await,
        sorted(&[&loner])
    );
    assert_eq!(
        ids(store, t.id, within(Some(&employee_b), &[a.id])).await,
        sorted(&[&employee_a1, &employee_b, &customer])
    );
    assert!(
        ids(
            store,
            t.id,
            UserQuery {
                within: Some(Within::default()),
                ..UserQuery::default()
            }
        )
        .await
        .is_empty()
    );
    // Another tenant's unit or user matches nobody here, and this tenant's unit nobody there.
    assert!(
        ids(store, t.id, within(None, &[foreign.id]))
            .await
            .is_empty()
    );
    assert!(
        ids(store, t.id, within(Some(&foreign_customer), &[foreign.id]))
            .await
            .is_empty()
    );
    assert!(
        ids(store, other.id, within(Some(&loner), &[root.id]))
            .await
            .is_empty()
    );
    assert_eq!(
        ids(store, other.id, within(None, &[foreign.id])).await,
        sorted(&[&foreign_customer, &foreign_employee])
    );
    // Combined with the other filters.
    assert_eq!(
        ids(
            store,
            t.id,
            UserQuery {
                kind: Some(UserKind::Customer),
                ..within(Some(&loner), &[root.id])
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
                state: Some(LifecycleState::Deleted),
                ..within(None, &[a.id])
            }
        )
        .await,
        sorted(&[&gone])
    );
    // Paging and sorting keep working with the filter.
    let in_scope = sorted(&[&employee_a1, &employee_b, &customer, &loner]);
    for sort in [UserSort::CreatedAt, UserSort::UpdatedAt, UserSort::Username] {
        for order in [SortOrder::Asc, SortOrder::Desc] {
            let full = walk(
                store,
                t.id,
                UserQuery {
                    sort,
                    order,
                    limit: 500,
                    ..within(Some(&loner), &[root.id])
                },
            )
            .await;
            let paged = walk(
                store,
                t.id,
                UserQuery {
                    sort,
                    order,
                    limit: 1,
                    ..within(Some(&loner), &[root.id])
                },
            )
            .await;
            assert_eq!(paged, full, "sort {sort:?} {order:?}, pages of 1");
            let mut listed: Vec<UserId> = paged;
            listed.sort();
            assert_eq!(listed, in_scope, "sort {sort:?} {order:?}");
        }
    }
}
