//! Erasing a user removes their second factors, passkeys, challenges, devices, networks and
//! roles for good, and nothing of anyone else's.

use crate::authz_fixtures::assignment;
use crate::fixtures::{
    at, challenge, create_tenant, create_user, device, hash, journal, passkey, totp_factor,
};
use tessera_domain::ChallengeId;
use tessera_domain::authz::{AccessScope, RoleRef};
use tessera_domain::mfa::ChallengeKind;
use tessera_domain::ports::{Journal, Store};
use tessera_domain::role::SystemRole;
use tessera_domain::user::User;

/// Every kind of second-factor data of `user`; returns what finds it again.
async fn fill(store: &dyn Store, user: &User) -> (String, String, ChallengeId, String) {
    let (t, u) = (user.tenant_id, user.id);
    let j = Journal::default();
    store
        .put_pending_totp(&totp_factor(user, 100))
        .await
        .unwrap();
    assert!(store.confirm_totp(t, u, 10, at(110), &j).await.unwrap());
    let code = hash();
    store
        .replace_backup_codes(t, u, &[code.clone(), hash()], at(120), &j)
        .await
        .unwrap();
    let p = passkey(user, 130);
    store.insert_passkey(&p, &j).await.unwrap();
    let c = challenge(t, Some(user), ChallengeKind::PasskeyRegistration, 140);
    store.insert_challenge(&c).await.unwrap();
    let d = device(user, 150);
    store.insert_device(&d).await.unwrap();
    assert!(
        store
            .record_network(t, u, "198.51.100.0/24", at(160))
            .await
            .unwrap()
    );
    let owner = assignment(
        u,
        RoleRef::System(SystemRole::Owner),
        AccessScope::Tenant,
        170,
    );
    store.grant_role(t, &owner, &j).await.unwrap();
    (code, p.credential_id, c.id, d.secret_hash)
}

pub async fn mfa_erase_user_removes_everything(store: &dyn Store) {
    let t = create_tenant(store).await;
    let user = create_user(store, t.id).await;
    let bystander = create_user(store, t.id).await;
    let (code, credential, challenge_id, device_hash) = fill(store, &user).await;
    let (b_code, b_credential, b_challenge, b_device) = fill(store, &bystander).await;

    let erased = journal(t.id, "user.erased", Some(("user", user.id.to_string())));
    store.erase_user(t.id, user.id, &erased).await.unwrap();

    assert_eq!(store.totp(t.id, user.id).await.unwrap(), None);
    assert_eq!(store.backup_codes(t.id, user.id).await.unwrap().total, 0);
    assert!(store.passkeys(t.id, user.id).await.unwrap().is_empty());
    assert_eq!(
        store
            .passkey_by_credential_id(t.id, &credential)
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.challenge(t.id, challenge_id).await.unwrap(), None);
    assert_eq!(
        store.device_by_hash(t.id, &device_hash).await.unwrap(),
        None
    );
    assert!(
        !store
            .network_known(t.id, user.id, "198.51.100.0/24")
            .await
            .unwrap()
    );
    assert!(store.user_roles(t.id, user.id).await.unwrap().is_empty());
    assert!(
        !store
            .use_backup_code(t.id, user.id, &code, at(200), &Journal::default())
            .await
            .unwrap()
    );

    // The bystander keeps everything.
    assert!(store.totp(t.id, bystander.id).await.unwrap().is_some());
    assert_eq!(
        store
            .backup_codes(t.id, bystander.id)
            .await
            .unwrap()
            .remaining,
        2
    );
    assert!(
        store
            .passkey_by_credential_id(t.id, &b_credential)
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.challenge(t.id, b_challenge).await.unwrap().is_some());
    assert!(
        store
            .device_by_hash(t.id, &b_device)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .network_known(t.id, bystander.id, "198.51.100.0/24")
            .await
            .unwrap()
    );
    let roles = store.user_roles(t.id, bystander.id).await.unwrap();
    assert_eq!(
        roles.iter().map(|a| &a.role).collect::<Vec<_>>(),
        vec![&RoleRef::System(SystemRole::Owner)]
    );
    assert!(
        store
            .use_backup_code(t.id, bystander.id, &b_code, at(200), &Journal::default())
            .await
            .unwrap()
    );
}
