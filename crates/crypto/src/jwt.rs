//! The [`TokenSigner`] port: compact JWS with ES256, EdDSA (Ed25519) and RS256.
//!
//! Keys are generated and tokens signed with `aws-lc-rs` directly; tokens are verified with
//! `jsonwebtoken` (its `aws_lc_rs` backend), pinned to the key's algorithm.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RSA_PKCS1_SHA256,
    RsaKeyPair,
};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tessera_domain::ports::{GeneratedKey, TokenError, TokenSigner, VerifyingKey};
use tessera_domain::token::SigningAlgorithm;

/// Parsed keys kept per `kid`, up to this many of each kind (then the cache starts over).
const CACHE_CAPACITY: usize = 256;
const P256_COORDINATE_LEN: usize = 32;
const ED25519_KEY_LEN: usize = 32;

/// The [`TokenSigner`] port.
///
/// Parsing a key (an RSA private key above all) costs more than using it, so the parsed
/// signing key pairs and verifying keys are cached per `kid` inside the instance. An entry
/// is only reused for the exact same key material: a different key presented under a
/// known `kid` is parsed anew and replaces the entry.
///
/// `verify` takes the algorithm from the key, never from the token: a header whose `alg`
/// differs (`none`, `HS256` keyed with the public key...) is [`TokenError::WrongAlgorithm`]
/// before any signature check; a header whose `kid` is not the key's is
/// [`TokenError::UnknownKey`]; `typ` is compared case-insensitively, with or without the
/// `application/` prefix. Expiry and the other time claims are left to the caller.
pub struct JwtSigner {
    signing: Mutex<HashMap<String, Arc<SigningEntry>>>,
    verifying: Mutex<HashMap<String, Arc<VerifyingEntry>>>,
}

struct SigningEntry {
    alg: SigningAlgorithm,
    /// SHA-256 of the PKCS#8 document the pair was parsed from.
    fingerprint: [u8; 32],
    pair: PreparedPair,
}

enum PreparedPair {
    Es256(EcdsaKeyPair),
    EdDsa(Ed25519KeyPair),
    Rs256(RsaKeyPair),
}

struct VerifyingEntry {
    alg: SigningAlgorithm,
    jwk: Value,
    key: DecodingKey,
}

impl JwtSigner {
    pub fn new() -> Self {
        Self {
            signing: Mutex::new(HashMap::new()),
            verifying: Mutex::new(HashMap::new()),
        }
    }

    /// Generates a key for each algorithm, signs a token with it and verifies the token (and
    /// that a tampered copy is refused). The server calls this once at start: a
    /// `jsonwebtoken` built without its crypto backend (or with two) only fails at first use.
    pub fn self_test() -> Result<(), TokenError> {
        let signer = Self::new();
        let claims = json!({ "sub": "self-test", "n": 1 });
        for alg in [
            SigningAlgorithm::ES256,
            SigningAlgorithm::EdDSA,
            SigningAlgorithm::RS256,
        ] {
            let failed =
                |what: &str| TokenError::Failed(format!("{} self-test: {what}", alg.as_str()));
            let generated = signer.generate(alg)?;
            let kid = format!("self-test-{}", alg.as_str());
            let token = signer.sign(alg, &generated.private_pkcs8, &kid, "JWT", &claims)?;
            let key = VerifyingKey {
                kid,
                alg,
                public_jwk: generated.public_jwk,
            };
            if signer.verify(&token, &key, "JWT")? != claims {
                return Err(failed("the verified claims differ from the signed ones"));
            }
            let tampered = tamper_signature(&token);
            if signer.verify(&tampered, &key, "JWT") != Err(TokenError::BadSignature) {
                return Err(failed("a tampered signature was not refused"));
            }
        }
        Ok(())
    }

    fn signing_entry(
        &self,
        alg: SigningAlgorithm,
        kid: &str,
        private_pkcs8: &[u8],
    ) -> Result<Arc<SigningEntry>, TokenError> {
        let fingerprint: [u8; 32] = Sha256::digest(private_pkcs8).into();
        {
            let cache = self.signing.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = cache.get(kid)
                && entry.alg == alg
                && entry.fingerprint == fingerprint
            {
                return Ok(Arc::clone(entry));
            }
        }
        let bad_key = || TokenError::Failed(format!("not a PKCS#8 {} private key", alg.as_str()));
        let pair = match alg {
            SigningAlgorithm::ES256 => PreparedPair::Es256(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, private_pkcs8)
                    .map_err(|_| bad_key())?,
            ),
            SigningAlgorithm::EdDSA => PreparedPair::EdDsa(
                Ed25519KeyPair::from_pkcs8(private_pkcs8).map_err(|_| bad_key())?,
            ),
            SigningAlgorithm::RS256 => {
                PreparedPair::Rs256(RsaKeyPair::from_pkcs8(private_pkcs8).map_err(|_| bad_key())?)
            }
        };
        let entry = Arc::new(SigningEntry {
            alg,
            fingerprint,
            pair,
        });
        insert_bounded(&self.signing, kid, Arc::clone(&entry));
        Ok(entry)
    }

    fn verifying_entry(&self, key: &VerifyingKey) -> Result<Arc<VerifyingEntry>, TokenError> {
        {
            let cache = self
                .verifying
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = cache.get(&key.kid)
                && entry.alg == key.alg
                && entry.jwk == key.public_jwk
            {
                return Ok(Arc::clone(entry));
            }
        }
        let entry = Arc::new(VerifyingEntry {
            alg: key.alg,
            jwk: key.public_jwk.clone(),
            key: decoding_key(key.alg, &key.public_jwk)?,
        });
        insert_bounded(&self.verifying, &key.kid, Arc::clone(&entry));
        Ok(entry)
    }
}

