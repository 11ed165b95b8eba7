//! Bad input for passkeys over REST, each refused with its problem code (and audited): a
//! ceremony finished by another browser or sign-in, replays, another origin or RP ID, no user
//! verification, forged client data, tampered attestations, another user's credential, the
//! AAGUID allow-list; and a cloned authenticator, accepted but flagged.

use super::*;
use crate::passkey_client::{FLAG_UV, FLAGS, b64, edit_attested_auth_data, edit_client_data};

#[tokio::test]
async fn a_ceremony_is_finished_only_by_the_browser_or_sign_in_that_started_it() {
    let app = spawn().await;
    let t = app.tenant().await;
    let (ada_token, _) = signed_in(&app, &t, "ada@example.com").await;
    let mut ada_key = Device::with_counter();
    register(
        &app,
        &t,
        ("authorization", &bearer(&ada_token)),
        &mut ada_key,
    )
    .await;
    let (bob_token, _) = signed_in(&app, &t, "bob@example.com").await;
    let mut bob_key = Device::with_counter();
    register(
        &app,
        &t,
        ("authorization", &bearer(&bob_token)),
        &mut bob_key,
    )
    .await;

    // Passwordless: started in browser A, the answer is refused from browser B or from a
    // browser without a flow cookie; the refusal does not use the ceremony up.
    let (challenge, options) = passwordless_options(&app, &t, "browser-a-flow").await;
    let credential = ada_key.get(&origin(&app), &options).await;
    passwordless(&app, &t, "browser-b-flow", &challenge, &credential)
        .await
        .expect_problem(403, "invalid_challenge");
    call(
        &app,
        Method::POST,
        &format!("/t/{t}/api/v1/login/passkey"),
        &[],
        Some(json!({"challenge_id": challenge, "credential": credential})),
    )
    .await
    .expect_problem(403, "invalid_challenge");
    let ok = passwordless(&app, &t, "browser-a-flow", &challenge, &credential).await;
    assert_eq!(ok.expect(200)["status"], "signed_in");
    // Replayed, in the same browser: the ceremony is used up.
    passwordless(&app, &t, "browser-a-flow", &challenge, &credential)
        .await
        .expect_problem(403, "invalid_challenge");
    // A ceremony id that was never issued.
    passwordless(
        &app,
        &t,
        "browser-a-flow",
        &uuid::Uuid::from_u128(7).to_string(),
        &credential,
    )
    .await
    .expect_problem(403, "invalid_challenge");
    // Replayed against a new ceremony: its challenge is not in the signed client data.
    let (fresh, _) = passwordless_options(&app, &t, "browser-a-flow").await;
    passwordless(&app, &t, "browser-a-flow", &fresh, &credential)
        .await
        .expect_problem(403, "passkey_refused");
    let refused = audited(&app, &t, "auth.passkey_refused").await;
    assert_refusal(&refused, 1, "challenge");

    // Second step: a check started by one sign-in is not finished by another sign-in of the
    // same user, nor by another user's sign-in.
    let first = half_signed_in(&app, &t, "ada@example.com").await;
    let second = half_signed_in(&app, &t, "ada@example.com").await;
    let bobs = half_signed_in(&app, &t, "bob@example.com").await;
    let (challenge, options) = second_step_options(&app, &t, &first).await;
    let credential = ada_key.get(&origin(&app), &options).await;
    second_step(&app, &t, &second, &challenge, &credential)
        .await
        .expect_problem(403, "invalid_challenge");
    second_step(&app, &t, &bobs, &challenge, &credential)
        .await
        .expect_problem(403, "invalid_challenge");
    let ok = second_step(&app, &t, &first, &challenge, &credential).await;
    assert_eq!(ok.expect(200)["status"], "signed_in", "{}", ok.text);
    // Replayed: used up, whichever sign-in presents it.
    second_step(&app, &t, &second, &challenge, &credential)
        .await
        .expect_problem(403, "invalid_challenge");
    // Replayed against the second sign-in's own ceremony: refused, audited, and that
    // sign-in still waits for its factor.
    let (own, _) = second_step_options(&app, &t, &second).await;
    expect_invalid(
        &second_step(&app, &t, &second, &own, &credential).await,
        "invalid_code",
    );
    let refused = audited(&app, &t, "auth.passkey_refused").await;
    assert_refusal(&refused, 2, "challenge");
    call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me"),
        &[("cookie", &format!("tessera_session={second}"))],
        None,
    )
    .await
    .expect_problem(403, "mfa_required");
}

