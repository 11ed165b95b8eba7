//! The ceremony state handed to the caller between `start_*` and `finish_*`: `webauthn-rs`'s
//! own state, tagged with the kind of ceremony and the RP ID it was started for.

use serde::{Deserialize, Serialize};
use tessera_domain::ports::{PasskeyError, RelyingParty};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration,
};

#[derive(Serialize, Deserialize)]
#[serde(tag = "ceremony", rename_all = "snake_case")]
pub(crate) enum CeremonyState {
    Registration {
        rp_id: String,
        state: PasskeyRegistration,
    },
    /// Restricted to the credentials listed when it started (a known user).
    Authentication {
        rp_id: String,
        state: PasskeyAuthentication,
    },
    /// Any discoverable credential (passwordless): the credential is found from the
    /// assertion's credential id and user handle.
    Discoverable {
        rp_id: String,
        state: DiscoverableAuthentication,
    },
}

impl CeremonyState {
    pub(crate) fn encode(&self) -> Result<String, PasskeyError> {
        serde_json::to_string(self).map_err(|e| {
            PasskeyError::Internal(format!("cannot serialise the ceremony state: {e}"))
        })
    }

    /// Reads a state back and checks it was started for `rp`. A state that does not parse
    /// is `Internal` (the caller keeps states server-side); one started for another relying
    /// party is `Refused`.
    pub(crate) fn decode(state: &str, rp: &RelyingParty) -> Result<Self, PasskeyError> {
        let decoded: Self = serde_json::from_str(state)
            .map_err(|e| PasskeyError::Internal(format!("unreadable ceremony state: {e}")))?;
        if decoded.rp_id() != rp.id {
            return Err(PasskeyError::Refused(format!(
                "the ceremony was started for the relying party {:?}, not {:?}",
                decoded.rp_id(),
                rp.id
            )));
        }
        Ok(decoded)
    }

    fn rp_id(&self) -> &str {
        match self {
            Self::Registration { rp_id, .. }
            | Self::Authentication { rp_id, .. }
            | Self::Discoverable { rp_id, .. } => rp_id,
        }
    }
}
