/// A keyed hash (HMAC with a key derived from the master key) for low-entropy secrets such
/// as one-time codes: a copy of the database alone does not let anyone test guesses.
pub trait KeyedHasher: Send + Sync {
    /// Hex HMAC of `data` under the key for `purpose`.
    fn keyed_hash(&self, purpose: &str, data: &[u8]) -> String;
}
