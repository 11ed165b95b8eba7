//! Random secrets and how they are stored.

use crate::app::App;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// Hex SHA-256 of a high-entropy secret (session ids, refresh tokens, tickets): a keyed hash
/// adds nothing when the secret has 256 bits.
pub(crate) fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl App {
    /// A URL-safe secret of `bytes` random bytes.
    pub(crate) fn new_secret(&self, bytes: usize) -> String {
        URL_SAFE_NO_PAD.encode(self.ports.random.secret_bytes(bytes))
    }

    /// A URL-safe random token of `bytes` bytes from the application's CSPRNG port, for
    /// interfaces that need one (CSRF tokens).
    pub fn random_token(&self, bytes: usize) -> String {
        self.new_secret(bytes)
    }

    /// A numeric one-time code of `digits` digits, uniformly drawn (rejection sampling).
    pub(crate) fn new_numeric_code(&self, digits: u32) -> String {
        let modulus = 10u64.pow(digits);
        // The largest multiple of `modulus` below 2^64: values above it would bias the code.
        let limit = u64::MAX - (u64::MAX % modulus);
        loop {
            let bytes = self.ports.random.secret_bytes(8);
            let mut buf = [0u8; 8];
            buf.copy_from_slice(&bytes[..8.min(bytes.len())]);
            let v = u64::from_le_bytes(buf);
            if v < limit {
                return format!("{:0width$}", v % modulus, width = digits as usize);
            }
        }
    }
}
