//! Bootstrap: everything at once, and only once.

use crate::fixtures::{
    api_key, at, fresh_uuid, full_user, head_seq, journal, organization, slug, tenant, verify_chain,
};
use tessera_domain::SetupTokenId;
use tessera_domain::api_key::Scope;
use tessera_domain::ports::{BootstrapSet, Journal, SetupToken, Store, StoreError};
use tessera_domain::tenant::TenantSlug;

fn bootstrap_set(slug: &TenantSlug) -> BootstrapSet {
    let organization = organization();
    let mut tenant = tenant(organization.id);
    tenant.slug = slug.clone();
    let admin = full_user(tenant.id);
    let mut api_key = api_key(tenant.id);
    api_key.scopes = vec![Scope::All];
    api_key.created_by = Some(admin.id);
    let setup_token = SetupToken {
        id: SetupTokenId::from_uuid(fresh_uuid()),
        tenant_id: tenant.id,
        user_id: admin.id,
        token_hash: format!("{}{}", fresh_uuid().simple(), fresh_uuid().simple()),
        expires_at: at(86_400),
    };
    BootstrapSet {
        organization,
        tenant,
        admin,
        api_key,
        setup_token,
    }
}

fn journal_of(set: &BootstrapSet) -> Journal {
    let t = set.tenant.id;
    Journal {
        events: vec![
            journal(t, "tenant.created", Some(("tenant", t.to_string())))
                .events
                .remove(0),
            journal(t, "user.created", Some(("user", set.admin.id.to_string())))
                .events
                .remove(0),
            journal(
                t,
                "api_key.created",
                Some(("api_key", set.api_key.id.to_string())),
            )
            .events
            .remove(0),
        ],
        authz_changed: false,
    }
}

pub async fn bootstrap_once(store: &dyn Store) {
    let slug = slug();
    let set = bootstrap_set(&slug);
    let j = journal_of(&set);
    store.bootstrap(&set, &j).await.unwrap();
    let t = set.tenant.id;
    assert_eq!(
        store.organization(set.organization.id).await.unwrap(),
        Some(set.organization.clone())
    );
    assert_eq!(
        store.tenant_by_slug(&slug).await.unwrap(),
        Some(set.tenant.clone())
    );
    assert_eq!(
        store.user(t, set.admin.id).await.unwrap(),
        Some(set.admin.clone())
    );
    assert_eq!(
        store
            .api_key_by_hash(t, &set.api_key.secret_hash)
            .await
            .unwrap(),
        Some(set.api_key.clone())
    );
    let events = verify_chain(store, t, 2).await;
    assert_eq!(events.len(), 3);
    for (event, draft) in events.iter().zip(&j.events) {
        crate::fixtures::assert_event_matches(event, draft);
    }

    // A second run: refused on the slug, nothing of it written.
    let again = bootstrap_set(&slug);
    let j2 = journal_of(&again);
    assert_err!(
        store.bootstrap(&again, &j2).await,
        StoreError::Duplicate { field: "slug", .. }
    );
    assert_eq!(
        store.organization(again.organization.id).await.unwrap(),
        None
    );
    assert_eq!(store.tenant_by_id(again.tenant.id).await.unwrap(), None);
    assert_eq!(
        store.user(again.tenant.id, again.admin.id).await.unwrap(),
        None
    );
    assert_eq!(store.user(t, again.admin.id).await.unwrap(), None);
    assert_eq!(
        store
            .api_key_by_hash(again.tenant.id, &again.api_key.secret_hash)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.audit_head(again.tenant.id).await.unwrap(), None);
    assert_eq!(head_seq(store, t).await, 3);
    assert_eq!(
        store.tenant_by_slug(&slug).await.unwrap(),
        Some(set.tenant.clone())
    );

    // The administrator can be erased (the setup token goes with them).
    store
        .erase_user(t, set.admin.id, &Default::default())
        .await
        .unwrap();
    assert_eq!(store.user(t, set.admin.id).await.unwrap(), None);
}
