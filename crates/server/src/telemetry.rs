//! Logs: JSON (default) or human-readable, filtered by `log.level` (or `RUST_LOG`).

use tessera_config::{LogFormat, Settings};
use tracing_subscriber::EnvFilter;

/// Installs the process's log subscriber (once, from the binary; tests do not call it).
pub fn init(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
