use crate::credential::Password;
use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// Every hashing worker is busy and the queue is full: the caller should answer
    /// "try again later" instead of waiting.
    #[error("the password hashing pool is saturated")]
    Busy,
    /// The stored hash cannot be read (corrupt, unknown scheme).
    #[error("the stored password hash is not usable: {0}")]
    BadHash(String),
    #[error("password hashing failed: {0}")]
    Failed(String),
}

/// Password hashing on a bounded pool of workers, so that a storm of sign-ins never stalls
/// other requests.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// An Argon2id PHC string with the deployment's parameters and a fresh salt.
    async fn hash(&self, password: &Password) -> Result<String, HashError>;
    /// Whether `password` matches `hash` (Argon2id PHC, or an imported bcrypt hash; a bcrypt
    /// hash never matches a password longer than 72 bytes, since bcrypt would only compare
    /// its prefix).
    async fn verify(&self, password: &Password, hash: &str) -> Result<bool, HashError>;
    /// Costs the same as verifying a wrong password against a real hash: called when the
    /// account does not exist, so that timing does not reveal it.
    async fn verify_dummy(&self, password: &Password);
    /// Whether a verified hash should be replaced (bcrypt, or Argon2id with other
    /// parameters than the deployment's).
    fn needs_rehash(&self, hash: &str) -> bool;
}
