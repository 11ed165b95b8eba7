use uuid::Uuid;

/// Identifiers and secrets from a cryptographically secure source.
pub trait Random: Send + Sync {
    /// A new time-ordered identifier (UUID v7).
    fn new_id(&self) -> Uuid;
    /// `len` bytes from a CSPRNG.
    fn secret_bytes(&self, len: usize) -> Vec<u8>;
}