impl Default for JwtSigner {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for JwtSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtSigner").finish_non_exhaustive()
    }
}

impl TokenSigner for JwtSigner {
    fn generate(&self, alg: SigningAlgorithm) -> Result<GeneratedKey, TokenError> {
        let failed =
            |what: &str| TokenError::Failed(format!("{} key generation: {what}", alg.as_str()));
        let rng = SystemRandom::new();
        match alg {
            SigningAlgorithm::ES256 => {
                let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                    .map_err(|_| failed("generation failed"))?;
                let pair =
                    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
                        .map_err(|_| failed("the generated key does not parse"))?;
                // Uncompressed point: 0x04 || x || y.
                let point = pair.public_key().as_ref();
                let (x, y) = match point {
                    [0x04, rest @ ..] if rest.len() == 2 * P256_COORDINATE_LEN => {
                        rest.split_at(P256_COORDINATE_LEN)
                    }
                    _ => return Err(failed("unexpected public key encoding")),
                };
                Ok(GeneratedKey {
                    private_pkcs8: pkcs8.as_ref().to_vec(),
                    public_jwk: json!({ "kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y) }),
                })
            }
            SigningAlgorithm::EdDSA => {
                let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
                    .map_err(|_| failed("generation failed"))?;
                let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
                    .map_err(|_| failed("the generated key does not parse"))?;
                Ok(GeneratedKey {
                    private_pkcs8: pkcs8.as_ref().to_vec(),
                    public_jwk: json!({
                        "kty": "OKP",
                        "crv": "Ed25519",
                        "x": b64(pair.public_key().as_ref()),
                    }),
                })
            }
            SigningAlgorithm::RS256 => {
                let pair = RsaKeyPair::generate(KeySize::Rsa2048)
                    .map_err(|_| failed("generation failed"))?;
                let pkcs8 = pair
                    .as_der()
                    .map_err(|_| failed("the key does not encode as PKCS#8"))?;
                let public = pair.public_key();
                Ok(GeneratedKey {
                    private_pkcs8: pkcs8.as_ref().to_vec(),
                    public_jwk: json!({
                        "kty": "RSA",
                        "n": b64(public.modulus().big_endian_without_leading_zero()),
                        "e": b64(public.exponent().big_endian_without_leading_zero()),
                    }),
                })
            }
        }
    }

    fn sign(
        &self,
        alg: SigningAlgorithm,
        private_pkcs8: &[u8],
        kid: &str,
        typ: &str,
        claims: &Value,
    ) -> Result<String, TokenError> {
        let entry = self.signing_entry(alg, kid, private_pkcs8)?;
        let header = json!({ "alg": alg.as_str(), "typ": typ, "kid": kid });
        let encode = |v: &Value| {
            serde_json::to_vec(v)
                .map(|bytes| b64(&bytes))
                .map_err(|e| TokenError::Failed(format!("cannot serialise the token: {e}")))
        };
        let message = format!("{}.{}", encode(&header)?, encode(claims)?);
        let failed = || TokenError::Failed(format!("{} signing failed", alg.as_str()));
        let signature = match &entry.pair {
            PreparedPair::Es256(pair) => pair
                .sign(&SystemRandom::new(), message.as_bytes())
                .map_err(|_| failed())?
                .as_ref()
                .to_vec(),
            PreparedPair::EdDsa(pair) => pair.sign(message.as_bytes()).as_ref().to_vec(),
            PreparedPair::Rs256(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PKCS1_SHA256,
                    &SystemRandom::new(),
                    message.as_bytes(),
                    &mut signature,
                )
                .map_err(|_| failed())?;
                signature
            }
        };
        Ok(format!("{message}.{}", b64(&signature)))
    }

    fn peek_kid(&self, token: &str) -> Result<String, TokenError> {
        let header = RawHeader::parse(token)?;
        header.kid.ok_or(TokenError::UnknownKey)
    }

    fn verify(&self, token: &str, key: &VerifyingKey, typ: &str) -> Result<Value, TokenError> {
        let header = RawHeader::parse(token)?;
        if header.alg.as_deref() != Some(key.alg.as_str()) {
            return Err(TokenError::WrongAlgorithm);
        }
        if header.kid.as_deref() != Some(key.kid.as_str()) {
            return Err(TokenError::UnknownKey);
        }
        match header.typ.as_deref() {
            Some(found) if media_type(found).eq_ignore_ascii_case(media_type(typ)) => {}
            _ => return Err(TokenError::WrongType),
        }
        let entry = self.verifying_entry(key)?;
        let mut validation = Validation::new(jwt_algorithm(key.alg));
        // Time, audience and issuer are the application's to check (it has the clock).
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        jsonwebtoken::decode::<Value>(token, &entry.key, &validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                ErrorKind::InvalidSignature => TokenError::BadSignature,
                ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
                ErrorKind::InvalidToken
                | ErrorKind::Base64(_)
                | ErrorKind::Json(_)
                | ErrorKind::Utf8(_)
                | ErrorKind::InvalidClaimFormat(_) => TokenError::Malformed,
                _ => TokenError::Failed(format!("verification failed: {e}")),
            })
    }
}

