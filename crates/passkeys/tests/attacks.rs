//! Every tampered or misdirected WebAuthn response is refused: wrong origin, wrong RP ID,
//! no user verification, forged client data, tampered attestation, replayed or swapped
//! assertions, another credential's signature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::{Value, json};
use support::*;
use tessera_domain::ports::{
    CeremonyStart, PasskeyError, PasskeyVerifier, RegisteredCredential, RelyingParty,
};
use tessera_passkeys::WebauthnVerifier;
use url::Url;
use uuid::Uuid;

/// An edit of a JSON value or of bytes, named for the failure message.
type Edit<T> = (&'static str, fn(&mut T));

const ALICE: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0a11;
const BOB: u128 = 0x0190_0000_0000_7000_8000_0000_0000_0b0b;

fn verifier() -> WebauthnVerifier {
    WebauthnVerifier::new()
}

fn start_registration(handle: u128) -> CeremonyStart {
    verifier()
        .start_registration(&rp(), &user(handle), &[])
        .unwrap()
}

async fn register(device: &mut Device, handle: u128) -> RegisteredCredential {
    let start = start_registration(handle);
    let response = device.create(&origin(), &start.options).await;
    verifier()
        .finish_registration(&rp(), &start.state, &response)
        .unwrap()
}

#[track_caller]
fn assert_refused<T: std::fmt::Debug>(result: Result<T, PasskeyError>, about: &str) -> String {
    match result {
        Err(PasskeyError::Refused(reason)) => reason,
        other => panic!("expected a refusal ({about}), got {other:?}"),
    }
}

fn finish_registration(
    start: &CeremonyStart,
    response: &Value,
) -> Result<RegisteredCredential, PasskeyError> {
    verifier().finish_registration(&rp(), &start.state, response)
}

/// A registered device and a started restricted authentication for its credential.
async fn registered_and_started() -> (Device, RegisteredCredential, CeremonyStart) {
    let mut device = Device::with_counter();
    let registered = register(&mut device, ALICE).await;
    let start = verifier()
        .start_authentication(&rp(), std::slice::from_ref(&registered.credential))
        .unwrap();
    (device, registered, start)
}

// --- origin and RP ID -------------------------------------------------------------------

#[tokio::test]
async fn registration_from_another_origin_is_refused() {
    // evil.example.com may use the RP ID example.com, but it is not the relying party's origin.
    let evil = Url::parse("https://evil.example.com").unwrap();
    let start = start_registration(ALICE);
    let response = Device::with_counter().create(&evil, &start.options).await;
    let reason = assert_refused(finish_registration(&start, &response), "other origin");
    assert!(reason.to_lowercase().contains("origin"), "{reason}");
}

#[tokio::test]
async fn authentication_from_another_origin_is_refused() {
    let (mut device, registered, start) = registered_and_started().await;
    let evil = Url::parse("https://evil.example.com").unwrap();
    let response = device.get(&evil, &start.options).await;
    let reason = assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &response, &registered.credential),
        "other origin",
    );
    assert!(reason.to_lowercase().contains("origin"), "{reason}");
}

#[tokio::test]
async fn registration_for_another_rp_id_is_refused() {
    // The page (or an attacker relaying the ceremony) asks for the RP ID id.example.com:
    // the authenticator data then carries that RP ID's hash.
    let start = start_registration(ALICE);
    let mut options = start.options.clone();
    options["publicKey"]["rp"]["id"] = json!("id.example.com");
    let response = Device::with_counter().create(&origin(), &options).await;
    assert_refused(finish_registration(&start, &response), "other RP ID");
}

#[tokio::test]
async fn authentication_for_another_rp_id_is_refused() {
    let (mut device, registered, start) = registered_and_started().await;
    // The credential was made for example.com; an assertion for id.example.com (the
    // authenticator here does not scope credentials by RP ID) carries the other hash.
    let mut options = start.options.clone();
    options["publicKey"]["rpId"] = json!("id.example.com");
    let response = device.get(&origin(), &options).await;
    assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &response, &registered.credential),
        "other RP ID",
    );
}

