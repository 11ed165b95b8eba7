//! Registration and authentication of passkeys, end to end: the adapter as the server,
//! 1Password's software authenticator and WebAuthn client as the browser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::*;
use tessera_domain::ports::{PasskeyVerifier, RegisteredCredential, VerifiedAssertion};
use tessera_passkeys::WebauthnVerifier;
use uuid::Uuid;

const ALICE: u128 = 0x0190_1234_5678_7abc_8def_0123_4567_89ab;

async fn register(device: &mut Device) -> RegisteredCredential {
    let verifier = WebauthnVerifier::new();
    let start = verifier
        .start_registration(&rp(), &user(ALICE), &[])
        .unwrap();
    let response = device.create(&origin(), &start.options).await;
    verifier
        .finish_registration(&rp(), &start.state, &response)
        .unwrap()
}

/// One authentication restricted to `credential`, answered by `device`.
async fn sign_in(device: &mut Device, credential: &str) -> VerifiedAssertion {
    let verifier = WebauthnVerifier::new();
    let start = verifier
        .start_authentication(&rp(), std::slice::from_ref(&credential.to_owned()))
        .unwrap();
    let response = device.get(&origin(), &start.options).await;
    verifier
        .finish_authentication(&rp(), &start.state, &response, credential)
        .unwrap()
}

fn stored_counter(credential: &str) -> u64 {
    let value: Value = serde_json::from_str(credential).unwrap();
    value["cred"]["counter"].as_u64().unwrap()
}

#[test]
fn registration_options_ask_for_a_discoverable_credential_with_user_verification() {
    let verifier = WebauthnVerifier::new();
    let existing = b64(b"an existing credential id");
    let start = verifier
        .start_registration(&rp(), &user(ALICE), std::slice::from_ref(&existing))
        .unwrap();
    let options = &start.options["publicKey"];
    let selection = &options["authenticatorSelection"];
    assert_eq!(selection["residentKey"], "required");
    assert_eq!(selection["requireResidentKey"], true);
    assert_eq!(selection["userVerification"], "required");
    assert_eq!(options["rp"]["id"], RP_ID);
    assert_eq!(options["rp"]["name"], "Tessera");
    // The user handle is the user id's 16 bytes.
    assert_eq!(
        unb64(options["user"]["id"].as_str().unwrap()),
        Uuid::from_u128(ALICE).as_bytes()
    );
    assert_eq!(options["user"]["name"], "alice@example.com");
    assert_eq!(options["user"]["displayName"], "Alice");
    assert_eq!(options["excludeCredentials"][0]["id"], existing.as_str());
    assert_eq!(unb64(options["challenge"].as_str().unwrap()).len(), 32);
    assert!(!start.state.is_empty());
    // Each ceremony has its own challenge.
    let again = verifier
        .start_registration(&rp(), &user(ALICE), &[])
        .unwrap();
    assert_ne!(
        again.options["publicKey"]["challenge"],
        options["challenge"]
    );
    assert!(
        again.options["publicKey"]
            .get("excludeCredentials")
            .is_none()
    );
}

#[tokio::test]
async fn registration_reports_the_credential() {
    let mut device = Device::with_counter();
    let verifier = WebauthnVerifier::new();
    let start = verifier
        .start_registration(&rp(), &user(ALICE), &[])
        .unwrap();
    let response = device.create(&origin(), &start.options).await;
    let registered = verifier
        .finish_registration(&rp(), &start.state, &response)
        .unwrap();
    assert_eq!(
        registered.credential_id,
        response["rawId"].as_str().unwrap()
    );
    assert!(!registered.credential_id.contains('='));
    assert_eq!(registered.aaguid, Some(Uuid::from_bytes(AAGUID)));
    assert_eq!(registered.sign_count, 0);
    assert!(registered.backup_eligible);
    assert_eq!(stored_counter(&registered.credential), 0);
    // The credential is excluded from the next registration of the same user.
    let next = verifier
        .start_registration(
            &rp(),
            &user(ALICE),
            std::slice::from_ref(&registered.credential_id),
        )
        .unwrap();
    assert_eq!(
        next.options["publicKey"]["excludeCredentials"][0]["id"],
        registered.credential_id.as_str()
    );
}

