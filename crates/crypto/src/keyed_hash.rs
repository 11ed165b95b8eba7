use std::fmt;

use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tessera_domain::ports::KeyedHasher;
use zeroize::Zeroizing;

use crate::{CryptoError, MasterKey};

/// HKDF `info`: separates the keyed-hash key from the sealing key and any other subkey.
const KEYED_HASH_INFO: &[u8] = b"tessera/keyed-hash/v1";

/// The [`KeyedHasher`] port: HMAC-SHA-256 under a key derived from the master key with
/// HKDF-SHA-256 (`info` = `tessera/keyed-hash/v1`), as lowercase hex.
///
/// The MAC input is `len(purpose)` (8 bytes, big-endian) ‖ `purpose` ‖ `data`, so that two
/// purposes never produce the same hash for the same data and a purpose cannot run into
/// the data.
#[derive(Clone)]
pub struct HmacKeyedHasher {
    mac: Hmac<Sha256>,
}

impl HmacKeyedHasher {
    /// Derives the HMAC key from `master_key`. The derivation cannot fail for the lengths
    /// used; the `Result` only avoids a panic path.
    pub fn new(master_key: &MasterKey) -> Result<Self, CryptoError> {
        let hkdf = Hkdf::<Sha256>::new(None, master_key.as_bytes());
        let mut okm = Zeroizing::new([0u8; 32]);
        hkdf.expand(KEYED_HASH_INFO, okm.as_mut())
            .map_err(|_| CryptoError::KeyDerivation)?;
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(okm.as_ref())
            .map_err(|_| CryptoError::KeyDerivation)?;
        Ok(Self { mac })
    }
}

impl KeyedHasher for HmacKeyedHasher {
    fn keyed_hash(&self, purpose: &str, data: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(&(purpose.len() as u64).to_be_bytes());
        mac.update(purpose.as_bytes());
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for HmacKeyedHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("HmacKeyedHasher(********)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher(byte: u8) -> HmacKeyedHasher {
        HmacKeyedHasher::new(&MasterKey::from_bytes([byte; 32])).unwrap()
    }

    #[test]
    fn deterministic_hex_sha256() {
        let h = hasher(1);
        let a = h.keyed_hash("email_code", b"123456");
        assert_eq!(a, h.keyed_hash("email_code", b"123456"));
        assert_eq!(a, hasher(1).keyed_hash("email_code", b"123456"));
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(a, h.keyed_hash("email_code", b"123457"));
    }

    #[test]
    fn differs_by_purpose() {
        let h = hasher(1);
        assert_ne!(
            h.keyed_hash("email_code", b"123456"),
            h.keyed_hash("reset_code", b"123456")
        );
        // The purpose cannot run into the data.
        assert_ne!(h.keyed_hash("ab", b"c"), h.keyed_hash("a", b"bc"));
        assert_ne!(h.keyed_hash("", b"x"), h.keyed_hash("x", b""));
    }

    #[test]
    fn differs_by_master_key() {
        assert_ne!(
            hasher(1).keyed_hash("email_code", b"123456"),
            hasher(2).keyed_hash("email_code", b"123456")
        );
    }

    #[test]
    fn key_is_derived_not_the_master_key_nor_the_sealing_key() {
        let master = [1u8; 32];
        let expected = hasher(1).keyed_hash("p", b"d");
        let mut input = 1u64.to_be_bytes().to_vec();
        input.extend_from_slice(b"pd");
        let raw = |key: &[u8]| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
            mac.update(&input);
            hex::encode(mac.finalize().into_bytes())
        };
        assert_ne!(expected, raw(&master));
        let mut seal_key = [0u8; 32];
        Hkdf::<Sha256>::new(None, &master)
            .expand(b"tessera/seal/v1", &mut seal_key)
            .unwrap();
        assert_ne!(expected, raw(&seal_key));
        let mut ours = [0u8; 32];
        Hkdf::<Sha256>::new(None, &master)
            .expand(KEYED_HASH_INFO, &mut ours)
            .unwrap();
        assert_eq!(expected, raw(&ours));
    }

    #[test]
    fn debug_does_not_show_key_material() {
        assert_eq!(format!("{:?}", hasher(1)), "HmacKeyedHasher(********)");
    }
}
