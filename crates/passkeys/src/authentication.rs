//! Authenticating with a passkey: restricted to a known user's credentials, or discoverable.

use serde_json::Value;
use tessera_domain::ports::{
    AssertionClaim, CeremonyStart, PasskeyError, RelyingParty, VerifiedAssertion,
};
use uuid::Uuid;
use webauthn_rs::prelude::{Credential, Passkey, PublicKeyCredential, WebauthnError};

use crate::encoding::{credential_id, decode_credential_id};
use crate::error;
use crate::state::CeremonyState;
use crate::verifier::webauthn_for;

/// Flags of the authenticator data (WebAuthn §6.1).
const FLAG_UV: u8 = 0x04;
const FLAG_BE: u8 = 0x08;

/// With credentials: `webauthn-rs`'s passkey authentication (allowCredentials = those,
/// user verification required). Without: its discoverable authentication (no
/// allowCredentials, user verification required), whose options carry
/// `"mediation": "conditional"` for autofill; a page that starts it from a button instead
/// removes `mediation` before calling `navigator.credentials.get`.
pub(crate) fn start(
    rp: &RelyingParty,
    credentials: &[String],
) -> Result<CeremonyStart, PasskeyError> {
    let webauthn = webauthn_for(rp)?;
    let (options, state) = if credentials.is_empty() {
        let (challenge, state) = webauthn
            .start_discoverable_authentication()
            .map_err(error::start)?;
        let state = CeremonyState::Discoverable {
            rp_id: rp.id.clone(),
            state,
        };
        (serde_json::to_value(&challenge), state)
    } else {
        let passkeys = credentials
            .iter()
            .map(|c| stored_passkey(c))
            .collect::<Result<Vec<_>, _>>()?;
        let (challenge, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(error::start)?;
        let state = CeremonyState::Authentication {
            rp_id: rp.id.clone(),
            state,
        };
        (serde_json::to_value(&challenge), state)
    };
    let options = options
        .map_err(|e| PasskeyError::Internal(format!("cannot serialise the options: {e}")))?;
    Ok(CeremonyStart {
        options,
        state: state.encode()?,
    })
}

fn stored_passkey(credential: &str) -> Result<Passkey, PasskeyError> {
    serde_json::from_str(credential)
        .map_err(|e| PasskeyError::Internal(format!("unreadable stored credential: {e}")))
}

fn assertion(response: &Value) -> Result<PublicKeyCredential, PasskeyError> {
    let assertion: PublicKeyCredential = serde_json::from_value(response.clone())
        .map_err(|e| error::malformed("authentication response", e))?;
    // `webauthn-rs` works from rawId; an `id` that names another credential is a forgery.
    if decode_credential_id(&assertion.id).as_deref() != Some(assertion.raw_id.as_slice()) {
        return Err(PasskeyError::Refused("id and rawId differ".into()));
    }
    Ok(assertion)
}

/// The credential id (rawId) and the user handle when it is a UUID (16 bytes).
pub(crate) fn claim(response: &Value) -> Result<AssertionClaim, PasskeyError> {
    let assertion = assertion(response)?;
    let user_handle = assertion
        .get_user_unique_id()
        .and_then(|bytes| Uuid::from_slice(bytes).ok());
    Ok(AssertionClaim {
        credential_id: credential_id(&assertion.raw_id),
        user_handle,
    })
}

pub(crate) fn finish(
    rp: &RelyingParty,
    state: &str,
    response: &Value,
    credential: &str,
) -> Result<VerifiedAssertion, PasskeyError> {
    let state = CeremonyState::decode(state, rp)?;
    let webauthn = webauthn_for(rp)?;
    let assertion = assertion(response)?;
    let stored = stored_passkey(credential)?;
    if assertion.raw_id.as_slice() != stored.cred_id().as_slice() {
        return Err(PasskeyError::Refused(
            "the assertion is for another credential than the stored one".into(),
        ));
    }
    let result = match state {
        CeremonyState::Authentication { state, .. } => {
            webauthn.finish_passkey_authentication(&assertion, &state)
        }
        CeremonyState::Discoverable { state, .. } => {
            // The user was not known before: the assertion must say whose credential it is
            // (the caller found `stored` from it through `claim`).
            if assertion.get_user_unique_id().is_none() {
                return Err(PasskeyError::Refused(
                    "a discoverable assertion without a user handle".into(),
                ));
            }
            webauthn.finish_discoverable_authentication_v2(&assertion, state, &stored)
        }
        CeremonyState::Registration { .. } => {
            return Err(PasskeyError::Internal(
                "not the state of an authentication".into(),
            ));
        }
    };
    let stored_counter = Credential::from(stored.clone()).counter;
    match result {
        Ok(result) => {
            if !result.user_verified() {
                return Err(PasskeyError::Refused(
                    "user verification did not happen".into(),
                ));
            }
            let counter = result.counter();
            // Against the stored credential, which may have moved since the ceremony started
            // (webauthn-rs compares with the copy in a restricted ceremony's state).
            let counter_regressed =
                (counter > 0 || stored_counter > 0) && counter <= stored_counter;
            let mut updated = stored;
            updated.update_credential(&result);
            Ok(VerifiedAssertion {
                credential_id: credential_id(updated.cred_id()),
                sign_count: counter,
                user_verified: true,
                backup_eligible: result.backup_eligible(),
                credential: serialise(&updated)?,
                counter_regressed,
            })
        }
        // webauthn-rs checks the counter last, after the challenge, origin, RP ID, flags and
        // signature all verified, and refuses a counter that did not move forward. The port
        // wants such an assertion accepted and flagged (a cloned authenticator is a signal
        // for the audit log and risk, not a wrong answer), so it is rebuilt here from the
        // verified authenticator data; the stored credential is kept as it was.
        Err(WebauthnError::CredentialPossibleCompromise) => {
            let (flags, counter) = flags_and_counter(&assertion.response.authenticator_data)
                .ok_or_else(|| PasskeyError::Refused("short authenticator data".into()))?;
            Ok(VerifiedAssertion {
                credential_id: credential_id(stored.cred_id()),
                sign_count: counter,
                user_verified: flags & FLAG_UV != 0,
                backup_eligible: flags & FLAG_BE != 0,
                credential: serialise(&stored)?,
                counter_regressed: true,
            })
        }
        Err(e) => Err(error::verification(e)),
    }
}

/// `authenticatorData` = rpIdHash (32) ‖ flags (1) ‖ signCount (4, big-endian) ‖ ...
fn flags_and_counter(auth_data: &[u8]) -> Option<(u8, u32)> {
    let flags = *auth_data.get(32)?;
    let counter: [u8; 4] = auth_data.get(33..37)?.try_into().ok()?;
    Some((flags, u32::from_be_bytes(counter)))
}

fn serialise(passkey: &Passkey) -> Result<String, PasskeyError> {
    serde_json::to_string(passkey)
        .map_err(|e| PasskeyError::Internal(format!("cannot serialise the credential: {e}")))
}
