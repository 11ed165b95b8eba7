//! User identifiers: username, email address, phone number. Each is parsed once into a
//! normalised form; the normalised form is what uniqueness is checked on.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// A username: NFKC-normalised, compared case-insensitively (lower-cased key).
/// 1-64 characters; letters, digits and `.`, `_`, `-`, `@`; no leading or trailing punctuation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username {
    display: String,
    key: String,
}

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let display: String = raw.trim().nfkc().collect();
        let count = display.chars().count();
        if count == 0 || count > 64 {
            return Err(ValidationError::new(
                "username",
                "invalid_username",
                "a username has 1 to 64 characters",
            ));
        }
        let allowed = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@');
        if !display.chars().all(allowed) {
            return Err(ValidationError::new(
                "username",
                "invalid_username",
                "a username may contain letters, digits and . _ - @ only",
            ));
        }
        let edge_ok = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
        if !edge_ok(display.chars().next()) || !edge_ok(display.chars().last()) {
            return Err(ValidationError::new(
                "username",
                "invalid_username",
                "a username starts and ends with a letter or a digit",
            ));
        }
        let key = display.to_lowercase().nfkc().collect();
        Ok(Self { display, key })
    }

    /// The form shown to people (as entered, normalised).
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The case-folded form uniqueness is checked on.
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl TryFrom<String> for Username {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Username> for String {
    fn from(value: Username) -> Self {
        value.display
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

/// An email address: syntax checked (RFC 5322 addr-spec), NFC-normalised; uniqueness is on the
/// lower-cased form (`key`), while the address keeps the case it was given for display.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email {
    address: String,
    key: String,
}

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let address: String = raw.trim().nfc().collect();
        let invalid = |message: &str| ValidationError::new("email", "invalid_email", message);
        if address.len() > 254 {
            return Err(invalid("an email address has at most 254 characters"));
        }
        let parsed = email_address::EmailAddress::parse_with_options(
            &address,
            email_address::Options::default().without_display_text(),
        )
        .map_err(|e| invalid(&format!("not a valid email address: {e}")))?;
        let domain = parsed.domain();
        if !domain.contains('.') || domain.starts_with('[') {
            return Err(invalid(
                "an email address needs a domain name such as example.com",
            ));
        }
        let key = address.to_lowercase();
        Ok(Self { address, key })
    }

    pub fn as_str(&self) -> &str {
        &self.address
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.address
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.address)
    }
}

/// A phone number in E.164 form: `+`, a country code not starting with 0, at most 15 digits
/// in all. Spaces, dots, dashes and parentheses in the input are removed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

impl PhoneNumber {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "phone",
                "invalid_phone",
                "a phone number is written in E.164 form, for example +14155550123",
            )
        };
        let compact: String = raw
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
            .collect();
        let digits = compact.strip_prefix('+').ok_or_else(invalid)?;
        if digits.len() < 7
            || digits.len() > 15
            || !digits.bytes().all(|b| b.is_ascii_digit())
            || digits.starts_with('0')
        {
            return Err(invalid());
        }
        Ok(Self(compact))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised_and_case_insensitive() {
        let a = Username::parse("Ｊｏｈｎ.Doe").unwrap();
        let b = Username::parse("john.doe").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "John.Doe");
        assert!(Username::parse("").is_err());
        assert!(Username::parse(".john").is_err());
        assert!(Username::parse("jo hn").is_err());
        assert!(Username::parse("x';--").is_err());
        assert!(Username::parse(&"a".repeat(65)).is_err());
    }

    #[test]
    fn emails_keep_display_case_and_compare_lowercase() {
        let e = Email::parse(" Jane.Doe@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "Jane.Doe@Example.COM");
        assert_eq!(e.key(), "jane.doe@example.com");
        for bad in [
            "",
            "jane",
            "jane@",
            "@example.com",
            "jane@localhost",
            "a b@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(
            PhoneNumber::parse("+1 (415) 555-0123").unwrap().as_str(),
            "+14155550123"
        );
        for bad in [
            "4155550123",
            "+0123456789",
            "+1234",
            "+1234567890123456",
            "+1415abc0123",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad} must be refused");
        }
    }
}
