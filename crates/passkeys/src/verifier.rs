//! [`WebauthnVerifier`]: the port's entry point, one `Webauthn` per relying party.

use serde_json::Value;
use tessera_domain::ports::{
    AssertionClaim, CeremonyStart, PasskeyError, PasskeyUser, PasskeyVerifier,
    RegisteredCredential, RelyingParty, VerifiedAssertion,
};
use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::{authentication, registration};

/// The [`PasskeyVerifier`] port on `webauthn-rs`.
///
/// Stateless: the relying party comes with each call and its `Webauthn` is built for that
/// call (hashing the RP ID and parsing the origin: cheaper than any cache lookup would be
/// worth). Only the exact origin of the relying party is accepted (no subdomains, no other
/// port).
#[derive(Clone, Copy, Debug, Default)]
pub struct WebauthnVerifier;

impl WebauthnVerifier {
    pub fn new() -> Self {
        Self
    }
}

/// The `Webauthn` of `rp`. A relying party that cannot be built (an origin that is not a URL,
/// an RP ID that is not the origin's host or a parent domain of it) is a configuration error:
/// `Internal`.
pub(crate) fn webauthn_for(rp: &RelyingParty) -> Result<Webauthn, PasskeyError> {
    let origin = Url::parse(&rp.origin).map_err(|e| {
        PasskeyError::Internal(format!("relying party origin {:?}: {e}", rp.origin))
    })?;
    WebauthnBuilder::new(&rp.id, &origin)
        .and_then(|builder| builder.rp_name(&rp.name).build())
        .map_err(|e| {
            PasskeyError::Internal(format!("relying party {:?} at {:?}: {e}", rp.id, rp.origin))
        })
}

impl PasskeyVerifier for WebauthnVerifier {
    fn start_registration(
        &self,
        rp: &RelyingParty,
        user: &PasskeyUser,
        exclude: &[String],
    ) -> Result<CeremonyStart, PasskeyError> {
        registration::start(rp, user, exclude)
    }

    fn finish_registration(
        &self,
        rp: &RelyingParty,
        state: &str,
        response: &Value,
    ) -> Result<RegisteredCredential, PasskeyError> {
        registration::finish(rp, state, response)
    }

    fn start_authentication(
        &self,
        rp: &RelyingParty,
        credentials: &[String],
    ) -> Result<CeremonyStart, PasskeyError> {
        authentication::start(rp, credentials)
    }

    fn claim(&self, response: &Value) -> Result<AssertionClaim, PasskeyError> {
        authentication::claim(response)
    }

    fn finish_authentication(
        &self,
        rp: &RelyingParty,
        state: &str,
        response: &Value,
        credential: &str,
    ) -> Result<VerifiedAssertion, PasskeyError> {
        authentication::finish(rp, state, response, credential)
    }
}
