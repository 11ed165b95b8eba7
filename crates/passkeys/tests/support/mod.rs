//! The relying party the tests use; the software authenticator comes from `tessera-softkey`.
#![allow(dead_code)]

use tessera_domain::ports::{PasskeyUser, RelyingParty};
pub use tessera_softkey::*;
use url::Url;
use uuid::Uuid;

pub const RP_ID: &str = "example.com";
pub const ORIGIN: &str = "https://id.example.com";

pub fn rp() -> RelyingParty {
    RelyingParty {
        id: RP_ID.into(),
        origin: ORIGIN.into(),
        name: "Tessera".into(),
    }
}

pub fn user(handle: u128) -> PasskeyUser {
    PasskeyUser {
        handle: Uuid::from_u128(handle),
        name: "alice@example.com".into(),
        display_name: "Alice".into(),
    }
}

pub fn origin() -> Url {
    Url::parse(ORIGIN).unwrap()
}
