//! Per-user settings. A tenant holds the defaults; each user gets a copy when created, which
//! the user (or an admin) may then change.

use serde::{Deserialize, Serialize};

/// Colour scheme of the pages for this user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

/// Settings of one user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    pub theme: Theme,
    /// Security notices (new sign-in, password changed) by email.
    pub security_alerts_email: bool,
    /// Security notices by SMS.
    pub security_alerts_sms: bool,
    /// Product news and offers.
    pub marketing_emails: bool,
    /// Date format shown in pages, for example `YYYY-MM-DD`.
    pub date_format: String,
}

impl Default for UserSettings {
    fn default() -> Self {
        Self {
            theme: Theme::System,
            security_alerts_email: true,
            security_alerts_sms: false,
            marketing_emails: false,
            date_format: "YYYY-MM-DD".to_owned(),
        }
    }
}
