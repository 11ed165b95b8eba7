//! Tessera's crypto adapter (driven adapter layer).
//!
//! Implements the domain's randomness and sealing ports and owns the master key:
//! - [`OsRandom`]: the [`Random`](tessera_domain::ports::Random) port — UUID v7 identifiers and
//!   secret bytes from the operating system's CSPRNG;
//! - [`MasterKey`]: the 32-byte key that protects secrets at rest, taken from configuration,
//!   from `{data_dir}/master.key`, or generated there on first start
//!   ([`MasterKey::load_or_generate`]);
//! - [`MasterKeySealer`]: the [`SecretSealer`](tessera_domain::ports::SecretSealer) port —
//!   XChaCha20-Poly1305 with a key derived from the master key (HKDF-SHA-256).
//!
//! Depends on `tessera-domain` (for the ports) and on RustCrypto / `rand` only; it does no
//! logging — the server reports a generated key ([`KeySource::Generated`]) as it sees fit.

mod error;
mod master_key;
mod random;
mod sealer;

pub use error::CryptoError;
pub use master_key::{KeySource, MASTER_KEY_FILE, MasterKey};
pub use random::OsRandom;
pub use sealer::MasterKeySealer;
