//! The environment layer: `TESSERA_<SECTION>__<KEY>=value` pairs as a figment provider, built
//! from an explicit list of pairs so that tests never touch the process environment.

use std::collections::BTreeMap;
use std::sync::Arc;

use figment::value::{Dict, Map, Tag, Value};
use figment::{Error, Metadata, Profile, Provider};

use crate::ConfigError;

/// Prefix of every configuration environment variable (matched case-insensitively).
pub const ENV_PREFIX: &str = "TESSERA_";

/// Variables with the prefix that are not configuration keys and are ignored
/// (`TESSERA_CONFIG` names the configuration file, for the CLI's `--config`).
pub const IGNORED_ENV_VARS: &[&str] = &["TESSERA_CONFIG"];

/// Variables starting with this are for test harnesses (`TESSERA_TEST_DATABASE_URL`...) and
/// are ignored, so that a binary started by a test does not refuse them.
pub const TEST_ENV_PREFIX: &str = "TESSERA_TEST_";

/// The provider name figment records; [`crate::error`] recognises the layer by it.
pub(crate) const ENV_SOURCE_NAME: &str = "environment";

/// Level separator inside a variable name.
const SEPARATOR: &str = "__";

pub(crate) struct EnvLayer {
    dict: Dict,
    /// Key path → the variable that set it, to name it in errors.
    names: Arc<BTreeMap<Vec<String>, String>>,
}

impl EnvLayer {
    /// Keeps the `TESSERA_*` pairs (minus [`IGNORED_ENV_VARS`]) and nests them:
    /// `TESSERA_DATABASE__URL` becomes `database.url`. Values stay strings; figment's lossy
    /// extraction turns them into numbers or booleans where a field wants one.
    pub(crate) fn from_pairs(
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut pairs: Vec<(String, String)> = env
            .into_iter()
            .filter(|(name, _)| has_prefix(name))
            .filter(|(name, _)| {
                !IGNORED_ENV_VARS
                    .iter()
                    .any(|ignored| ignored.eq_ignore_ascii_case(name))
                    && !name.to_ascii_uppercase().starts_with(TEST_ENV_PREFIX)
            })
            .collect();
        // Deterministic errors whatever the order of the environment.
        pairs.sort();

        let mut dict = Dict::new();
        let mut names: BTreeMap<Vec<String>, String> = BTreeMap::new();
        for (name, value) in pairs {
            let path = key_path(&name)?;
            if let Some(other) = names
                .iter()
                .find(|(p, _)| is_prefix(p, &path) || is_prefix(&path, p))
                .map(|(_, n)| n)
            {
                return Err(ConfigError::InvalidEnvVar {
                    var: name.clone(),
                    reason: format!("it sets the same key as {other}"),
                });
            }
            insert(&mut dict, &path, Value::String(Tag::Default, value));
            names.insert(path, name);
        }
        Ok(Self {
            dict,
            names: Arc::new(names),
        })
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        let names = Arc::clone(&self.names);
        Metadata::named(ENV_SOURCE_NAME).interpolater(move |_: &Profile, keys: &[&str]| {
            // The variable that set exactly this key, else one below it (an unknown section
            // `TESSERA_FOO__BAR` is reported at `foo`), else the canonical name.
            names
                .iter()
                .find(|(path, _)| path.iter().map(String::as_str).eq(keys.iter().copied()))
                .or_else(|| {
                    names.iter().find(|(path, _)| {
                        path.len() > keys.len()
                            && path
                                .iter()
                                .map(String::as_str)
                                .zip(keys)
                                .all(|(a, b)| a == *b)
                    })
                })
                .map(|(_, name)| name.clone())
                .unwrap_or_else(|| canonical_name(keys))
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, Error> {
        Ok(Profile::Default.collect(self.dict.clone()))
    }
}

/// `TESSERA_SERVER__LISTEN` for `["server", "listen"]`.
pub(crate) fn canonical_name<S: AsRef<str>>(keys: &[S]) -> String {
    let joined: Vec<String> = keys
        .iter()
        .map(|k| k.as_ref().to_ascii_uppercase())
        .collect();
    format!("{ENV_PREFIX}{}", joined.join(SEPARATOR))
}

fn has_prefix(name: &str) -> bool {
    name.get(..ENV_PREFIX.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(ENV_PREFIX))
}

fn key_path(name: &str) -> Result<Vec<String>, ConfigError> {
    let rest = name.get(ENV_PREFIX.len()..).unwrap_or_default();
    let path: Vec<String> = rest.split(SEPARATOR).map(str::to_ascii_lowercase).collect();
    let valid = path.iter().all(|segment| {
        !segment.is_empty()
            && segment
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    });
    if valid {
        Ok(path)
    } else {
        Err(ConfigError::InvalidEnvVar {
            var: name.to_owned(),
            reason: format!(
                "expected {ENV_PREFIX}<SECTION>__<KEY> with letters, digits and single \
                 underscores in each part, for example {ENV_PREFIX}SERVER__LISTEN"
            ),
        })
    }
}

fn is_prefix(prefix: &[String], path: &[String]) -> bool {
    prefix.len() <= path.len() && prefix.iter().zip(path).all(|(a, b)| a == b)
}

/// Inserts `value` at `path`; [`EnvLayer::from_pairs`] has ruled out conflicting paths.
fn insert(dict: &mut Dict, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            dict.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let entry = dict
                .entry(first.clone())
                .or_insert_with(|| Value::Dict(Tag::Default, Dict::new()));
            if let Value::Dict(_, inner) = entry {
                insert(inner, rest, value);
            }
        }
    }
}
