//! The [`Totp`] port: RFC 6238 time-based one-time passwords with the parameters every
//! authenticator app supports (HMAC-SHA1, 6 digits, 30-second steps), computed by `totp-rs`.

use tessera_domain::ports::Totp;
use totp_rs::{Algorithm, Builder};

/// Digits of a code.
const DIGITS: u8 = 6;
/// Length of a time step in seconds.
const STEP_SECS: u64 = 30;

/// The [`Totp`] port: HMAC-SHA1, 6 digits, 30-second steps (RFC 6238 with the RFC 4226
/// dynamic truncation), and the `otpauth://totp/...` provisioning URI of the Key URI format.
///
/// Stateless: the secret is passed on each call (it is kept sealed at rest by the caller).
#[derive(Clone, Copy, Debug, Default)]
pub struct Rfc6238Totp;

impl Rfc6238Totp {
    fn builder(secret: &[u8]) -> Builder {
        Builder::new()
            .with_algorithm(Algorithm::SHA1)
            .with_digits(DIGITS)
            .with_step_duration(STEP_SECS)
            .with_secret(secret.to_vec())
    }
}

impl Totp for Rfc6238Totp {
    fn step_secs(&self) -> u64 {
        STEP_SECS
    }

    fn code(&self, secret: &[u8], step: u64) -> String {
        // `build_noncompliant` skips only the checks that cannot fail here (digits and step
        // are the constants above) and the 128-bit minimum secret length, which is the
        // caller's (the secret generator's) concern: a code is still computed for a shorter
        // secret, as every authenticator app would.
        Self::builder(secret)
            .build_noncompliant()
            .generate(step.saturating_mul(STEP_SECS))
            .to_string()
    }

    /// `otpauth://totp/{issuer}:{account}?secret={BASE32}&issuer={issuer}&algorithm=SHA1&digits=6&period=30`
    /// with the issuer and account percent-encoded (`totp-rs`). Neither may contain a colon
    /// (the label separator): a colon in either is replaced by a space. An empty account name
    /// is written as `account`; an empty issuer leaves the label as the account alone.
    fn provisioning_uri(&self, secret: &[u8], issuer: &str, account: &str) -> String {
        let account = label_part(account);
        let account = if account.trim().is_empty() {
            "account".to_owned()
        } else {
            account
        };
        let issuer = label_part(issuer);
        let issuer = (!issuer.trim().is_empty()).then_some(issuer);
        let totp = Self::builder(secret)
            .with_issuer(issuer)
            .with_account_name(account)
            .build_noncompliant();
        // `to_url` only fails on an empty account name or a colon, both ruled out above; the
        // fallback keeps the port infallible without a panic path.
        let url = totp.to_url().unwrap_or_else(|_| {
            format!(
                "otpauth://totp/account?secret={}",
                totp.secret().to_base32()
            )
        });
        // `totp-rs` leaves out the parameters that have their default value; some apps only
        // read them when present, so they are always written.
        format!("{url}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}")
    }
}

/// An issuer or account name without the label separator `:`.
fn label_part(value: &str) -> String {
    value.replace(':', " ")
}

#[cfg(test)]
#[path = "totp_tests.rs"]
mod tests;
