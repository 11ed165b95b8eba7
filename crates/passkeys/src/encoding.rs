//! Credential ids as the port carries them: base64url without padding.

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};

pub(crate) fn credential_id(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// Decodes a base64url credential id, with or without padding.
pub(crate) fn decode_credential_id(id: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(id)
        .or_else(|_| URL_SAFE.decode(id))
        .ok()
}
