//! Opaque cursors for clients: base64url of the JSON of a domain [`Cursor`].

use crate::error::Error;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use tessera_domain::ValidationError;
use tessera_domain::paging::Cursor;

pub fn encode_cursor(cursor: &Cursor) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(cursor).unwrap_or_default())
}

pub fn decode_cursor(raw: &str) -> Result<Cursor, Error> {
    let invalid = || {
        Error::invalid(ValidationError::new(
            "cursor",
            "invalid_cursor",
            "the cursor is not one this API returned",
        ))
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
    serde_json::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let c = Cursor {
            key: "2026-01-01".into(),
            id: "x".into(),
        };
        assert_eq!(decode_cursor(&encode_cursor(&c)).unwrap(), c);
        assert!(decode_cursor("not-a-cursor!").is_err());
        assert!(decode_cursor("e30").is_err()); // "{}"
    }
}
