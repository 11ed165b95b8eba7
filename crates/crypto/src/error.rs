use std::path::PathBuf;

/// Why the master key could not be loaded, generated or used.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The configured key or the key file does not hold base64 of exactly 32 bytes. The
    /// message never contains the key material.
    #[error(
        "invalid master key ({origin}): {reason}; expected base64 (standard or URL-safe \
         alphabet, padding optional) of exactly 32 random bytes, for example the output of \
         `openssl rand -base64 32`"
    )]
    InvalidMasterKey {
        /// Where the key came from (`security.master_key` or the key file's path).
        origin: String,
        /// What is wrong with it, without echoing it.
        reason: String,
    },
    /// The data directory could not be created.
    #[error("cannot create the data directory {}: {source}", path.display())]
    CreateDataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The key file exists but could not be read.
    #[error("cannot read the master key file {}: {source}", path.display())]
    ReadKeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A generated key could not be written.
    #[error("cannot write the master key file {}: {source}", path.display())]
    WriteKeyFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Deriving a subkey from the master key failed (cannot happen for the lengths used).
    #[error("cannot derive a key from the master key")]
    KeyDerivation,
    /// The password hashing settings are not usable (Argon2 bounds, no worker).
    #[error("invalid password hashing settings: {0}")]
    InvalidPasswordHashSettings(String),
}
