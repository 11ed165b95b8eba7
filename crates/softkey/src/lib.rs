//! A software authenticator and WebAuthn client (1Password's `passkey` crate) that plays the
//! browser in passkey tests and benchmarks, and helpers to tamper with the JSON a browser
//! would send.
//!
//! May depend on: the `passkey` crates and pure libraries. Test support only: never a normal
//! dependency of a shipped crate.
//!
//! Entry points: [`Device`] (`create`, `get`, `get_for_rp_id`), [`edit_client_data`], [`edit_bytes`],
//! [`edit_attested_auth_data`].
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use passkey::authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey::client::{Client, DefaultClientData};
use passkey::crypto::rust_crypto::RustCryptoBackend;
use passkey::types::Passkey;
use passkey::types::ctap2::{Aaguid, Ctap2Error, get_assertion};
use passkey::types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
pub use url::Url;

/// The AAGUID of the test authenticators.
pub const AAGUID: [u8; 16] = [
    0x6a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x40, 0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9,
];

/// User presence always; user verification whenever the client asks for it (a device
/// with a PIN or biometrics). A client told "discouraged" does not ask, and the
/// authenticator data then has UV off.
pub struct Consent;

#[async_trait::async_trait]
impl UserValidationMethod for Consent {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Self::PasskeyItem>,
        _presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence: true,
            verification,
        })
    }

    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }

    fn is_presence_enabled(&self) -> bool {
        true
    }
}

/// One authenticator holding (at most) one discoverable credential, driven through a WebAuthn
/// client (built per call: the client owns its authenticator).
pub struct Device {
    store: Option<Passkey>,
    counter: bool,
}

impl Device {
    /// An authenticator with a signature counter (a hardware key, say).
    pub fn with_counter() -> Self {
        Self {
            store: None,
            counter: true,
        }
    }

    /// An authenticator without a counter (synced passkeys report 0).
    pub fn without_counter() -> Self {
        Self {
            store: None,
            counter: false,
        }
    }

    /// A copy of this device's credential in another authenticator (a cloned key).
    pub fn clone_credential(&self) -> Self {
        Self {
            store: self.store.clone(),
            counter: self.counter,
        }
    }

    fn authenticator(&mut self) -> Authenticator<Option<Passkey>, Consent, RustCryptoBackend> {
        let mut authenticator = Authenticator::new(
            Aaguid::from(AAGUID),
            self.store.take(),
            Consent,
            RustCryptoBackend,
        );
        authenticator.set_make_credentials_with_signature_counter(self.counter);
        authenticator
    }

    /// `navigator.credentials.create(options)` at `origin`, as the JSON the page posts.
    pub async fn create(&mut self, origin: &Url, options: &Value) -> Value {
        let options: CredentialCreationOptions = serde_json::from_value(options.clone()).unwrap();
        let mut client = Client::new(self.authenticator()).allows_insecure_localhost(true);
        let created = client.register(origin, options, DefaultClientData).await;
        self.store = client.authenticator().store().clone();
        serde_json::to_value(created.unwrap()).unwrap()
    }

    /// `navigator.credentials.get(options)` at `origin`, as the JSON the page posts.
    pub async fn get(&mut self, origin: &Url, options: &Value) -> Value {
        let options: CredentialRequestOptions = serde_json::from_value(options.clone()).unwrap();
        let mut client = Client::new(self.authenticator()).allows_insecure_localhost(true);
        let asserted = client
            .authenticate(origin, options, DefaultClientData)
            .await;
        self.store = client.authenticator().store().clone();
        serde_json::to_value(asserted.unwrap()).unwrap()
    }

    /// An assertion for `rp_id` whatever the origin says, as a client that does not check
    /// the RP ID against the origin (or a relay) would obtain it: the authenticator data
    /// then carries the hash of `rp_id`. Straight to the CTAP2 authenticator.
    pub async fn get_for_rp_id(&mut self, origin: &Url, rp_id: &str, options: &Value) -> Value {
        let options: CredentialRequestOptions = serde_json::from_value(options.clone()).unwrap();
        let request = options.public_key;
        let client_data = serde_json::to_vec(&json!({
            "type": "webauthn.get",
            "challenge": b64(&request.challenge),
            "origin": origin.as_str().trim_end_matches('/'),
            "crossOrigin": false,
        }))
        .unwrap();
        let mut authenticator = self.authenticator();
        let asserted = authenticator
            .get_assertion(get_assertion::Request {
                rp_id: rp_id.to_owned(),
                client_data_hash: Sha256::digest(&client_data).to_vec().into(),
                allow_list: request.allow_credentials,
                extensions: None,
                options: get_assertion::Options { up: true, uv: true },
                pin_auth: None,
                pin_protocol: None,
            })
            .await;
        self.store = authenticator.store().clone();
        let asserted = asserted.unwrap();
        let id = asserted.credential.unwrap().id;
        json!({
            "id": b64(&id),
            "rawId": b64(&id),
            "type": "public-key",
            "response": {
                "clientDataJSON": b64(&client_data),
                "authenticatorData": b64(&asserted.auth_data.to_vec()),
                "signature": b64(&asserted.signature),
                "userHandle": asserted.user.map(|u| b64(&u.id)),
            },
            "clientExtensionResults": {},
        })
    }
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).unwrap()
}

/// Rewrites `response.clientDataJSON` (a base64url JSON object) with `edit`.
pub fn edit_client_data(response: &mut Value, edit: impl FnOnce(&mut Value)) {
    let field = &mut response["response"]["clientDataJSON"];
    let mut client_data: Value = serde_json::from_slice(&unb64(field.as_str().unwrap())).unwrap();
    edit(&mut client_data);
    *field = Value::String(b64(&serde_json::to_vec(&client_data).unwrap()));
}

/// Rewrites the bytes of a base64url field of `response.response`.
pub fn edit_bytes(response: &mut Value, name: &str, edit: impl FnOnce(&mut Vec<u8>)) {
    let field = &mut response["response"][name];
    let mut bytes = unb64(field.as_str().unwrap());
    edit(&mut bytes);
    *field = Value::String(b64(&bytes));
}

/// Rewrites the `authData` inside `response.attestationObject` (CBOR) with `edit`.
pub fn edit_attested_auth_data(response: &mut Value, edit: impl FnOnce(&mut Vec<u8>)) {
    edit_bytes(response, "attestationObject", |object| {
        let mut value: ciborium::Value = ciborium::from_reader(object.as_slice()).unwrap();
        let entry = value
            .as_map_mut()
            .unwrap()
            .iter_mut()
            .find(|(key, _)| key.as_text() == Some("authData"))
            .unwrap();
        let mut auth_data = entry.1.as_bytes().unwrap().clone();
        edit(&mut auth_data);
        entry.1 = ciborium::Value::Bytes(auth_data);
        object.clear();
        ciborium::into_writer(&value, &mut *object).unwrap();
    });
}

/// Byte 32 of the authenticator data holds the flags.
pub const FLAGS: usize = 32;
pub const FLAG_UV: u8 = 0x04;