#[tokio::test]
async fn a_state_is_bound_to_its_relying_party() {
    let (mut device, registered, start) = registered_and_started().await;
    let response = device.get(&origin(), &start.options).await;
    let other = RelyingParty {
        id: "other.example.org".into(),
        origin: "https://other.example.org".into(),
        name: "Other".into(),
    };
    assert_refused(
        verifier().finish_authentication(&other, &start.state, &response, &registered.credential),
        "state of another RP",
    );
    // A registration state is not an authentication state.
    let registration = start_registration(ALICE);
    assert!(matches!(
        verifier().finish_authentication(
            &rp(),
            &registration.state,
            &response,
            &registered.credential
        ),
        Err(PasskeyError::Internal(_))
    ));
    assert!(matches!(
        verifier().finish_registration(&rp(), &start.state, &response),
        Err(PasskeyError::Internal(_))
    ));
}

// --- user verification ------------------------------------------------------------------

#[tokio::test]
async fn registration_without_user_verification_is_refused() {
    let start = start_registration(ALICE);
    // The client is told verification is discouraged: the authenticator only checks presence.
    let mut options = start.options.clone();
    options["publicKey"]["authenticatorSelection"]["userVerification"] = json!("discouraged");
    let response = Device::with_counter().create(&origin(), &options).await;
    let reason = assert_refused(finish_registration(&start, &response), "no UV");
    assert!(reason.to_lowercase().contains("verif"), "{reason}");
}

#[tokio::test]
async fn authentication_without_user_verification_is_refused() {
    for discoverable in [false, true] {
        let mut device = Device::with_counter();
        let registered = register(&mut device, ALICE).await;
        let credentials = if discoverable {
            vec![]
        } else {
            vec![registered.credential.clone()]
        };
        let start = verifier()
            .start_authentication(&rp(), &credentials)
            .unwrap();
        let mut options = start.options.clone();
        options["publicKey"]["userVerification"] = json!("discouraged");
        let response = device.get(&origin(), &options).await;
        let flags = unb64(response["response"]["authenticatorData"].as_str().unwrap())[FLAGS];
        assert_eq!(
            flags & FLAG_UV,
            0,
            "the authenticator did not verify the user"
        );
        let reason = assert_refused(
            verifier().finish_authentication(
                &rp(),
                &start.state,
                &response,
                &registered.credential,
            ),
            "no UV",
        );
        assert!(reason.to_lowercase().contains("verif"), "{reason}");
    }
}

// --- forged client data -----------------------------------------------------------------

#[tokio::test]
async fn registration_with_forged_client_data_is_refused() {
    let start = start_registration(ALICE);
    let response = Device::with_counter()
        .create(&origin(), &start.options)
        .await;
    let forgeries: [Edit<Value>; 4] = [
        ("challenge altered", |c| {
            c["challenge"] = json!(b64(&[7u8; 32]))
        }),
        ("type changed", |c| c["type"] = json!("webauthn.get")),
        ("origin rewritten", |c| {
            c["origin"] = json!("https://evil.example.com")
        }),
        ("cross-origin", |c| c["crossOrigin"] = json!(true)),
    ];
    for (what, forge) in forgeries {
        let mut forged = response.clone();
        edit_client_data(&mut forged, forge);
        assert_refused(finish_registration(&start, &forged), what);
    }
    // The untouched response still verifies: the refusals come from the edits.
    finish_registration(&start, &response).unwrap();
}

#[tokio::test]
async fn authentication_with_forged_client_data_is_refused() {
    let (mut device, registered, start) = registered_and_started().await;
    let response = device.get(&origin(), &start.options).await;
    let state_challenge = start.options["publicKey"]["challenge"].clone();
    #[allow(clippy::type_complexity)]
    let forgeries: [(&str, Box<dyn Fn(&mut Value)>); 4] = [
        (
            "challenge altered",
            Box::new(|c| c["challenge"] = json!(b64(&[7u8; 32]))),
        ),
        (
            "type changed",
            Box::new(|c| c["type"] = json!("webauthn.create")),
        ),
        // Same challenge and origin, other bytes: the signature no longer matches.
        ("extra member", Box::new(|c| c["other"] = json!("x"))),
        // The right challenge again (the re-encoded JSON differs in nothing that matters
        // to the checks before the signature): the signature is over the original bytes.
        (
            "re-encoded",
            Box::new(move |c| c["challenge"] = state_challenge.clone()),
        ),
    ];
    for (what, forge) in forgeries {
        let mut forged = response.clone();
        edit_client_data(&mut forged, |c| forge(c));
        if what == "re-encoded" {
            // serde_json may write the same bytes back; insert a space to be sure they differ.
            let field = &mut forged["response"]["clientDataJSON"];
            let mut bytes = unb64(field.as_str().unwrap());
            bytes.insert(1, b' ');
            *field = json!(b64(&bytes));
        }
        assert_refused(
            verifier().finish_authentication(&rp(), &start.state, &forged, &registered.credential),
            what,
        );
    }
    verifier()
        .finish_authentication(&rp(), &start.state, &response, &registered.credential)
        .unwrap();
}

