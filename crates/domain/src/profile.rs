//! A user's profile: names, birthday, locale, time zone, picture.

use crate::ValidationError;
use serde::{Deserialize, Serialize};
use time::Date;

/// A BCP 47 language tag such as `en`, `en-US`, `zh-Hant-TW` (syntax checked, case kept).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Locale(String);

impl Locale {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim().replace('_', "-");
        let mut parts = raw.split('-');
        let language = parts.next().unwrap_or_default();
        let language_ok =
            (2..=3).contains(&language.len()) && language.bytes().all(|b| b.is_ascii_alphabetic());
        let rest_ok = parts
            .all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()));
        if !language_ok || !rest_ok {
            return Err(ValidationError::new(
                "locale",
                "invalid_locale",
                "a locale is a BCP 47 language tag such as en or fr-CA",
            ));
        }
        Ok(Self(raw))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Locale {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<Locale> for String {
    fn from(value: Locale) -> Self {
        value.0
    }
}

/// An IANA time zone name such as `Europe/Paris` or `UTC` (syntax checked).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ZoneInfo(String);

impl ZoneInfo {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.len() <= 32
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
                && p.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        };
        if raw.len() > 64 || !raw.split('/').all(part_ok) {
            return Err(ValidationError::new(
                "zoneinfo",
                "invalid_zoneinfo",
                "zoneinfo is an IANA time zone name such as Europe/Paris",
            ));
        }
        Ok(Self(raw.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ZoneInfo {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<ZoneInfo> for String {
    fn from(value: ZoneInfo) -> Self {
        value.0
    }
}

/// An absolute `https` (or `http`) URL of a picture.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PictureUrl(String);

impl PictureUrl {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let invalid = || {
            ValidationError::new(
                "picture",
                "invalid_url",
                "picture is an absolute http(s) URL of at most 2048 characters",
            )
        };
        if raw.len() > 2048 {
            return Err(invalid());
        }
        let url = url::Url::parse(raw.trim()).map_err(|_| invalid())?;
        if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
            return Err(invalid());
        }
        Ok(Self(url.into()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PictureUrl {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}
impl From<PictureUrl> for String {
    fn from(value: PictureUrl) -> Self {
        value.0
    }
}

/// A person's name part (given or family): trimmed, NFC, 1-128 characters, no control chars.
pub fn parse_name(field: &str, raw: &str) -> Result<String, ValidationError> {
    use unicode_normalization::UnicodeNormalization;
    let name: String = raw.trim().nfc().collect();
    if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "invalid_name",
            "a name has 1 to 128 printable characters",
        ));
    }
    Ok(name)
}

/// The profile of a user. Every part is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub birthday: Option<Date>,
    pub locale: Option<Locale>,
    pub zoneinfo: Option<ZoneInfo>,
    pub picture: Option<PictureUrl>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_objects_refuse_garbage() {
        assert!(Locale::parse("en-US").is_ok());
        assert!(Locale::parse("english!").is_err());
        assert!(ZoneInfo::parse("America/Argentina/Buenos_Aires").is_ok());
        assert!(ZoneInfo::parse("../etc/passwd").is_err());
        assert!(PictureUrl::parse("https://cdn.example.com/a.png").is_ok());
        assert!(PictureUrl::parse("javascript:alert(1)").is_err());
        assert!(parse_name("given_name", "  ").is_err());
        assert!(parse_name("given_name", "Zoë").is_ok());
    }
}
