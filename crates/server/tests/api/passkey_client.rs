//! The browser of the passkey tests: the software authenticator and WebAuthn client of
//! `tessera-softkey` (plain-http `localhost` origins allowed, as browsers do), and helpers to
//! tamper with the JSON a browser would post.

pub use tessera_softkey::{
    Device, FLAG_UV, FLAGS, b64, edit_attested_auth_data, edit_client_data, unb64,
};
use uuid::Uuid;

/// The AAGUID (authenticator model) of the test authenticators.
pub const AAGUID: Uuid = Uuid::from_bytes(tessera_softkey::AAGUID);