// --- tampered attestation and assertion bytes --------------------------------------------

#[tokio::test]
async fn registration_with_a_tampered_attestation_is_refused() {
    let start = start_registration(ALICE);
    let response = Device::with_counter()
        .create(&origin(), &start.options)
        .await;
    let tamperings: [Edit<Vec<u8>>; 3] = [
        ("RP ID hash byte flipped", |a| a[0] ^= 0x01),
        ("UV flag cleared", |a| a[FLAGS] &= !FLAG_UV),
        ("attested credential data cut", |a| a.truncate(40)),
    ];
    for (what, tamper) in tamperings {
        let mut tampered = response.clone();
        edit_attested_auth_data(&mut tampered, tamper);
        assert_refused(finish_registration(&start, &tampered), what);
    }
    // Bytes that are not CBOR, or cut short.
    for (what, tamper) in [
        (
            "first CBOR byte flipped",
            (|o: &mut Vec<u8>| o[0] ^= 0xff) as fn(&mut Vec<u8>),
        ),
        ("attestation object truncated", |o| o.truncate(o.len() / 2)),
    ] {
        let mut tampered = response.clone();
        edit_bytes(&mut tampered, "attestationObject", tamper);
        assert_refused(finish_registration(&start, &tampered), what);
    }
    finish_registration(&start, &response).unwrap();
}

#[tokio::test]
async fn an_assertion_with_tampered_bytes_is_refused() {
    let (mut device, registered, start) = registered_and_started().await;
    let response = device.get(&origin(), &start.options).await;
    #[allow(clippy::type_complexity)]
    let tamperings: [(&str, &str, fn(&mut Vec<u8>)); 4] = [
        ("counter raised", "authenticatorData", |a| {
            a[36] = a[36].wrapping_add(5)
        }),
        ("RP ID hash byte flipped", "authenticatorData", |a| {
            a[5] ^= 0x80
        }),
        ("signature byte flipped", "signature", |s| {
            let last = s.len() - 1;
            s[last] ^= 0x01
        }),
        ("signature truncated", "signature", |s| s.truncate(8)),
    ];
    for (what, field, tamper) in tamperings {
        let mut tampered = response.clone();
        edit_bytes(&mut tampered, field, tamper);
        assert_refused(
            verifier().finish_authentication(
                &rp(),
                &start.state,
                &tampered,
                &registered.credential,
            ),
            what,
        );
    }
}

// --- replay -----------------------------------------------------------------------------

#[tokio::test]
async fn an_assertion_replayed_against_a_new_ceremony_is_refused() {
    for discoverable in [false, true] {
        let (mut device, registered, first) = registered_and_started().await;
        let response = device.get(&origin(), &first.options).await;
        let verified = verifier()
            .finish_authentication(&rp(), &first.state, &response, &registered.credential)
            .unwrap();
        // The same assertion, sent again for a new ceremony (another challenge).
        let credentials = if discoverable {
            vec![]
        } else {
            vec![verified.credential.clone()]
        };
        let second = verifier()
            .start_authentication(&rp(), &credentials)
            .unwrap();
        let reason = assert_refused(
            verifier().finish_authentication(&rp(), &second.state, &response, &verified.credential),
            "replay",
        );
        assert!(reason.to_lowercase().contains("challenge"), "{reason}");
    }
}

#[tokio::test]
async fn a_registration_replayed_against_a_new_ceremony_is_refused() {
    let first = start_registration(ALICE);
    let response = Device::with_counter()
        .create(&origin(), &first.options)
        .await;
    finish_registration(&first, &response).unwrap();
    let second = start_registration(ALICE);
    assert_refused(
        finish_registration(&second, &response),
        "replayed registration",
    );
}

// --- another credential -----------------------------------------------------------------

