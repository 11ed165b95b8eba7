//! Health, organizations and tenants.

use crate::fixtures::{at, counts, create_tenant, head_seq, journal, organization, tag, tenant};
use tessera_domain::paging::Cursor;
use tessera_domain::ports::{Store, StoreError};
use tessera_domain::tenant::{TenantSlug, TenantState};
use tessera_domain::{OrganizationId, TenantId};

pub async fn health_ping(store: &dyn Store) {
    store.ping().await.unwrap();
}

pub async fn tenant_create_and_read(store: &dyn Store) {
    let org = organization();
    let t = tenant(org.id);
    let created = journal(t.id, "tenant.created", Some(("tenant", t.id.to_string())));
    store.create_tenant(Some(&org), &t, &created).await.unwrap();
    assert_eq!(store.organization(org.id).await.unwrap(), Some(org.clone()));
    assert_eq!(store.tenant_by_id(t.id).await.unwrap(), Some(t.clone()));
    assert_eq!(
        store.tenant_by_slug(&t.slug).await.unwrap(),
        Some(t.clone())
    );
    assert_eq!(head_seq(store, t.id).await, 1);

    // A second tenant of the same organization.
    let sibling = tenant(org.id);
    store
        .create_tenant(None, &sibling, &journal(sibling.id, "tenant.created", None))
        .await
        .unwrap();
    assert_eq!(store.tenant_by_id(sibling.id).await.unwrap(), Some(sibling));

    // An organization that does not exist.
    let orphan = tenant(OrganizationId::from_uuid(crate::fixtures::fresh_uuid()));
    assert_err!(
        store
            .create_tenant(None, &orphan, &journal(orphan.id, "tenant.created", None))
            .await,
        StoreError::NotFound
    );
    assert_eq!(store.tenant_by_id(orphan.id).await.unwrap(), None);

    // A taken slug: neither the new organization nor the tenant nor its journal is written.
    let org2 = organization();
    let mut clash = tenant(org2.id);
    clash.slug = t.slug.clone();
    let result = store
        .create_tenant(
            Some(&org2),
            &clash,
            &journal(clash.id, "tenant.created", None),
        )
        .await;
    assert_err!(result, StoreError::Duplicate { field: "slug", .. });
    assert_eq!(store.organization(org2.id).await.unwrap(), None);
    assert_eq!(store.tenant_by_id(clash.id).await.unwrap(), None);
    assert_eq!(store.audit_head(clash.id).await.unwrap(), None);
    assert_eq!(store.tenant_by_slug(&t.slug).await.unwrap(), Some(t));

    // Unknown ids and slugs.
    assert_eq!(
        store
            .tenant_by_slug(&crate::fixtures::slug())
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .tenant_by_id(TenantId::from_uuid(crate::fixtures::fresh_uuid()))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .organization(OrganizationId::from_uuid(crate::fixtures::fresh_uuid()))
            .await
            .unwrap(),
        None
    );
}

pub async fn tenant_list_paging(store: &dyn Store) {
    let org = organization();
    store
        .create_tenant(Some(&org), &tenant(org.id), &Default::default())
        .await
        .unwrap();
    let prefix = format!("p{}", tag());
    let mut ours = Vec::new();
    // Created out of order; listed by slug.
    for suffix in ["c", "a", "e", "b", "d"] {
        let mut t = tenant(org.id);
        t.slug = TenantSlug::parse(&format!("{prefix}-{suffix}")).unwrap();
        store
            .create_tenant(None, &t, &Default::default())
            .await
            .unwrap();
        ours.push(t);
    }
    let mut listed = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let page = store.list_tenants(after.as_ref(), 2).await.unwrap();
        assert!(page.items.len() <= 2);
        listed.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    let slugs: Vec<&str> = listed.iter().map(|t| t.slug.as_str()).collect();
    assert!(
        slugs.windows(2).all(|w| w[0] < w[1]),
        "tenants are ordered by slug: {slugs:?}"
    );
    let seen = counts(&listed.iter().map(|t| t.id).collect::<Vec<_>>());
    for t in &ours {
        assert_eq!(
            seen.get(&t.id),
            Some(&1),
            "{} is listed exactly once",
            t.slug
        );
    }
    let mine: Vec<_> = listed
        .into_iter()
        .filter(|t| t.slug.as_str().starts_with(&prefix))
        .collect();
    let mut expected = ours.clone();
    expected.sort_by(|a, b| a.slug.as_str().cmp(b.slug.as_str()));
    assert_eq!(mine, expected);
}

pub async fn tenant_update_versioning(store: &dyn Store) {
    let t = create_tenant(store).await;
    let other = create_tenant(store).await;
    let before = head_seq(store, t.id).await;

    let mut changed = t.clone();
    changed.display_name = "Renamed".to_owned();
    changed.state = TenantState::Disabled;
    changed.settings.mask_pii_in_audit = false;
    changed.updated_at = at(100);
    changed.version = 2;
    store
        .update_tenant(&changed, 1, &journal(t.id, "tenant.updated", None))
        .await
        .unwrap();
    assert_eq!(
        store.tenant_by_id(t.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(head_seq(store, t.id).await, before + 1);

    // Stale version: refused, nothing written.
    let mut stale = t.clone();
    stale.display_name = "Lost update".to_owned();
    stale.version = 2;
    assert_err!(
        store
            .update_tenant(&stale, 1, &journal(t.id, "tenant.updated", None))
            .await,
        StoreError::Conflict
    );
    assert_eq!(
        store.tenant_by_id(t.id).await.unwrap(),
        Some(changed.clone())
    );
    assert_eq!(head_seq(store, t.id).await, before + 1);

    // Unknown tenant.
    let mut ghost = t.clone();
    ghost.id = TenantId::from_uuid(crate::fixtures::fresh_uuid());
    assert_err!(
        store.update_tenant(&ghost, 1, &Default::default()).await,
        StoreError::NotFound
    );

    // Taking another tenant's slug.
    let mut clash = changed.clone();
    clash.slug = other.slug.clone();
    clash.version = 3;
    assert_err!(
        store.update_tenant(&clash, 2, &Default::default()).await,
        StoreError::Duplicate { field: "slug", .. }
    );
    assert_eq!(store.tenant_by_id(t.id).await.unwrap(), Some(changed));
}
