use rand::RngCore;
use rand::rngs::OsRng;
use tessera_domain::ports::Random;
use uuid::Uuid;

/// The [`Random`] port backed by the operating system's CSPRNG.
#[derive(Debug, Clone, Copy, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    #[allow(clippy::disallowed_methods)] // this adapter implements the Random port
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }

    fn secret_bytes(&self, len: usize) -> Vec<u8> {
        let mut bytes = vec![0u8; len];
        OsRng.fill_bytes(&mut bytes);
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_increase() {
        let a = OsRandom.new_id();
        let b = OsRandom.new_id();
        assert_eq!(a.get_version_num(), 7);
        assert_ne!(a, b);
        assert!(a < b, "UUID v7 are time-ordered");
    }

    #[test]
    fn secret_bytes_have_the_requested_length_and_differ() {
        assert!(OsRandom.secret_bytes(0).is_empty());
        let a = OsRandom.secret_bytes(32);
        let b = OsRandom.secret_bytes(32);
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
