//! Tessera's passkeys adapter (driven adapter layer).
//!
//! Implements the domain's [`PasskeyVerifier`](tessera_domain::ports::PasskeyVerifier) port
//! with `webauthn-rs` (pure Rust): [`WebauthnVerifier`] runs WebAuthn registration and
//! authentication ceremonies for a [`RelyingParty`](tessera_domain::ports::RelyingParty) given
//! on each call (one server, many tenants and public URLs).
//!
//! - Registration asks for a discoverable credential (`residentKey: "required"`) with user
//!   verification required, and reports the credential id, AAGUID, counter and backup
//!   eligibility.
//! - Authentication is either restricted to a known user's credentials or discoverable
//!   (passwordless, autofill); user verification is always required. A sign-count
//!   regression is reported (`counter_regressed`), not refused.
//! - Ceremony states are JSON strings wrapping `webauthn-rs`'s own state (feature
//!   `danger-allow-state-serialisation`): the caller keeps them server-side with a short TTL,
//!   never in the browser.
//!
//! Depends on `tessera-domain` (for the port), `webauthn-rs`, `serde_json`, `base64` and
//! `ciborium` (to read the AAGUID). No I/O, no clock: `webauthn-rs` draws the challenges from
//! the operating system's CSPRNG.

mod authentication;
mod encoding;
mod error;
mod registration;
mod state;
mod verifier;

pub use verifier::WebauthnVerifier;
