//! Tessera's configuration (configuration layer): one typed settings tree, read once at start
//! by the server crate (the composition root) and passed by value — never a global.
//!
//! Layers, later wins: built-in defaults → an optional TOML file → `TESSERA_<SECTION>__<KEY>`
//! environment variables (a double underscore separates levels: `TESSERA_DATABASE__URL`,
//! `TESSERA_SERVER__LISTEN`). Unknown keys are rejected, naming the key and where it came from.
//! Every secret `x` may instead be read from a file named by a sibling key `x_file`
//! (`TESSERA_DATABASE__URL_FILE=/run/secrets/db`); the loaded [`Settings`] only holds the value.
//!
//! Depends on figment, serde, toml and url only — no other Tessera crate.
//!
//! Entry points: [`load`] (process environment), [`load_from`] (explicit environment, for tests
//! and the testkit), [`Settings::effective_toml`] (for `tessera check-config`, secrets masked).

mod env;
mod error;
mod load;
mod raw;
mod secret;
mod settings;
mod validate;

pub use env::{ENV_PREFIX, IGNORED_ENV_VARS, TEST_ENV_PREFIX};
pub use error::{ConfigError, Origin};
pub use load::{load, load_from};
pub use secret::Secret;
pub use settings::{
    AuthSettings, CacheSettings, DatabaseSettings, DeliverySettings, EmailTransport, LogFormat,
    LogSettings, SecuritySettings, ServerSettings, Settings, SmsTransport,
};

#[cfg(test)]
mod tests;
