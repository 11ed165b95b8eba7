use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rand::RngCore;
use rand::rngs::OsRng;
use zeroize::{Zeroize, Zeroizing};

use crate::CryptoError;

/// Name of the key file inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

const KEY_LEN: usize = 32;

const DECODE_CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, DECODE_CONFIG);
const URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, DECODE_CONFIG);
/// Written to the key file: standard alphabet, padded.
const ENCODE: GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The 32-byte key that protects secrets at rest. Its `Debug` never shows the bytes, and the
/// bytes are zeroed when the key is dropped.
pub struct MasterKey([u8; KEY_LEN]);

/// Where [`MasterKey::load_or_generate`] found the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// From configuration (`security.master_key`).
    Configured,
    /// Read from an existing key file.
    File { path: PathBuf },
    /// Generated on this start and written to `path` (mode 0600). Worth a warning in the log:
    /// losing this file makes every sealed secret unreadable.
    Generated { path: PathBuf },
}

impl MasterKey {
    /// A key from raw bytes (for tests and tools; the server uses [`Self::load_or_generate`]).
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// Parses base64 (standard or URL-safe alphabet, padded or not, surrounding whitespace
    /// ignored) of exactly 32 bytes. The error never contains the input.
    pub fn from_base64(encoded: &str) -> Result<Self, CryptoError> {
        Self::decode(encoded, "security.master_key")
    }

    /// Finds the master key, in this order:
    /// 1. `configured` (the `security.master_key` setting), if `Some`;
    /// 2. the file `{data_dir}/master.key`, if it exists (same format, trailing newline ok);
    /// 3. otherwise 32 fresh random bytes, written to `{data_dir}/master.key` (created with
    ///    mode 0600 on Unix, never overwriting an existing file; `data_dir` is created if
    ///    missing).
    pub fn load_or_generate(
        configured: Option<&str>,
        data_dir: &Path,
    ) -> Result<(MasterKey, KeySource), CryptoError> {
        if let Some(encoded) = configured {
            return Ok((Self::from_base64(encoded)?, KeySource::Configured));
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        if let Some(key) = Self::read_file(&path)? {
            return Ok((key, KeySource::File { path }));
        }
        fs::create_dir_all(data_dir).map_err(|source| CryptoError::CreateDataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let key = Self::generate();
        match key.write_new_file(&path) {
            Ok(()) => Ok((key, KeySource::Generated { path })),
            // Another process created it between our read and our write: use theirs.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => match Self::read_file(&path)? {
                Some(key) => Ok((key, KeySource::File { path })),
                None => Err(CryptoError::WriteKeyFile { path, source: e }),
            },
            Err(source) => Err(CryptoError::WriteKeyFile { path, source }),
        }
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        OsRng.fill_bytes(&mut bytes);
        Self(bytes)
    }

    fn decode(encoded: &str, origin: &str) -> Result<Self, CryptoError> {
        let invalid = |reason: String| CryptoError::InvalidMasterKey {
            origin: origin.to_owned(),
            reason,
        };
        let trimmed = encoded.trim();
        if trimmed.is_empty() {
            return Err(invalid("it is empty".to_owned()));
        }
        let decoded = STANDARD
            .decode(trimmed)
            .or_else(|_| URL_SAFE.decode(trimmed))
            .map(Zeroizing::new)
            .map_err(|_| invalid("it is not valid base64".to_owned()))?;
        let bytes: [u8; KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            invalid(format!(
                "it decodes to {} bytes instead of {KEY_LEN}",
                decoded.len()
            ))
        })?;
        Ok(Self(bytes))
    }

