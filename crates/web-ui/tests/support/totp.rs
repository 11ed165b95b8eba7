//! An authenticator app for the tests: RFC 6238 codes (HMAC-SHA1, 6 digits, 30 s) of the key a
//! page shows, computed by the crypto crate's TOTP. A time step is accepted once by the server
//! (and never one before the last accepted), so every code handed out is of a later step than
//! the previous one, within the server's window (the current step ±1).
#![allow(dead_code, clippy::disallowed_methods)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tessera_domain::ports::Totp;

/// RFC 4648 base32 (spaces ignored, no padding needed).
pub fn decode_base32(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = Vec::new();
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for c in text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'=')
    {
        let value = ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
            .unwrap_or_else(|| panic!("not base32: {c}")) as u32;
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

fn current_step() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        / 30
}

/// The authenticator app of one account.
pub struct Authenticator {
    secret: Vec<u8>,
    last: Option<u64>,
}

impl Authenticator {
    /// From the key as a page shows it (base32, in groups).
    pub fn new(shown_key: &str) -> Self {
        let secret = decode_base32(shown_key);
        assert!(secret.len() >= 16, "a short key: {shown_key}");
        Self { secret, last: None }
    }

    /// A code the server accepts now: the current step, or the one after the last used
    /// (waiting when that one is not yet within the server's window).
    pub async fn next_code(&mut self) -> String {
        loop {
            let now = current_step();
            let step = match self.last {
                Some(last) if last >= now => last + 1,
                _ => now,
            };
            if step <= now + 1 {
                self.last = Some(step);
                return tessera_crypto::Rfc6238Totp.code(&self.secret, step);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}
