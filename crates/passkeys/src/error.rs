//! From `webauthn-rs` errors to the port's two kinds.

use tessera_domain::ports::PasskeyError;
use webauthn_rs::prelude::WebauthnError;

/// An error of a `finish_*` call: the library's own failures (configuration, persistence
/// hooks this adapter does not use) are `Internal`; everything else is about the response
/// (origin, RP ID, challenge, type, flags, signature, parsing...) and is `Refused`.
pub(crate) fn verification(error: WebauthnError) -> PasskeyError {
    match error {
        WebauthnError::Configuration
        | WebauthnError::ChallengePersistenceError
        | WebauthnError::CredentialExistCheckError
        | WebauthnError::CredentialPersistenceError
        | WebauthnError::CredentialRetrievalError
        | WebauthnError::CredentialCounterUpdateFailure
        | WebauthnError::CredentialCompromiseReportFailure
        | WebauthnError::MissingAttestationCaList
        | WebauthnError::AttestationCertificateTrustStoreEmpty => {
            PasskeyError::Internal(error.to_string())
        }
        other => PasskeyError::Refused(other.to_string()),
    }
}

/// An error of a `start_*` call: nothing the user sent, so always `Internal`.
pub(crate) fn start(error: WebauthnError) -> PasskeyError {
    PasskeyError::Internal(error.to_string())
}

/// A response that is not the JSON of a `PublicKeyCredential`.
pub(crate) fn malformed(what: &str, error: serde_json::Error) -> PasskeyError {
    PasskeyError::Refused(format!("malformed {what}: {error}"))
}
