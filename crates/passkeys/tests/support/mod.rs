//! A software authenticator and WebAuthn client (1Password's `passkey` crate) playing the
//! browser, the relying party the tests use, and helpers to tamper with the JSON a browser
//! would send.
#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use passkey::authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey::client::{Client, DefaultClientData};
use passkey::crypto::rust_crypto::RustCryptoBackend;
use passkey::types::Passkey;
use passkey::types::ctap2::{Aaguid, Ctap2Error};
use passkey::types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use serde_json::Value;
use tessera_domain::ports::{PasskeyUser, RelyingParty};
use url::Url;
use uuid::Uuid;

pub const RP_ID: &str = "example.com";
pub const ORIGIN: &str = "https://id.example.com";
/// The AAGUID of the test authenticators.
pub const AAGUID: [u8; 16] = [
    0x6a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x40, 0x71, 0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9,
];

pub fn rp() -> RelyingParty {
    RelyingParty {
        id: RP_ID.into(),
        origin: ORIGIN.into(),
        name: "Tessera".into(),
    }
}

pub fn user(handle: u128) -> PasskeyUser {
    PasskeyUser {
        handle: Uuid::from_u128(handle),
        name: "alice@example.com".into(),
        display_name: "Alice".into(),
    }
}

pub fn origin() -> Url {
    Url::parse(ORIGIN).unwrap()
}

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
        let mut client = Client::new(self.authenticator());
        let created = client.register(origin, options, DefaultClientData).await;
        self.store = client.authenticator().store().clone();
        serde_json::to_value(created.unwrap()).unwrap()
    }

    /// `navigator.credentials.get(options)` at `origin`, as the JSON the page posts.
    pub async fn get(&mut self, origin: &Url, options: &Value) -> Value {
        let options: CredentialRequestOptions = serde_json::from_value(options.clone()).unwrap();
        let mut client = Client::new(self.authenticator());
        let asserted = client
            .authenticate(origin, options, DefaultClientData)
            .await;
        self.store = client.authenticator().store().clone();
        serde_json::to_value(asserted.unwrap()).unwrap()
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
