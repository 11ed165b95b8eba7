//! Organization units: the tree, subtree, deletion guarded by use, assignments.

use crate::fixtures::{at, create_tenant, fresh_uuid, head_seq, journal, minimal_user, unit};
use tessera_domain::org_unit::{Assignment, OrgUnit};
use tessera_domain::paging::Cursor;
use tessera_domain::ports::{Store, StoreError};
use tessera_domain::user::UserKind;
use tessera_domain::{OrgUnitId, TenantId, UserId};

async fn all_units(
    store: &dyn Store,
    tenant: TenantId,
    parent: Option<Option<OrgUnitId>>,
) -> Vec<OrgUnit> {
    let mut units = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store
            .list_units(tenant, parent, after.as_ref(), 2)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        units.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return units,
        }
    }
}

fn ids_of(units: &[&OrgUnit]) -> Vec<OrgUnitId> {
    let mut ids: Vec<OrgUnitId> = units.iter().map(|u| u.id).collect();
    ids.sort();
    ids
}

pub async fn org_unit_tree(store: &dyn Store) {
    let t = create_tenant(store).await;
    let root = unit(t.id, None, "Root");
    let left = unit(t.id, Some(root.id), "Left");
    let right = unit(t.id, Some(root.id), "Right");
    let leaf = unit(t.id, Some(left.id), "Leaf");
    let other_root = unit(t.id, None, "Other root");
    for u in [&root, &left, &right, &leaf, &other_root] {
        let created = journal(
            t.id,
            "org_unit.created",
            Some(("org_unit", u.id.to_string())),
        );
        store.insert_unit(u, &created).await.unwrap();
    }
    assert_eq!(store.unit(t.id, leaf.id).await.unwrap(), Some(leaf.clone()));

    // Parents must exist in the same tenant.
    let orphan = unit(t.id, Some(OrgUnitId::from_uuid(fresh_uuid())), "Orphan");
    assert_err!(
        store.insert_unit(&orphan, &Default::default()).await,
        StoreError::NotFound
    );
    let b = create_tenant(store).await;
    let smuggled = unit(b.id, Some(root.id), "Smuggled");
    assert_err!(
        store.insert_unit(&smuggled, &Default::default()).await,
        StoreError::NotFound
    );
    assert_eq!(store.unit(b.id, smuggled.id).await.unwrap(), None);

    // Subtrees.
    let mut sub = store.subtree(t.id, root.id).await.unwrap();
    sub.sort();
    assert_eq!(sub, ids_of(&[&root, &left, &right, &leaf]));
    let mut sub = store.subtree(t.id, left.id).await.unwrap();
    sub.sort();
    assert_eq!(sub, ids_of(&[&left, &leaf]));
    assert!(store.subtree(b.id, root.id).await.unwrap().is_empty());

    // Listing by id, all / roots / children.
    let all = all_units(store, t.id, None).await;
    assert_eq!(
        all.iter().map(|u| u.id).collect::<Vec<_>>(),
        ids_of(&[&root, &left, &right, &leaf, &other_root])
    );
    let roots = all_units(store, t.id, Some(None)).await;
    assert_eq!(
        roots.iter().map(|u| u.id).collect::<Vec<_>>(),
        ids_of(&[&root, &other_root])
    );
    let children = all_units(store, t.id, Some(Some(root.id))).await;
    assert_eq!(
        children.iter().map(|u| u.id).collect::<Vec<_>>(),
        ids_of(&[&left, &right])
    );
    assert!(all_units(store, b.id, None).await.is_empty());

    // Move the leaf under `right`.
    let mut moved = leaf.clone();
    moved.parent_id = Some(right.id);
    moved.name = "Leaf (moved)".to_owned();
    moved.updated_at = at(99);
    moved.version = 2;
    store
        .update_unit(&moved, 1, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        store.unit(t.id, leaf.id).await.unwrap(),
        Some(moved.clone())
    );
    assert_eq!(store.subtree(t.id, left.id).await.unwrap(), vec![left.id]);
    assert_err!(
        store.update_unit(&moved, 1, &Default::default()).await,
        StoreError::Conflict
    );
    let mut nowhere = moved.clone();
    nowhere.parent_id = Some(OrgUnitId::from_uuid(fresh_uuid()));
    nowhere.version = 3;
    assert_err!(
        store.update_unit(&nowhere, 2, &Default::default()).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .update_unit(&unit(t.id, None, "Ghost"), 1, &Default::default())
            .await,
        StoreError::NotFound
    );

    // Other tenants see nothing.
    assert_eq!(store.unit(b.id, root.id).await.unwrap(), None);
    let mut foreign = root.clone();
    foreign.tenant_id = b.id;
    foreign.version = 2;
    assert_err!(
        store.update_unit(&foreign, 1, &Default::default()).await,
        StoreError::NotFound
    );
    assert_err!(
        store
            .delete_unit(b.id, other_root.id, &Default::default())
            .await,
        StoreError::NotFound
    );
    assert_eq!(
        store.unit(t.id, other_root.id).await.unwrap(),
        Some(other_root)
    );
}

