//! Native authentication: registration, sign-in, passwords, one-time codes, recovery,
//! identifiers, sessions, signed tokens and brute-force defence. One file per area.

pub(crate) mod assurance;
pub(crate) mod codes;
pub(crate) mod devices;
pub(crate) mod history;
pub(crate) mod identifiers;
pub(crate) mod import;
pub(crate) mod keyring;
pub(crate) mod passkeys;
pub(crate) mod passwordless;
pub(crate) mod passwords;
pub(crate) mod recovery;
pub(crate) mod registration;
pub(crate) mod second_factor;
pub(crate) mod secrets;
pub(crate) mod sessions;
pub(crate) mod signin;
pub(crate) mod throttle;
pub(crate) mod tokens;
pub(crate) mod totp;
