//! WebAuthn ceremonies (passkeys), behind a port so that the application does not depend on
//! the verifier library. Options and responses are the JSON the browser's
//! `navigator.credentials` API takes and gives; states and credentials are the verifier's own
//! serialisations, kept server-side and opaque here.

use serde_json::Value;
use uuid::Uuid;

/// The relying party: this server as the tenant's users see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelyingParty {
    /// The RP ID: the host of the public URL.
    pub id: String,
    /// The exact origin browsers report (`https://id.example.com`).
    pub origin: String,
    /// Shown by authenticators.
    pub name: String,
}

/// The account a passkey is created for. `handle` is the user handle stored in
/// discoverable credentials (the user id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyUser {
    pub handle: Uuid,
    pub name: String,
    pub display_name: String,
}

/// The start of a ceremony: options for the browser, state for the server.
#[derive(Clone, Debug)]
pub struct CeremonyStart {
    /// `{"publicKey": {...}}` as `navigator.credentials.create/get` expect (binary fields in
    /// base64url).
    pub options: Value,
    pub state: String,
}

/// A credential that passed registration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredCredential {
    /// base64url of the credential id.
    pub credential_id: String,
    pub aaguid: Option<Uuid>,
    /// Serialised credential (public key, counter, flags) for later authentications.
    pub credential: String,
    pub sign_count: u32,
    pub backup_eligible: bool,
}

/// What an assertion claims before it is verified: which credential and (for discoverable
/// credentials) whose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssertionClaim {
    pub credential_id: String,
    pub user_handle: Option<Uuid>,
}

/// A verified assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub credential_id: String,
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_eligible: bool,
    /// The credential with its counter and flags updated.
    pub credential: String,
    /// The authenticator's counter went backwards (or did not move) although it counts: a
    /// sign of a cloned authenticator. The assertion is still valid; the event is flagged.
    pub counter_regressed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum PasskeyError {
    /// The response does not verify (wrong origin, RP ID, challenge, signature, missing user
    /// verification, malformed...). The message is for the audit trail and logs.
    #[error("the passkey response was refused: {0}")]
    Refused(String),
    #[error("passkey ceremony failed: {0}")]
    Internal(String),
}

pub trait PasskeyVerifier: Send + Sync {
    /// Starts registering a passkey (a discoverable credential with user verification),
    /// excluding the user's existing credentials (`exclude`: base64url credential ids).
    fn start_registration(
        &self,
        rp: &RelyingParty,
        user: &PasskeyUser,
        exclude: &[String],
    ) -> Result<CeremonyStart, PasskeyError>;
    fn finish_registration(
        &self,
        rp: &RelyingParty,
        state: &str,
        response: &Value,
    ) -> Result<RegisteredCredential, PasskeyError>;
    /// Starts an authentication with user verification required. `credentials` (serialised
    /// credentials) restricts it to a known user's passkeys; empty: any discoverable
    /// credential (passwordless, autofill).
    fn start_authentication(
        &self,
        rp: &RelyingParty,
        credentials: &[String],
    ) -> Result<CeremonyStart, PasskeyError>;
    /// Reads which credential (and user handle) an assertion is for, without verifying it.
    fn claim(&self, response: &Value) -> Result<AssertionClaim, PasskeyError>;
    /// Verifies an assertion against the state of its ceremony and the stored credential.
    fn finish_authentication(
        &self,
        rp: &RelyingParty,
        state: &str,
        response: &Value,
        credential: &str,
    ) -> Result<VerifiedAssertion, PasskeyError>;
}