    /// `Ok(None)` if the file does not exist.
    fn read_file(path: &Path) -> Result<Option<Self>, CryptoError> {
        match fs::read_to_string(path) {
            Ok(content) => {
                let content = Zeroizing::new(content);
                Self::decode(&content, &format!("file {}", path.display())).map(Some)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CryptoError::ReadKeyFile {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    fn write_new_file(&self, path: &Path) -> io::Result<()> {
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(path)?;
        let mut line = Zeroizing::new(ENCODE.encode(self.0));
        line.push('\n');
        file.write_all(line.as_bytes())?;
        file.sync_all()?;
        // Best effort: make the new directory entry durable too.
        #[cfg(unix)]
        if let Some(dir) = path.parent() {
            let _ = fs::File::open(dir).and_then(|d| d.sync_all());
        }
        Ok(())
    }
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(********)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn expected() -> [u8; 32] {
        std::array::from_fn(|i| i as u8)
    }

    #[test]
    fn accepts_standard_url_safe_padded_or_not() {
        let url_key: [u8; 32] = [0xfb; 32]; // encodes with '+'/'-' and '/'/'_'
        let std_b64 = base64::engine::general_purpose::STANDARD.encode(url_key);
        let url_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url_key);
        assert!(std_b64.contains('/') || std_b64.contains('+'));
        for input in [
            std_b64.as_str(),
            url_b64.as_str(),
            std_b64.trim_end_matches('='),
        ] {
            assert_eq!(MasterKey::from_base64(input).unwrap().as_bytes(), &url_key);
        }
        for input in [
            KEY_B64,
            KEY_B64.trim_end_matches('='),
            "  AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        ] {
            assert_eq!(
                MasterKey::from_base64(input).unwrap().as_bytes(),
                &expected()
            );
        }
    }

    #[test]
    fn bad_configured_key_is_rejected_without_echoing_it() {
        let short = base64::engine::general_purpose::STANDARD.encode(b"sixteen byte key");
        for bad in ["not*base64!secretvalue", short.as_str(), "", "   "] {
            let dir = tempfile::tempdir().unwrap();
            let err = MasterKey::load_or_generate(Some(bad), dir.path()).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, CryptoError::InvalidMasterKey { .. }), "{msg}");
            if !bad.trim().is_empty() {
                assert!(!msg.contains(bad.trim()), "message echoes the key: {msg}");
            }
            assert!(msg.contains("32"), "{msg}");
            assert!(msg.contains("security.master_key"), "{msg}");
            // A bad configured key never falls back to generating one.
            assert!(!dir.path().join(MASTER_KEY_FILE).exists());
        }
        let msg = MasterKey::from_base64(&short).unwrap_err().to_string();
        assert!(msg.contains("16 bytes"), "{msg}");
    }

    #[test]
    fn generates_then_reads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("nested").join("data");
        let (first, source) = MasterKey::load_or_generate(None, &data_dir).unwrap();
        let path = data_dir.join(MASTER_KEY_FILE);
        assert_eq!(source, KeySource::Generated { path: path.clone() });
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let content = fs::read_to_string(&path).unwrap();
        assert!(content.ends_with('\n'));

        let (second, source) = MasterKey::load_or_generate(None, &data_dir).unwrap();
        assert_eq!(source, KeySource::File { path });
        assert_eq!(first.as_bytes(), second.as_bytes());
    }

    #[test]
    fn configured_key_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (generated, _) = MasterKey::load_or_generate(None, dir.path()).unwrap();
        let (key, source) = MasterKey::load_or_generate(Some(KEY_B64), dir.path()).unwrap();
        assert_eq!(source, KeySource::Configured);
        assert_eq!(key.as_bytes(), &expected());
        assert_ne!(key.as_bytes(), generated.as_bytes());
    }

    #[test]
    fn existing_file_is_read_and_a_corrupt_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MASTER_KEY_FILE);
        fs::write(&path, format!("{KEY_B64}\r\n")).unwrap();
        let (key, source) = MasterKey::load_or_generate(None, dir.path()).unwrap();
        assert_eq!(key.as_bytes(), &expected());
        assert_eq!(source, KeySource::File { path: path.clone() });

        fs::write(&path, "").unwrap();
        let msg = MasterKey::load_or_generate(None, dir.path())
            .unwrap_err()
            .to_string();
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        // The broken file is left alone, never replaced by a new key.
        assert_eq!(fs::read_to_string(&path).unwrap(), "");
    }

    #[test]
    fn debug_does_not_show_the_bytes() {
        let key = MasterKey::from_bytes([0xab; 32]);
        assert_eq!(format!("{key:?}"), "MasterKey(********)");
    }
}
