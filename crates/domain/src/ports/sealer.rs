/// Why a sealed secret could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// The ciphertext was altered, belongs to another context or another master key.
    #[error("the sealed secret is corrupt or was sealed with another key or context")]
    Corrupt,
    #[error("sealing failed")]
    Failed,
}

/// Encrypts secrets at rest with the master key (authenticated encryption). `context` binds a
/// ciphertext to where it is stored (for example `tenant/<id>/smtp_password`), so that a
/// ciphertext copied to another row does not open.
pub trait SecretSealer: Send + Sync {
    /// MUST return a fresh ciphertext (random nonce) for every call.
    fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError>;
    /// MUST return `Corrupt` if the ciphertext or context was altered.
    fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError>;
}
