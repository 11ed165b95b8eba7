use std::path::Path;

use figment::Figment;
use figment::providers::{Format, Serialized, Toml};

use crate::env::EnvLayer;
use crate::raw::RawSettings;
use crate::{ConfigError, Settings, validate};

/// Loads the configuration from the defaults, the TOML file `file` (if given, it must exist)
/// and the process environment (`TESSERA_*`).
pub fn load(file: Option<&Path>) -> Result<Settings, ConfigError> {
    // Lossy rather than `std::env::vars()`, which panics on a non-UTF-8 variable.
    let env = std::env::vars_os().map(|(name, value)| {
        (
            name.to_string_lossy().into_owned(),
            value.to_string_lossy().into_owned(),
        )
    });
    load_from(file, env)
}

/// Like [`load`], with an explicit environment instead of the process's: only the
/// `TESSERA_*` pairs are used (except [`crate::IGNORED_ENV_VARS`]), every other pair is
/// ignored. Tests and the testkit use this, since tests run in parallel.
pub fn load_from(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Settings, ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(RawSettings::default()));
    if let Some(path) = file {
        if !path.exists() {
            return Err(ConfigError::FileNotFound {
                path: path.to_path_buf(),
            });
        }
        figment = figment.merge(Toml::file_exact(path));
    }
    let figment = figment.merge(EnvLayer::from_pairs(env)?);

    // Lossy: environment values are strings, and `"16"` must fill a `u32`, `"true"` a `bool`.
    let raw: RawSettings = figment
        .extract_lossy()
        .map_err(|e| ConfigError::from_figment(e, &figment))?;
    let mut settings = raw.resolve(&figment)?;
    validate::validate(&mut settings, &figment)?;
    Ok(settings)
}