pub async fn org_unit_delete_in_use(store: &dyn Store) {
    let t = create_tenant(store).await;
    let parent = unit(t.id, None, "Parent");
    let child = unit(t.id, Some(parent.id), "Child");
    store
        .insert_unit(&parent, &Default::default())
        .await
        .unwrap();
    store
        .insert_unit(&child, &Default::default())
        .await
        .unwrap();
    let head = head_seq(store, t.id).await;
    let deleted =
        |id: OrgUnitId| journal(t.id, "org_unit.deleted", Some(("org_unit", id.to_string())));

    // A child.
    assert_err!(
        store
            .delete_unit(t.id, parent.id, &deleted(parent.id))
            .await,
        StoreError::InUse
    );
    store
        .delete_unit(t.id, child.id, &deleted(child.id))
        .await
        .unwrap();
    assert_eq!(store.unit(t.id, child.id).await.unwrap(), None);
    let head = head + 1;

    // An employee.
    let employee = minimal_user(t.id);
    store
        .insert_user(&employee, &Default::default())
        .await
        .unwrap();
    let assignment = Assignment {
        tenant_id: t.id,
        unit_id: parent.id,
        user_id: employee.id,
        created_at: at(5),
    };
    store
        .assign(&assignment, &Default::default())
        .await
        .unwrap();
    assert_err!(
        store
            .delete_unit(t.id, parent.id, &deleted(parent.id))
            .await,
        StoreError::InUse
    );
    store
        .unassign(t.id, parent.id, employee.id, &Default::default())
        .await
        .unwrap();

    // A customer.
    let mut customer = minimal_user(t.id);
    customer.kind = UserKind::Customer;
    customer.org_unit_id = Some(parent.id);
    store
        .insert_user(&customer, &Default::default())
        .await
        .unwrap();
    assert_err!(
        store
            .delete_unit(t.id, parent.id, &deleted(parent.id))
            .await,
        StoreError::InUse
    );
    assert_eq!(
        head_seq(store, t.id).await,
        head,
        "refused deletes journal nothing"
    );
    assert_eq!(
        store.unit(t.id, parent.id).await.unwrap(),
        Some(parent.clone())
    );

    let mut unlinked = customer.clone();
    unlinked.org_unit_id = None;
    unlinked.version = 2;
    store
        .update_user(&unlinked, 1, &Default::default())
        .await
        .unwrap();
    store
        .delete_unit(t.id, parent.id, &deleted(parent.id))
        .await
        .unwrap();
    assert_eq!(store.unit(t.id, parent.id).await.unwrap(), None);
    assert_err!(
        store
            .delete_unit(t.id, parent.id, &deleted(parent.id))
            .await,
        StoreError::NotFound
    );
    assert_eq!(head_seq(store, t.id).await, head + 1);
}

pub async fn org_unit_assignments(store: &dyn Store) {
    let t = create_tenant(store).await;
    let shop = unit(t.id, None, "Shop");
    let depot = unit(t.id, None, "Depot");
    store.insert_unit(&shop, &Default::default()).await.unwrap();
    store
        .insert_unit(&depot, &Default::default())
        .await
        .unwrap();
    let mut assignments = Vec::new();
    for i in 0..5 {
        let user = minimal_user(t.id);
        store.insert_user(&user, &Default::default()).await.unwrap();
        let a = Assignment {
            tenant_id: t.id,
            unit_id: shop.id,
            user_id: user.id,
            created_at: at(i),
        };
        let assigned = journal(
            t.id,
            "org_unit.assigned",
            Some(("user", user.id.to_string())),
        );
        store.assign(&a, &assigned).await.unwrap();
        assignments.push(a);
    }
    let first = assignments[0].clone();
    let head = head_seq(store, t.id).await;
    assert_err!(
        store
            .assign(&first, &journal(t.id, "org_unit.assigned", None))
            .await,
        StoreError::Duplicate {
            field: "assignment",
            ..
        }
    );
    assert_eq!(head_seq(store, t.id).await, head);

    // The same user in a second unit.
    let second = Assignment {
        unit_id: depot.id,
        ..first.clone()
    };
    store.assign(&second, &Default::default()).await.unwrap();
    let mut mine = store.user_assignments(t.id, first.user_id).await.unwrap();
    mine.sort_by_key(|a| a.unit_id);
    let mut expected = vec![first.clone(), second.clone()];
    expected.sort_by_key(|a| a.unit_id);
    assert_eq!(mine, expected);

    // Paging by user id.
    let mut listed = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store
            .unit_assignments(t.id, shop.id, after.as_ref(), 2)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        listed.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    assignments.sort_by_key(|a| a.user_id);
    assert_eq!(listed, assignments);

    // Missing user or unit; another tenant.
    let ghost = Assignment {
        user_id: UserId::from_uuid(fresh_uuid()),
        ..first.clone()
    };
    assert_err!(
        store.assign(&ghost, &Default::default()).await,
        StoreError::NotFound
    );
    let nowhere = Assignment {
        unit_id: OrgUnitId::from_uuid(fresh_uuid()),
        ..first.clone()
    };
    assert_err!(
        store.assign(&nowhere, &Default::default()).await,
        StoreError::NotFound
    );
    let b = create_tenant(store).await;
    let foreign = Assignment {
        tenant_id: b.id,
        ..first.clone()
    };
    assert_err!(
        store.assign(&foreign, &Default::default()).await,
        StoreError::NotFound
    );
    assert!(
        store
            .user_assignments(b.id, first.user_id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .unit_assignments(b.id, shop.id, None, 50)
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_err!(
        store
            .unassign(b.id, shop.id, first.user_id, &Default::default())
            .await,
        StoreError::NotFound
    );

    // Unassign once.
    store
        .unassign(t.id, shop.id, first.user_id, &Default::default())
        .await
        .unwrap();
    assert_err!(
        store
            .unassign(t.id, shop.id, first.user_id, &Default::default())
            .await,
        StoreError::NotFound
    );
    assert_eq!(
        store.user_assignments(t.id, first.user_id).await.unwrap(),
        vec![second]
    );
}