#[tokio::test]
async fn misdirected_unverified_or_forged_assertions_are_refused_and_audited() {
    let app = spawn().await;
    let t = app.tenant().await;
    let (token, _) = signed_in(&app, &t, "ada@example.com").await;
    let mut device = Device::with_counter();
    register(&app, &t, ("authorization", &bearer(&token)), &mut device).await;
    let flow = "browser-flow";
    let mut refusals = 0;
    let mut refused = async |credential: Value, challenge: &str, needle: &str| {
        passwordless(&app, &t, flow, challenge, &credential)
            .await
            .expect_problem(403, "passkey_refused");
        refusals += 1;
        let events = audited(&app, &t, "auth.passkey_refused").await;
        assert_refusal(&events, refusals, needle);
    };

    // The authenticator and client were told another origin (a phishing page relaying the
    // options).
    let (challenge, options) = passwordless_options(&app, &t, flow).await;
    let credential = device.get(&other_origin(&app), &options).await;
    refused(credential, &challenge, "origin").await;

    // The right origin, but the authenticator signed for another RP ID.
    let (challenge, options) = passwordless_options(&app, &t, flow).await;
    let credential = device
        .get_for_rp_id(&origin(&app), "example.com", &options)
        .await;
    refused(credential, &challenge, "relying party id").await;

    // The client did not ask for user verification: a touch is not a second factor.
    let (challenge, mut options) = passwordless_options(&app, &t, flow).await;
    options["publicKey"]["userVerification"] = json!("discouraged");
    let credential = device.get(&origin(&app), &options).await;
    let flags = unb64(
        credential["response"]["authenticatorData"]
            .as_str()
            .unwrap(),
    )[FLAGS];
    assert_eq!(
        flags & FLAG_UV,
        0,
        "the authenticator did not verify the user"
    );
    refused(credential, &challenge, "verif").await;

    // Forged client data: the challenge of the ceremony replaced by another.
    let (challenge, options) = passwordless_options(&app, &t, flow).await;
    let mut credential = device.get(&origin(&app), &options).await;
    edit_client_data(&mut credential, |c| c["challenge"] = json!(b64(&[7u8; 32])));
    refused(credential, &challenge, "challenge").await;

    // The untouched path still works: the refusals came from the faults.
    let (challenge, options) = passwordless_options(&app, &t, flow).await;
    let credential = device.get(&origin(&app), &options).await;
    let ok = passwordless(&app, &t, flow, &challenge, &credential).await;
    assert_eq!(ok.expect(200)["status"], "signed_in", "{}", ok.text);
}

#[tokio::test]
async fn another_users_credential_is_refused_in_the_second_step_and_at_step_up() {
    let app = spawn().await;
    let t = app.tenant().await;
    let (ada_token, ada) = signed_in(&app, &t, "ada@example.com").await;
    let mut ada_key = Device::with_counter();
    register(
        &app,
        &t,
        ("authorization", &bearer(&ada_token)),
        &mut ada_key,
    )
    .await;
    let (eve_token, eve) = signed_in(&app, &t, "eve@example.com").await;
    let mut eve_key = Device::with_counter();
    register(
        &app,
        &t,
        ("authorization", &bearer(&eve_token)),
        &mut eve_key,
    )
    .await;

    // Eve holds Ada's password and answers Ada's check with her own passkey (her client
    // drops allowCredentials, which names Ada's only).
    let mfa = half_signed_in(&app, &t, "ada@example.com").await;
    let (challenge, mut options) = second_step_options(&app, &t, &mfa).await;
    options["publicKey"]
        .as_object_mut()
        .unwrap()
        .remove("allowCredentials");
    let credential = eve_key.get(&origin(&app), &options).await;
    expect_invalid(
        &second_step(&app, &t, &mfa, &challenge, &credential).await,
        "invalid_code",
    );
    let refused = audited(&app, &t, "auth.passkey_refused").await;
    assert_refusal(&refused, 1, "another user");
    assert_eq!(refused[0]["subject_id"], eve.as_str(), "{:#?}", refused[0]);
    let failed = audited(&app, &t, "auth.mfa.failed").await;
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0]["subject_id"], ada.as_str());
    // Ada's own passkey completes that sign-in.
    let (challenge, options) = second_step_options(&app, &t, &mfa).await;
    let credential = ada_key.get(&origin(&app), &options).await;
    let done = second_step(&app, &t, &mfa, &challenge, &credential).await;
    let access = bearer(done.expect(200)["access_token"].as_str().unwrap());

    // Same at step-up.
    let (challenge, mut options) = ceremony(
        &app,
        &format!("/t/{t}/api/v1/me/step-up/passkey/options"),
        &[("authorization", &access)],
    )
    .await;
    options["publicKey"]
        .as_object_mut()
        .unwrap()
        .remove("allowCredentials");
    let credential = eve_key.get(&origin(&app), &options).await;
    expect_invalid(
        &call(
            &app,
            Method::POST,
            &format!("/t/{t}/api/v1/me/step-up"),
            &[("authorization", &access)],
            Some(json!({"method": "passkey", "challenge_id": challenge, "credential": credential})),
        )
        .await,
        "invalid_code",
    );
    assert_refusal(
        &audited(&app, &t, "auth.passkey_refused").await,
        2,
        "another user",
    );
}