#[tokio::test]
async fn authentication_restricted_to_the_users_credentials() {
    let mut device = Device::with_counter();
    let registered = register(&mut device).await;
    let verifier = WebauthnVerifier::new();
    let start = verifier
        .start_authentication(&rp(), std::slice::from_ref(&registered.credential))
        .unwrap();
    let options = &start.options["publicKey"];
    assert_eq!(options["rpId"], RP_ID);
    assert_eq!(options["userVerification"], "required");
    assert_eq!(
        options["allowCredentials"][0]["id"],
        registered.credential_id.as_str()
    );
    assert_eq!(options["allowCredentials"].as_array().unwrap().len(), 1);

    let response = device.get(&origin(), &start.options).await;
    let claim = verifier.claim(&response).unwrap();
    assert_eq!(claim.credential_id, registered.credential_id);
    assert_eq!(claim.user_handle, Some(Uuid::from_u128(ALICE)));

    let verified = verifier
        .finish_authentication(&rp(), &start.state, &response, &registered.credential)
        .unwrap();
    assert_eq!(verified.credential_id, registered.credential_id);
    assert_eq!(verified.sign_count, 1);
    assert!(verified.user_verified);
    assert!(verified.backup_eligible);
    assert!(!verified.counter_regressed);
    assert_eq!(stored_counter(&verified.credential), 1);

    // The updated credential is the one stored: the counter keeps moving.
    let second = sign_in(&mut device, &verified.credential).await;
    assert_eq!(second.sign_count, 2);
    assert!(!second.counter_regressed);
    assert_eq!(stored_counter(&second.credential), 2);
}

#[tokio::test]
async fn discoverable_authentication_finds_the_user_from_the_assertion() {
    let mut device = Device::with_counter();
    let registered = register(&mut device).await;
    let verifier = WebauthnVerifier::new();
    let start = verifier.start_authentication(&rp(), &[]).unwrap();
    let options = &start.options["publicKey"];
    assert_eq!(options["userVerification"], "required");
    assert!(
        options
            .get("allowCredentials")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty),
        "{options}"
    );
    assert_eq!(start.options["mediation"], "conditional");

    let response = device.get(&origin(), &start.options).await;
    let claim = verifier.claim(&response).unwrap();
    assert_eq!(claim.credential_id, registered.credential_id);
    assert_eq!(claim.user_handle, Some(Uuid::from_u128(ALICE)));

    let verified = verifier
        .finish_authentication(&rp(), &start.state, &response, &registered.credential)
        .unwrap();
    assert_eq!(verified.credential_id, registered.credential_id);
    assert_eq!(verified.sign_count, 1);
    assert!(verified.user_verified);
    assert!(!verified.counter_regressed);
    assert_eq!(stored_counter(&verified.credential), 1);
}

#[tokio::test]
async fn a_cloned_authenticator_is_flagged_not_refused() {
    let mut device = Device::with_counter();
    let registered = register(&mut device).await;
    let mut clone = device.clone_credential();

    // The original moves the stored counter to 1...
    let first = sign_in(&mut device, &registered.credential).await;
    assert_eq!(first.sign_count, 1);
    assert!(!first.counter_regressed);

    // ...then the clone, still at 0, answers with 1 again: valid, flagged, counter kept.
    let verifier = WebauthnVerifier::new();
    for start in [
        verifier
            .start_authentication(&rp(), std::slice::from_ref(&first.credential))
            .unwrap(),
        verifier.start_authentication(&rp(), &[]).unwrap(),
    ] {
        let mut clone_now = clone.clone_credential();
        let response = clone_now.get(&origin(), &start.options).await;
        let verified = verifier
            .finish_authentication(&rp(), &start.state, &response, &first.credential)
            .unwrap();
        assert!(verified.counter_regressed);
        assert_eq!(verified.sign_count, 1);
        assert!(verified.user_verified);
        assert_eq!(stored_counter(&verified.credential), 1);
    }

    // A counter that moved since a restricted ceremony started (another sign-in in
    // between) is checked against the stored credential, not the ceremony's copy.
    let start = verifier
        .start_authentication(&rp(), std::slice::from_ref(&registered.credential))
        .unwrap();
    let response = clone.get(&origin(), &start.options).await;
    let verified = verifier
        .finish_authentication(&rp(), &start.state, &response, &first.credential)
        .unwrap();
    assert!(verified.counter_regressed);
    assert_eq!(stored_counter(&verified.credential), 1);
}

#[tokio::test]
async fn an_authenticator_without_a_counter_is_not_flagged() {
    let mut device = Device::without_counter();
    let registered = register(&mut device).await;
    assert_eq!(registered.sign_count, 0);
    let first = sign_in(&mut device, &registered.credential).await;
    let second = sign_in(&mut device, &first.credential).await;
    for verified in [first, second] {
        assert_eq!(verified.sign_count, 0);
        assert!(!verified.counter_regressed);
    }
}
