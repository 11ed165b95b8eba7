//! Passwords: the plaintext as a parsed value (NFKC-normalised, never truncated, never
//! case-folded), the per-tenant policy it must satisfy, and the stored credential (a PHC
//! string, Argon2id, or an imported bcrypt hash that is upgraded at the first sign-in).

use crate::{TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::OffsetDateTime;
use unicode_normalization::UnicodeNormalization;

/// The most common and breached passwords, one per line, lower-cased (see
/// `data/README.md` for where the list comes from).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

/// Hard cap on what is accepted as a password at all, before any policy: hashing a
/// multi-megabyte "password" is a denial of service, not a credential.
pub const PASSWORD_MAX_BYTES: usize = 4096;

/// A plaintext password: NFKC-normalised, otherwise exactly as typed. Its `Debug` never
/// shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Accepts any non-empty input up to [`PASSWORD_MAX_BYTES`]; the tenant's policy is
    /// checked separately (sign-in must work for passwords set under an older policy).
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        if raw.is_empty() {
            return Err(ValidationError::new(
                "password",
                "password_required",
                "a password is required",
            ));
        }
        if raw.len() > PASSWORD_MAX_BYTES {
            return Err(ValidationError::new(
                "password",
                "password_too_long",
                format!("a password has at most {PASSWORD_MAX_BYTES} bytes"),
            ));
        }
        Ok(Self(raw.nfkc().collect()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn char_count(&self) -> usize {
        self.0.chars().count()
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A tenant's password rules. No composition rules by default (NIST SP 800-63B).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicy {
    /// Minimum length in characters (after NFKC normalisation).
    pub min_length: u32,
    /// Maximum length in characters; never below 128.
    pub max_length: u32,
    /// A new password may not equal any of the last `history` ones (0: no history).
    pub history: u32,
    /// Refuse the bundled list of common and breached passwords.
    pub refuse_common: bool,
    /// Optional composition rules (off by default).
    pub require_digit: bool,
    pub require_symbol: bool,
    pub require_mixed_case: bool,
}

impl Default for PasswordPolicy {
    fn default() -> Self {
        Self {
            min_length: 12,
            max_length: 128,
            history: 3,
            refuse_common: true,
            require_digit: false,
            require_symbol: false,
            require_mixed_case: false,
        }
    }
}

/// The smallest maximum length a tenant may configure.
pub const MIN_MAX_LENGTH: u32 = 128;

impl PasswordPolicy {
    /// Checks the policy itself (tenant settings).
    pub fn validate(&self) -> Result<(), ValidationError> {
        let field = "settings.auth.password";
        if self.min_length == 0 || self.min_length > self.max_length {
            return Err(ValidationError::new(
                field,
                "invalid_policy",
                "min_length must be at least 1 and not above max_length",
            ));
        }
        if self.max_length < MIN_MAX_LENGTH || self.max_length as usize > PASSWORD_MAX_BYTES {
            return Err(ValidationError::new(
                field,
                "invalid_policy",
                format!("max_length must be between {MIN_MAX_LENGTH} and {PASSWORD_MAX_BYTES}"),
            ));
        }
        if self.history > 24 {
            return Err(ValidationError::new(
                field,
                "invalid_policy",
                "history keeps at most 24 passwords",
            ));
        }
        Ok(())
    }

    /// Checks a new password against the rules. `personal` are values the password must not
    /// equal (username, email addresses), compared case-insensitively. The history is
    /// checked by the caller (it needs the hasher).
    pub fn check(&self, password: &Password, personal: &[&str]) -> Result<(), ValidationError> {
        let bad = |code: &'static str, message: String| {
            Err(ValidationError::new("password", code, message))
        };
        let len = password.char_count();
        if len < self.min_length as usize {
            return bad(
                "password_too_short",
                format!("a password has at least {} characters", self.min_length),
            );
        }
        if len > self.max_length as usize {
            return bad(
                "password_too_long",
                format!("a password has at most {} characters", self.max_length),
            );
        }
        let lower = password.expose().to_lowercase();
        if personal
            .iter()
            .any(|p| !p.is_empty() && p.to_lowercase() == lower)
        {
            return bad(
                "password_personal",
                "the password may not be your username or email address".to_owned(),
            );
        }
        if self.refuse_common && is_common(&lower) {
            return bad(
                "password_common",
                "this password is one of the most common or breached passwords; choose another"
                    .to_owned(),
            );
        }
        let pw = password.expose();
        if self.require_digit && !pw.chars().any(|c| c.is_numeric()) {
            return bad(
                "password_composition",
                "the password must contain a digit".to_owned(),
            );
        }
        if self.require_symbol && pw.chars().all(char::is_alphanumeric) {
            return bad(
                "password_composition",
                "the password must contain a symbol".to_owned(),
            );
        }
        if self.require_mixed_case
            && !(pw.chars().any(char::is_uppercase) && pw.chars().any(char::is_lowercase))
        {
            return bad(
                "password_composition",
                "the password must mix upper- and lower-case letters".to_owned(),
            );
        }
        Ok(())
    }
}

/// Whether the lower-cased password is on the bundled list.
fn is_common(lower: &str) -> bool {
    COMMON_PASSWORDS.lines().any(|l| l == lower)
}

/// How a stored hash was computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashScheme {
    Argon2id,
    /// Imported from another system; verified once, then replaced by Argon2id.
    Bcrypt,
    Unknown,
}

impl HashScheme {
    pub fn of(hash: &str) -> Self {
        if hash.starts_with("$argon2id$") {
            Self::Argon2id
        } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
            Self::Bcrypt
        } else {
            Self::Unknown
        }
    }
}

