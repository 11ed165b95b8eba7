use std::fmt;
use std::path::PathBuf;

use figment::error::Kind;
use figment::{Figment, Metadata, Profile, Source};

use crate::env::{ENV_SOURCE_NAME, canonical_name};

/// Why the configuration could not be loaded. Every message names the offending key and
/// where its value came from, and never contains a secret value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A configuration file was given explicitly but does not exist.
    #[error("configuration file {} not found", path.display())]
    FileNotFound { path: PathBuf },
    /// The configuration file is not valid TOML (or cannot be read).
    #[error("configuration file {} is invalid: {reason}", path.display())]
    InvalidFile { path: PathBuf, reason: String },
    /// A key that Tessera does not know (often a typo).
    #[error(
        "unknown configuration key `{key}` ({origin}); expected {}{}",
        one_of(expected),
        env_hint(key, origin)
    )]
    UnknownKey {
        key: String,
        origin: Origin,
        /// The keys accepted at that level.
        expected: Vec<String>,
    },
    /// A value of the wrong type or that does not pass validation.
    #[error("invalid value for `{key}` ({origin}): {reason}")]
    InvalidValue {
        key: String,
        origin: Origin,
        reason: String,
    },
    /// A secret is set both directly and through its `_file` key.
    #[error("both `{key}` ({key_origin}) and `{file_key}` ({file_origin}) are set; set only one")]
    SecretConflict {
        key: String,
        key_origin: Origin,
        file_key: String,
        file_origin: Origin,
    },
    /// The file named by a secret's `_file` key cannot be read or is empty.
    #[error("cannot read the file {} named by `{key}` ({origin}): {reason}", path.display())]
    SecretFile {
        key: String,
        origin: Origin,
        path: PathBuf,
        reason: String,
    },
    /// A `TESSERA_*` variable whose name is not a configuration key.
    #[error("invalid environment variable {var}: {reason}")]
    InvalidEnvVar { var: String, reason: String },
    /// Anything else figment reports.
    #[error("invalid configuration: {0}")]
    Other(String),
}

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// A TOML file.
    File(PathBuf),
    /// An environment variable, by name.
    Env(String),
    /// Another provider, by name.
    Other(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "in {}", path.display()),
            Origin::Env(name) => write!(f, "from {name}"),
            Origin::Other(name) => write!(f, "from {name}"),
        }
    }
}

/// Where the current value of `key` (dotted, e.g. `database.url`) came from.
pub(crate) fn origin_of(figment: &Figment, key: &str) -> Origin {
    let path: Vec<&str> = key.split('.').collect();
    match figment.find_metadata(key) {
        Some(md) => origin_from_metadata(md, figment.profile(), &path),
        None => Origin::Default,
    }
}

fn origin_from_metadata(md: &Metadata, profile: &Profile, path: &[&str]) -> Origin {
    match &md.source {
        Some(Source::File(file)) => Origin::File(file.clone()),
        Some(Source::Code(_)) => Origin::Default,
        _ if md.name == ENV_SOURCE_NAME => Origin::Env(md.interpolate(profile, path)),
        _ => Origin::Other(md.name.to_string()),
    }
}

impl ConfigError {
    /// Translates figment's (first) error into one that names the key and its origin.
    pub(crate) fn from_figment(error: figment::Error, figment: &Figment) -> Self {
        let path: Vec<&str> = error.path.iter().map(String::as_str).collect();
        let profile = error.profile.as_ref().unwrap_or(figment.profile());
        let origin = match &error.metadata {
            Some(md) => origin_from_metadata(md, profile, &path),
            None => Origin::Other("an unknown source".to_owned()),
        };
        let key = path.join(".");
        match (&error.kind, origin) {
            (Kind::UnknownField(field, expected), origin) => ConfigError::UnknownKey {
                key: if key.is_empty() { field.clone() } else { key },
                origin,
                expected: expected.iter().map(|s| (*s).to_owned()).collect(),
            },
            (kind, origin) if !key.is_empty() => ConfigError::InvalidValue {
                key,
                origin,
                reason: reason(kind),
            },
            (kind, Origin::File(path)) => ConfigError::InvalidFile {
                path,
                reason: kind.to_string(),
            },
            _ => ConfigError::Other(error.to_string()),
        }
    }
}

/// figment's wording, minus its doubled backticks around lists.
fn reason(kind: &Kind) -> String {
    let list = |items: &[&str]| one_of(&items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
    match kind {
        Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
            format!("expected {expected}, found {actual}")
        }
        Kind::UnknownVariant(found, expected) => {
            format!("found `{found}`, expected {}", list(expected))
        }
        other => other.to_string(),
    }
}

fn one_of(expected: &[String]) -> String {
    let quoted: Vec<String> = expected.iter().map(|k| format!("`{k}`")).collect();
    match quoted.as_slice() {
        [] => "no key here".to_owned(),
        [one] => one.clone(),
        many => format!("one of {}", many.join(", ")),
    }
}

/// `TESSERA_SERVER_LISTEN` (one underscore) arrives as the top-level key `server_listen`:
/// suggest the double underscore.
fn env_hint(key: &str, origin: &Origin) -> String {
    const SECTIONS: [&str; 4] = ["server", "database", "security", "log"];
    if !matches!(origin, Origin::Env(_)) || key.contains('.') {
        return String::new();
    }
    SECTIONS
        .iter()
        .find_map(|section| {
            let rest = key.strip_prefix(section)?.strip_prefix('_')?;
            (!rest.is_empty()).then(|| {
                format!(
                    " (levels are separated by a double underscore: did you mean {}?)",
                    canonical_name(&[*section, rest])
                )
            })
        })
        .unwrap_or_default()
}