#[tokio::test]
async fn tampered_or_unverified_registrations_are_refused_and_audited() {
    let app = spawn().await;
    let t = app.tenant().await;
    let (token, _) = signed_in(&app, &t, "ada@example.com").await;
    let access = bearer(&token);
    let auth = ("authorization", access.as_str());
    let options_path = format!("/t/{t}/api/v1/me/passkeys/options");
    let mut refusals = 0;
    let mut refused = async |credential: Value, challenge: &str, needle: &str| {
        finish_registration(&app, &t, auth, challenge, &credential, "key")
            .await
            .expect_problem(403, "passkey_refused");
        refusals += 1;
        assert_refusal(
            &audited(&app, &t, "mfa.passkey_refused").await,
            refusals,
            needle,
        );
    };

    // Tampered attestation ("none": the authenticator data is not signed, the server must
    // check every field itself).
    let (challenge, options) = ceremony(&app, &options_path, &[auth]).await;
    let mut credential = Device::with_counter().create(&origin(&app), &options).await;
    edit_attested_auth_data(&mut credential, |a| a[FLAGS] &= !FLAG_UV);
    refused(credential, &challenge, "verif").await;
    let (challenge, options) = ceremony(&app, &options_path, &[auth]).await;
    let mut credential = Device::with_counter().create(&origin(&app), &options).await;
    edit_attested_auth_data(&mut credential, |a| a[0] ^= 0x01);
    refused(credential, &challenge, "relying party id").await;

    // No user verification asked.
    let (challenge, mut options) = ceremony(&app, &options_path, &[auth]).await;
    options["publicKey"]["authenticatorSelection"]["userVerification"] = json!("discouraged");
    let credential = Device::with_counter().create(&origin(&app), &options).await;
    refused(credential, &challenge, "verif").await;

    // Another origin.
    let (challenge, options) = ceremony(&app, &options_path, &[auth]).await;
    let credential = Device::with_counter()
        .create(&other_origin(&app), &options)
        .await;
    refused(credential, &challenge, "origin").await;

    // Forged client data.
    let (challenge, options) = ceremony(&app, &options_path, &[auth]).await;
    let mut credential = Device::with_counter().create(&origin(&app), &options).await;
    edit_client_data(&mut credential, |c| c["challenge"] = json!(b64(&[7u8; 32])));
    refused(credential, &challenge, "challenge").await;

    // None of them was registered.
    let list = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[auth],
        None,
    )
    .await;
    assert_eq!(list.expect(200), &json!([]));
}

#[tokio::test]
async fn the_aaguid_allow_list_refuses_other_authenticator_models() {
    let app = spawn().await;
    let t = app.tenant().await;
    let (token, _) = signed_in(&app, &t, "ada@example.com").await;
    let access = bearer(&token);
    let auth = ("authorization", access.as_str());
    let options_path = format!("/t/{t}/api/v1/me/passkeys/options");
    let other_model = "cb69481e-8ff7-4039-93ec-0a2729a154a8";
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"auth": {"mfa": {"passkey_aaguids": [other_model]}}}}),
    )
    .await
    .expect(200);
    let (challenge, options) = ceremony(&app, &options_path, &[auth]).await;
    let credential = Device::with_counter().create(&origin(&app), &options).await;
    finish_registration(&app, &t, auth, &challenge, &credential, "key")
        .await
        .expect_problem(403, "authenticator_not_allowed");
    let refused = audited(&app, &t, "mfa.passkey_refused").await;
    assert_refusal(&refused, 1, &AAGUID.to_string());
    let list = call(
        &app,
        Method::GET,
        &format!("/t/{t}/api/v1/me/passkeys"),
        &[auth],
        None,
    )
    .await;
    assert_eq!(list.expect(200), &json!([]));

    // With the model on the list, the same kind of authenticator registers.
    app.patch(
        &format!("/api/v1/tenants/{t}"),
        json!({"settings": {"auth": {"mfa": {"passkey_aaguids": [other_model, AAGUID]}}}}),
    )
    .await
    .expect(200);
    register(&app, &t, auth, &mut Device::with_counter()).await;
}

