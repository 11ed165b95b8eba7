/// A notifier's settings cannot be used (an unparsable URL or address). Raised once, at start.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SettingsError {
    /// Which setting, e.g. `notify.smtp.url`.
    pub field: &'static str,
    pub message: String,
}

impl SettingsError {
    pub(crate) fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
