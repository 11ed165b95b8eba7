//! Registering a passkey: a discoverable credential with user verification.

use serde_json::{Value, json};
use tessera_domain::ports::{
    CeremonyStart, PasskeyError, PasskeyUser, RegisteredCredential, RelyingParty,
};
use uuid::Uuid;
use webauthn_rs::prelude::{Credential, RegisterPublicKeyCredential};

use crate::encoding::{credential_id, decode_credential_id};
use crate::error;
use crate::state::CeremonyState;
use crate::verifier::webauthn_for;

/// Starts `webauthn-rs`'s passkey registration (user verification required, no attestation,
/// credProtect "user verification required", credProps requested), then asks for a
/// discoverable credential: `webauthn-rs` writes `residentKey: "discouraged"`, and its state
/// does not depend on that field (registration does not check it), so the options are
/// changed to `residentKey: "required"` and `requireResidentKey: true`.
pub(crate) fn start(
    rp: &RelyingParty,
    user: &PasskeyUser,
    exclude: &[String],
) -> Result<CeremonyStart, PasskeyError> {
    let webauthn = webauthn_for(rp)?;
    let exclude = exclude
        .iter()
        .map(|id| {
            decode_credential_id(id).ok_or_else(|| {
                PasskeyError::Internal(format!("excluded credential id {id:?} is not base64url"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let exclude = (!exclude.is_empty()).then_some(exclude);
    let (challenge, state) = webauthn
        .start_passkey_registration(user.handle, &user.name, &user.display_name, exclude)
        .map_err(error::start)?;
    let mut options = serde_json::to_value(&challenge)
        .map_err(|e| PasskeyError::Internal(format!("cannot serialise the options: {e}")))?;
    require_resident_key(&mut options)?;
    let state = CeremonyState::Registration {
        rp_id: rp.id.clone(),
        state,
    }
    .encode()?;
    Ok(CeremonyStart { options, state })
}

fn require_resident_key(options: &mut Value) -> Result<(), PasskeyError> {
    let public_key = options
        .get_mut("publicKey")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| PasskeyError::Internal("creation options without publicKey".into()))?;
    let selection = public_key
        .entry("authenticatorSelection")
        .or_insert_with(|| json!({}));
    let selection = selection
        .as_object_mut()
        .ok_or_else(|| PasskeyError::Internal("authenticatorSelection is not an object".into()))?;
    selection.insert("residentKey".into(), json!("required"));
    selection.insert("requireResidentKey".into(), json!(true));
    selection.insert("userVerification".into(), json!("required"));
    Ok(())
}

pub(crate) fn finish(
    rp: &RelyingParty,
    state: &str,
    response: &Value,
) -> Result<RegisteredCredential, PasskeyError> {
    let CeremonyState::Registration { state, .. } = CeremonyState::decode(state, rp)? else {
        return Err(PasskeyError::Internal(
            "not the state of a registration".into(),
        ));
    };
    let webauthn = webauthn_for(rp)?;
    let response: RegisterPublicKeyCredential = serde_json::from_value(response.clone())
        .map_err(|e| error::malformed("registration response", e))?;
    // credProps is the browser's word, unsigned: it can only tell that the credential is
    // *not* discoverable, which would make passwordless sign-in fail later.
    if let Some(false) = response
        .extensions
        .cred_props
        .as_ref()
        .and_then(|props| props.rk)
    {
        return Err(PasskeyError::Refused(
            "the authenticator did not create a discoverable credential".into(),
        ));
    }
    let passkey = webauthn
        .finish_passkey_registration(&response, &state)
        .map_err(error::verification)?;
    let credential: Credential = passkey.clone().into();
    if !credential.user_verified {
        return Err(PasskeyError::Refused(
            "user verification did not happen".into(),
        ));
    }
    let serialised = serde_json::to_string(&passkey)
        .map_err(|e| PasskeyError::Internal(format!("cannot serialise the credential: {e}")))?;
    Ok(RegisteredCredential {
        credential_id: credential_id(&credential.cred_id),
        aaguid: aaguid(&response.response.attestation_object),
        credential: serialised,
        sign_count: credential.counter,
        backup_eligible: credential.backup_eligible,
    })
}

/// The AAGUID in the attested credential data of a verified attestation object:
/// `authData` = rpIdHash (32) ‖ flags (1) ‖ signCount (4) ‖ AAGUID (16) ‖ ... `None` when
/// absent or all zeros (authenticators that do not disclose their model).
fn aaguid(attestation_object: &[u8]) -> Option<Uuid> {
    const ATTESTED_CREDENTIAL_DATA: u8 = 0x40;
    let object: ciborium::Value = ciborium::from_reader(attestation_object).ok()?;
    let auth_data = object
        .as_map()?
        .iter()
        .find(|(key, _)| key.as_text() == Some("authData"))?
        .1
        .as_bytes()?;
    if auth_data.get(32)? & ATTESTED_CREDENTIAL_DATA == 0 {
        return None;
    }
    let aaguid = Uuid::from_slice(auth_data.get(37..53)?).ok()?;
    (!aaguid.is_nil()).then_some(aaguid)
}