/// The header fields that matter, read without verifying anything.
struct RawHeader {
    alg: Option<String>,
    typ: Option<String>,
    kid: Option<String>,
}

impl RawHeader {
    fn parse(token: &str) -> Result<Self, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(_), Some(_), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(header)
            .map_err(|_| TokenError::Malformed)?;
        let Ok(Value::Object(fields)) = serde_json::from_slice::<Value>(&bytes) else {
            return Err(TokenError::Malformed);
        };
        // No extension is understood, so a critical one cannot be honoured (RFC 7515 §4.1.11).
        if fields.contains_key("crit") {
            return Err(TokenError::Malformed);
        }
        let text = |name: &str| -> Result<Option<String>, TokenError> {
            match fields.get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(TokenError::Malformed),
            }
        };
        Ok(Self {
            alg: text("alg")?,
            typ: text("typ")?,
            kid: text("kid")?.filter(|k| !k.is_empty()),
        })
    }
}

/// `typ` may omit the `application/` prefix (RFC 7515 §4.1.9).
fn media_type(typ: &str) -> &str {
    match typ.get(..12) {
        Some(prefix) if prefix.eq_ignore_ascii_case("application/") && !typ[12..].contains('/') => {
            &typ[12..]
        }
        _ => typ,
    }
}

fn jwt_algorithm(alg: SigningAlgorithm) -> Algorithm {
    match alg {
        SigningAlgorithm::ES256 => Algorithm::ES256,
        SigningAlgorithm::EdDSA => Algorithm::EdDSA,
        SigningAlgorithm::RS256 => Algorithm::RS256,
    }
}

/// A `jsonwebtoken` key from the JWK's public components, checked against the algorithm.
fn decoding_key(alg: SigningAlgorithm, jwk: &Value) -> Result<DecodingKey, TokenError> {
    let bad = || TokenError::Failed(format!("the verifying key is not a {} JWK", alg.as_str()));
    let field = |name: &str| jwk.get(name).and_then(Value::as_str).ok_or_else(bad);
    let decoded_len = |name: &str| -> Result<usize, TokenError> {
        URL_SAFE_NO_PAD
            .decode(field(name)?)
            .map(|b| b.len())
            .map_err(|_| bad())
    };
    match alg {
        SigningAlgorithm::ES256 => {
            if field("kty")? != "EC"
                || field("crv")? != "P-256"
                || decoded_len("x")? != P256_COORDINATE_LEN
                || decoded_len("y")? != P256_COORDINATE_LEN
            {
                return Err(bad());
            }
            DecodingKey::from_ec_components(field("x")?, field("y")?).map_err(|_| bad())
        }
        SigningAlgorithm::EdDSA => {
            if field("kty")? != "OKP"
                || field("crv")? != "Ed25519"
                || decoded_len("x")? != ED25519_KEY_LEN
            {
                return Err(bad());
            }
            DecodingKey::from_ed_components(field("x")?).map_err(|_| bad())
        }
        SigningAlgorithm::RS256 => {
            if field("kty")? != "RSA" || decoded_len("n")? < 256 || decoded_len("e")? == 0 {
                return Err(bad());
            }
            DecodingKey::from_rsa_components(field("n")?, field("e")?).map_err(|_| bad())
        }
    }
}

fn insert_bounded<T>(cache: &Mutex<HashMap<String, Arc<T>>>, kid: &str, entry: Arc<T>) {
    let mut cache = cache.lock().unwrap_or_else(PoisonError::into_inner);
    if cache.len() >= CACHE_CAPACITY && !cache.contains_key(kid) {
        cache.clear();
    }
    cache.insert(kid.to_owned(), entry);
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The token with the first character of its signature changed (every bit of that
/// character is significant, unlike the last one's).
fn tamper_signature(token: &str) -> String {
    let Some(dot) = token.rfind('.') else {
        return token.to_owned();
    };
    let (message, signature) = token.split_at(dot + 1);
    let mut chars = signature.chars();
    let replacement = match chars.next() {
        Some('A') => 'B',
        _ => 'A',
    };
    format!("{message}{replacement}{}", chars.as_str())
}

#[cfg(test)]
#[path = "jwt_tests.rs"]
mod tests;
