//! Tessera's crypto adapter (driven adapter layer).
//!
//! Implements the domain's randomness, sealing, password-hashing, token-signing and
//! keyed-hash ports and owns the master key:
//! - [`OsRandom`]: the [`Random`](tessera_domain::ports::Random) port — UUID v7 identifiers and
//!   secret bytes from the operating system's CSPRNG;
//! - [`MasterKey`]: the 32-byte key that protects secrets at rest, taken from configuration,
//!   from `{data_dir}/master.key`, or generated there on first start
//!   ([`MasterKey::load_or_generate`]);
//! - [`MasterKeySealer`]: the [`SecretSealer`](tessera_domain::ports::SecretSealer) port —
//!   XChaCha20-Poly1305 with a key derived from the master key (HKDF-SHA-256);
//! - [`Argon2Hasher`] (built from [`PasswordHashSettings`]): the
//!   [`PasswordHasher`](tessera_domain::ports::PasswordHasher) port — Argon2id PHC strings on a
//!   bounded pool of workers that answers `Busy` when its queue is full; verifies imported
//!   bcrypt hashes; [`Argon2Hasher::hash_blocking`] is the raw hash for benchmarks;
//! - [`JwtSigner`]: the [`TokenSigner`](tessera_domain::ports::TokenSigner) port — ES256, EdDSA
//!   and RS256 keys (aws-lc-rs), compact JWS verified with `jsonwebtoken` pinned to the key's
//!   algorithm; the server runs [`JwtSigner::self_test`] once at start;
//! - [`HmacKeyedHasher`]: the [`KeyedHasher`](tessera_domain::ports::KeyedHasher) port —
//!   HMAC-SHA-256 under another key derived from the master key;
//! - [`Rfc6238Totp`]: the [`Totp`](tessera_domain::ports::Totp) port — RFC 6238 codes
//!   (HMAC-SHA1, 6 digits, 30 s) and `otpauth://` provisioning URIs, with `totp-rs`.
//!
//! Depends on `tessera-domain` (for the ports), RustCrypto, `rand`, `aws-lc-rs`,
//! `jsonwebtoken`, `bcrypt`, `totp-rs`, and tokio's semaphore and blocking threads (for the
//! hashing pool). It does no logging — the server reports a generated key
//! ([`KeySource::Generated`]) as it sees fit.

mod error;
mod jwt;
mod keyed_hash;
mod master_key;
mod password;
mod random;
mod sealer;
mod totp;

pub use error::CryptoError;
pub use jwt::JwtSigner;
pub use keyed_hash::HmacKeyedHasher;
pub use master_key::{KeySource, MASTER_KEY_FILE, MasterKey};
pub use password::{Argon2Hasher, PasswordHashSettings};
pub use random::OsRandom;
pub use sealer::MasterKeySealer;
pub use totp::Rfc6238Totp;