#[tokio::test]
async fn an_assertion_signed_by_another_credential_is_refused() {
    let (_alice_device, alice, start) = registered_and_started().await;
    let mut bob_device = Device::with_counter();
    let bob = register(&mut bob_device, BOB).await;

    // Bob's authenticator answers Alice's ceremony with its own credential.
    let mut options = start.options.clone();
    options["publicKey"]["allowCredentials"] =
        json!([{ "type": "public-key", "id": bob.credential_id }]);
    let bobs = bob_device.get(&origin(), &options).await;
    assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &bobs, &alice.credential),
        "another credential, stored Alice",
    );
    // Verified against Bob's stored credential, it is still not one of the allowed ones.
    assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &bobs, &bob.credential),
        "credential outside allowCredentials",
    );

    // Bob's assertion relabelled as Alice's credential: Bob's signature does not verify
    // under Alice's public key.
    let mut relabelled = bobs.clone();
    relabelled["id"] = json!(alice.credential_id);
    relabelled["rawId"] = json!(alice.credential_id);
    relabelled["response"]["userHandle"] = json!(b64(Uuid::from_u128(ALICE).as_bytes()));
    let reason = assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &relabelled, &alice.credential),
        "relabelled",
    );
    assert!(!reason.is_empty());
}

#[tokio::test]
async fn a_discoverable_assertion_against_the_wrong_stored_credential_is_refused() {
    let mut alice_device = Device::with_counter();
    let alice = register(&mut alice_device, ALICE).await;
    let mut bob_device = Device::with_counter();
    let bob = register(&mut bob_device, BOB).await;

    let start = verifier().start_authentication(&rp(), &[]).unwrap();
    let response = alice_device.get(&origin(), &start.options).await;
    // The caller looked up the wrong credential (Bob's): refused.
    assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &response, &bob.credential),
        "wrong stored credential",
    );

    // Bob's assertion claiming to be Alice's credential and Alice's user handle, verified
    // against Alice's stored credential: the signature is Bob's.
    let start = verifier().start_authentication(&rp(), &[]).unwrap();
    let mut forged = bob_device.get(&origin(), &start.options).await;
    forged["id"] = json!(alice.credential_id);
    forged["rawId"] = json!(alice.credential_id);
    forged["response"]["userHandle"] = json!(b64(Uuid::from_u128(ALICE).as_bytes()));
    let claim = verifier().claim(&forged).unwrap();
    assert_eq!(claim.user_handle, Some(Uuid::from_u128(ALICE)));
    assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &forged, &alice.credential),
        "Bob's signature as Alice",
    );

    // And the genuine one still verifies.
    let start = verifier().start_authentication(&rp(), &[]).unwrap();
    let response = alice_device.get(&origin(), &start.options).await;
    verifier()
        .finish_authentication(&rp(), &start.state, &response, &alice.credential)
        .unwrap();
}

#[tokio::test]
async fn a_discoverable_assertion_without_user_handle_is_refused() {
    let mut device = Device::with_counter();
    let registered = register(&mut device, ALICE).await;
    let start = verifier().start_authentication(&rp(), &[]).unwrap();
    let mut response = device.get(&origin(), &start.options).await;
    response["response"]["userHandle"] = Value::Null;
    assert_eq!(verifier().claim(&response).unwrap().user_handle, None);
    assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &response, &registered.credential),
        "no user handle",
    );
}

// --- malformed input --------------------------------------------------------------------

#[tokio::test]
async fn malformed_responses_are_refused() {
    let (mut device, registered, start) = registered_and_started().await;
    let response = device.get(&origin(), &start.options).await;
    for garbage in [
        json!(null),
        json!({}),
        json!("text"),
        json!({ "id": "x", "rawId": 3 }),
    ] {
        assert_refused(verifier().claim(&garbage), "garbage claim");
        assert_refused(
            verifier().finish_authentication(&rp(), &start.state, &garbage, &registered.credential),
            "garbage assertion",
        );
    }
    let registration = start_registration(ALICE);
    assert_refused(
        finish_registration(&registration, &json!({})),
        "garbage registration",
    );

    // id and rawId naming two credentials.
    let mut split = response.clone();
    split["id"] = json!(b64(b"another credential"));
    assert_refused(verifier().claim(&split), "id differs from rawId");
    assert_refused(
        verifier().finish_authentication(&rp(), &start.state, &split, &registered.credential),
        "id differs from rawId",
    );
    // A state that is not one.
    assert!(matches!(
        verifier().finish_authentication(&rp(), "not a state", &response, &registered.credential),
        Err(PasskeyError::Internal(_))
    ));
}

#[tokio::test]
async fn a_credential_the_browser_says_is_not_discoverable_is_refused() {
    let start = start_registration(ALICE);
    let mut response = Device::with_counter()
        .create(&origin(), &start.options)
        .await;
    response["clientExtensionResults"]["credProps"]["rk"] = json!(false);
    let reason = assert_refused(finish_registration(&start, &response), "rk false");
    assert!(reason.contains("discoverable"), "{reason}");
}
