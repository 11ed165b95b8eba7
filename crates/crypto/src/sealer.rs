use std::fmt;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use rand::rngs::OsRng;
use sha2::Sha256;
use tessera_domain::ports::{SealError, SecretSealer};
use zeroize::Zeroizing;

use crate::{CryptoError, MasterKey};

/// Format version written as the first byte of every sealed value.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;
/// HKDF `info`: separates the sealing key from any other key derived from the master key.
const SEAL_KEY_INFO: &[u8] = b"tessera/seal/v1";

/// The [`SecretSealer`] port: XChaCha20-Poly1305 under a key derived from the master key with
/// HKDF-SHA-256 (`info` = `tessera/seal/v1`).
///
/// Sealed format: `0x01` ‖ 24-byte random nonce ‖ ciphertext ‖ 16-byte tag; the `context` is
/// the AEAD associated data, so a value only opens under the context it was sealed with.
pub struct MasterKeySealer {
    aead: XChaCha20Poly1305,
}

impl MasterKeySealer {
    /// Derives the sealing key from `master_key`. The derivation cannot fail for the lengths
    /// used; the `Result` only avoids a panic path.
    pub fn new(master_key: &MasterKey) -> Result<Self, CryptoError> {
        let hkdf = Hkdf::<Sha256>::new(None, master_key.as_bytes());
        let mut okm = Zeroizing::new([0u8; 32]);
        hkdf.expand(SEAL_KEY_INFO, okm.as_mut())
            .map_err(|_| CryptoError::KeyDerivation)?;
        let aead = XChaCha20Poly1305::new(Key::from_slice(okm.as_ref()));
        Ok(Self { aead })
    }
}

impl SecretSealer for MasterKeySealer {
    fn seal(&self, plaintext: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let ciphertext = self
            .aead
            .encrypt(
                &nonce,
                Payload {
                    msg: plaintext,
                    aad: context,
                },
            )
            .map_err(|_| SealError::Failed)?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        sealed.push(VERSION);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(sealed)
    }

    fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Vec<u8>, SealError> {
        let Some((&version, rest)) = sealed.split_first() else {
            return Err(SealError::Corrupt);
        };
        if version != VERSION || rest.len() < NONCE_LEN + TAG_LEN {
            return Err(SealError::Corrupt);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.aead
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context,
                },
            )
            .map_err(|_| SealError::Corrupt)
    }
}

impl fmt::Debug for MasterKeySealer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKeySealer(********)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONTEXT: &[u8] = b"tenant/0190c0de-0000-7000-8000-000000000001/smtp_password";

    fn sealer(byte: u8) -> MasterKeySealer {
        MasterKeySealer::new(&MasterKey::from_bytes([byte; 32])).unwrap()
    }

    #[test]
    fn round_trip() {
        let s = sealer(1);
        for plaintext in [&b""[..], b"hunter2", &[0u8; 4096]] {
            let sealed = s.seal(plaintext, CONTEXT).unwrap();
            assert_eq!(sealed.len(), 1 + NONCE_LEN + plaintext.len() + TAG_LEN);
            assert_eq!(sealed[0], VERSION);
            assert_eq!(s.open(&sealed, CONTEXT).unwrap(), plaintext);
        }
    }

    #[test]
    fn sealing_twice_gives_different_ciphertexts() {
        let s = sealer(1);
        let a = s.seal(b"same", CONTEXT).unwrap();
        let b = s.seal(b"same", CONTEXT).unwrap();
        assert_ne!(a, b);
        assert_ne!(a[1..1 + NONCE_LEN], b[1..1 + NONCE_LEN]);
    }

    #[test]
    fn flipping_any_byte_is_corrupt() {
        let s = sealer(1);
        let sealed = s.seal(b"attack at dawn", CONTEXT).unwrap();
        for i in 0..sealed.len() {
            for mask in [0x01, 0x80, 0xff] {
                let mut tampered = sealed.clone();
                tampered[i] ^= mask;
                assert!(
                    matches!(s.open(&tampered, CONTEXT), Err(SealError::Corrupt)),
                    "byte {i} mask {mask:#x}"
                );
            }
        }
    }

    #[test]
    fn wrong_context_is_corrupt() {
        let s = sealer(1);
        let sealed = s.seal(b"secret", CONTEXT).unwrap();
        for other in [
            &b""[..],
            b"tenant/other/smtp_password",
            &CONTEXT[..CONTEXT.len() - 1],
        ] {
            assert!(matches!(s.open(&sealed, other), Err(SealError::Corrupt)));
        }
    }

    #[test]
    fn another_key_is_corrupt() {
        let sealed = sealer(1).seal(b"secret", CONTEXT).unwrap();
        assert!(matches!(
            sealer(2).open(&sealed, CONTEXT),
            Err(SealError::Corrupt)
        ));
    }

    #[test]
    fn truncated_or_extended_input_is_corrupt() {
        let s = sealer(1);
        let sealed = s.seal(b"secret", CONTEXT).unwrap();
        for len in 0..sealed.len() {
            assert!(
                matches!(s.open(&sealed[..len], CONTEXT), Err(SealError::Corrupt)),
                "len {len}"
            );
        }
        let mut extended = sealed.clone();
        extended.push(0);
        assert!(matches!(
            s.open(&extended, CONTEXT),
            Err(SealError::Corrupt)
        ));
    }

    #[test]
    fn sealing_key_is_derived_not_the_master_key() {
        // Sealing directly under the raw master key must not open with the sealer.
        let raw = XChaCha20Poly1305::new(Key::from_slice(&[1u8; 32]));
        let nonce = XNonce::from_slice(&[0u8; NONCE_LEN]);
        let ct = raw
            .encrypt(
                nonce,
                Payload {
                    msg: b"x",
                    aad: CONTEXT,
                },
            )
            .unwrap();
        let mut sealed = vec![VERSION];
        sealed.extend_from_slice(nonce);
        sealed.extend_from_slice(&ct);
        assert!(matches!(
            sealer(1).open(&sealed, CONTEXT),
            Err(SealError::Corrupt)
        ));
    }

    #[test]
    fn debug_does_not_show_key_material() {
        assert_eq!(format!("{:?}", sealer(1)), "MasterKeySealer(********)");
    }
}
