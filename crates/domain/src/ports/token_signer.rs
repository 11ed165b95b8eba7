use crate::token::SigningAlgorithm;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not a compact JWS, or its header or claims do not parse.
    #[error("the token is malformed")]
    Malformed,
    /// The header names no key we know (or no `kid`).
    #[error("the token was signed with an unknown key")]
    UnknownKey,
    /// The header's `alg` is not the key's algorithm (`none`, HS256 with a public key...).
    #[error("the token's algorithm is not the key's")]
    WrongAlgorithm,
    /// The header's `typ` is not the expected one.
    #[error("the token has the wrong type")]
    WrongType,
    #[error("the token's signature does not verify")]
    BadSignature,
    #[error("signing failed: {0}")]
    Failed(String),
}

/// A newly generated key pair.
pub struct GeneratedKey {
    /// PKCS#8 DER of the private key (to be sealed before it is stored).
    pub private_pkcs8: Vec<u8>,
    /// The public key as a JWK (`kty` and its parameters; the caller adds `kid`, `alg`, `use`).
    pub public_jwk: serde_json::Value,
}

/// A public key a token may be verified with.
#[derive(Clone, Debug)]
pub struct VerifyingKey {
    pub kid: String,
    pub alg: SigningAlgorithm,
    pub public_jwk: serde_json::Value,
}

/// JWS signing and verification (compact serialisation).
pub trait TokenSigner: Send + Sync {
    fn generate(&self, alg: SigningAlgorithm) -> Result<GeneratedKey, TokenError>;
    /// Signs `claims` with header `{alg, typ, kid}`.
    fn sign(
        &self,
        alg: SigningAlgorithm,
        private_pkcs8: &[u8],
        kid: &str,
        typ: &str,
        claims: &serde_json::Value,
    ) -> Result<String, TokenError>;
    /// The `kid` of a token's header, without verifying anything.
    fn peek_kid(&self, token: &str) -> Result<String, TokenError>;
    /// Verifies the signature with `key` (the algorithm is the key's, never the header's),
    /// checks the header's `typ` equals `typ` (case-insensitively), and returns the claims.
    /// Time claims are left to the caller (it has the clock).
    fn verify(
        &self,
        token: &str,
        key: &VerifyingKey,
        typ: &str,
    ) -> Result<serde_json::Value, TokenError>;
}