/// A user's password as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordCredential {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// PHC string (`$argon2id$...`) or an imported bcrypt hash (`$2b$...`).
    pub hash: String,
    /// Earlier hashes, newest first (at most the policy's `history`).
    pub history: Vec<String>,
    pub changed_at: OffsetDateTime,
}

impl fmt::Debug for PasswordCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordCredential")
            .field("tenant_id", &self.tenant_id)
            .field("user_id", &self.user_id)
            .field("scheme", &HashScheme::of(&self.hash))
            .field("history", &self.history.len())
            .field("changed_at", &self.changed_at)
            .finish()
    }
}

impl PasswordCredential {
    /// The credential after a change to `new_hash`, keeping `keep` earlier hashes.
    #[must_use]
    pub fn changed(&self, new_hash: String, keep: u32, at: OffsetDateTime) -> Self {
        let mut history = Vec::with_capacity(keep as usize);
        if keep > 0 {
            history.push(self.hash.clone());
            history.extend(self.history.iter().cloned());
            history.truncate(keep as usize);
        }
        Self {
            tenant_id: self.tenant_id,
            user_id: self.user_id,
            hash: new_hash,
            history,
            changed_at: at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfkc_but_no_case_folding_or_truncation() {
        let a = Password::parse("ｐａｓｓｗｏｒｄ").unwrap();
        assert_eq!(a.expose(), "password");
        assert_ne!(
            Password::parse("Secret").unwrap(),
            Password::parse("secret").unwrap()
        );
        let long = "x".repeat(200);
        assert_eq!(Password::parse(&long).unwrap().expose().len(), 200);
        assert!(Password::parse("").is_err());
        assert!(Password::parse(&"y".repeat(PASSWORD_MAX_BYTES + 1)).is_err());
        assert_eq!(format!("{a:?}"), "Password(***)");
    }

    #[test]
    fn policy() {
        let p = PasswordPolicy::default();
        let check = |s: &str| {
            p.check(&Password::parse(s).unwrap(), &["alice"])
                .map_err(|e| e.code)
        };
        assert_eq!(check("short"), Err("password_too_short"));
        assert_eq!(check(&"a".repeat(129)), Err("password_too_long"));
        assert!(check("correct horse battery").is_ok());
        assert_eq!(check("ALICEALICEAL").ok(), Some(()));
        let p2 = PasswordPolicy {
            min_length: 5,
            ..PasswordPolicy::default()
        };
        assert_eq!(
            p2.check(&Password::parse("Alice").unwrap(), &["alice"])
                .unwrap_err()
                .code,
            "password_personal"
        );
        assert!(
            PasswordPolicy {
                max_length: 64,
                ..PasswordPolicy::default()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn common_passwords_are_refused() {
        let p = PasswordPolicy {
            min_length: 8,
            ..PasswordPolicy::default()
        };
        let e = p
            .check(&Password::parse("Password123!").unwrap(), &[])
            .unwrap_err();
        assert_eq!(e.code, "password_common");
    }

    #[test]
    fn schemes() {
        assert_eq!(
            HashScheme::of("$argon2id$v=19$m=19456"),
            HashScheme::Argon2id
        );
        assert_eq!(HashScheme::of("$2b$12$abc"), HashScheme::Bcrypt);
        assert_eq!(HashScheme::of("plain"), HashScheme::Unknown);
    }
}