#[tokio::test]
async fn a_cloned_authenticator_is_accepted_but_flagged() {
    let app = spawn().await;
    let t = app.tenant().await;
    let email = "ada@example.com";
    let (token, user) = signed_in(&app, &t, email).await;
    let mut device = Device::with_counter();
    let registered = register(&app, &t, ("authorization", &bearer(&token)), &mut device).await;
    let passkey = registered["passkey"]["id"].clone();
    // A copy of the key as registered (counter 0)...
    let mut clone = device.clone_credential();
    // ...and a second step started now (its ceremony knows the credential at counter 0).
    let mfa = half_signed_in(&app, &t, email).await;
    let (early, early_options) = second_step_options(&app, &t, &mfa).await;
    let flow = "browser-flow";
    let passwordless_sign_in = async |key: &mut Device| {
        let (challenge, options) = passwordless_options(&app, &t, flow).await;
        let credential = key.get(&origin(&app), &options).await;
        let ok = passwordless(&app, &t, flow, &challenge, &credential).await;
        assert_eq!(ok.expect(200)["status"], "signed_in", "{}", ok.text);
    };
    // The original moves on to 2: nothing to flag.
    passwordless_sign_in(&mut device).await;
    passwordless_sign_in(&mut device).await;
    assert!(
        audited(&app, &t, "mfa.passkey_counter_regressed")
            .await
            .is_empty()
    );

    // The clone's next assertion (counter 1) is a new, valid signature: accepted, flagged.
    passwordless_sign_in(&mut clone).await;
    let flagged = audited(&app, &t, "mfa.passkey_counter_regressed").await;
    assert_eq!(flagged.len(), 1, "{flagged:#?}");
    let event = &flagged[0];
    assert_eq!(event["outcome"], "failure");
    assert_eq!(event["subject_id"], user.as_str());
    assert_eq!(changed(event, "passkey"), passkey);
    assert_eq!(changed(event, "stored_count"), 2, "{event}");
    assert_eq!(changed(event, "presented_count"), 1, "{event}");

    // The clone answers the ceremony started before the original moved on (counter 2: ahead
    // of that ceremony's copy, not of the stored credential): accepted, flagged too.
    let credential = clone.get(&origin(&app), &early_options).await;
    let done = second_step(&app, &t, &mfa, &early, &credential).await;
    assert_eq!(done.expect(200)["status"], "signed_in", "{}", done.text);
    let flagged = audited(&app, &t, "mfa.passkey_counter_regressed").await;
    assert_eq!(flagged.len(), 2, "{flagged:#?}");
    assert_eq!(changed(&flagged[1], "presented_count"), 2, "{}", flagged[1]);
    // A clone never moves the stored count backwards.
    assert_eq!(changed(&flagged[1], "stored_count"), 2, "{}", flagged[1]);

    // The original keeps working, unflagged.
    passwordless_sign_in(&mut device).await;
    assert_eq!(
        audited(&app, &t, "mfa.passkey_counter_regressed")
            .await
            .len(),
        2
    );
}

/// An expired ceremony is refused (the challenge is aged in the database rather than waited
/// for); a fresh one works.
#[tokio::test]
async fn an_expired_ceremony_is_refused() {
    let app = spawn().await;
    let t = app.tenant().await;
    let (token, _) = signed_in(&app, &t, "ada@example.com").await;
    let auth = bearer(&token);
    let mut key = Device::with_counter();
    let path = format!("/t/{t}/api/v1/me/passkeys/options");
    let (challenge, options) = ceremony(&app, &path, &[("authorization", &auth)]).await;
    let credential = key.create(&origin(&app), &options).await;
    assert_eq!(
        app.sql(
            "UPDATE challenges SET expires_at = created_at WHERE kind = 'passkey_registration'"
        )
        .await,
        1
    );
    finish_registration(
        &app,
        &t,
        ("authorization", &auth),
        &challenge,
        &credential,
        "old",
    )
    .await
    .expect_problem(403, "invalid_challenge");
    let (challenge, options) = ceremony(&app, &path, &[("authorization", &auth)]).await;
    let credential = Device::with_counter().create(&origin(&app), &options).await;
    finish_registration(
        &app,
        &t,
        ("authorization", &auth),
        &challenge,
        &credential,
        "new",
    )
    .await
    .expect(201);
}
