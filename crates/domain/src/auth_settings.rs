//! A tenant's authentication settings: who may register, how people sign in, and the
//! password, session and token policies.

use crate::ValidationError;
use crate::credential::PasswordPolicy;
use crate::mfa::{MfaPolicy, PasswordlessPolicy};
use crate::session::SessionPolicy;
use crate::token::TokenPolicy;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// An overridden message template (minijinja source). Variables: `tenant`, `code`, `link`,
/// `minutes`, `user`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplate {
    /// Email subject (ignored for SMS).
    #[serde(default)]
    pub subject: Option<String>,
    /// Plain-text body (email and SMS).
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthSettings {
    /// Whether people may sign up on their own.
    pub self_registration: bool,
    /// New users stay `unverified` until they verify an email or phone.
    pub require_verified_identifier: bool,
    /// Whether the username is accepted as a sign-in identifier.
    pub username_login: bool,
    /// Lifetime of one-time codes.
    pub code_ttl_secs: u32,
    /// Wrong guesses allowed per code.
    pub code_max_attempts: u32,
    /// Logo shown on the sign-in pages (an https URL or a path on this server).
    pub logo_url: Option<String>,
    pub password: PasswordPolicy,
    pub sessions: SessionPolicy,
    pub tokens: TokenPolicy,
    pub mfa: MfaPolicy,
    pub passwordless: PasswordlessPolicy,
    /// Message templates by kind (`verify_code`, `recover_code`, `account_exists`...), per
    /// channel suffix (`verify_code.email`, `verify_code.sms`).
    pub templates: BTreeMap<String, MessageTemplate>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            self_registration: true,
            require_verified_identifier: true,
            username_login: true,
            code_ttl_secs: 600,
            code_max_attempts: 5,
            logo_url: None,
            password: PasswordPolicy::default(),
            sessions: SessionPolicy::default(),
            tokens: TokenPolicy::default(),
            mfa: MfaPolicy::default(),
            passwordless: PasswordlessPolicy::default(),
            templates: BTreeMap::new(),
        }
    }
}

impl AuthSettings {
    pub fn validate(&self) -> Result<(), ValidationError> {
        self.password.validate()?;
        self.sessions.validate()?;
        self.tokens.validate()?;
        self.mfa.validate()?;
        if !(60..=24 * 3600).contains(&self.code_ttl_secs) {
            return Err(ValidationError::new(
                "settings.auth.code_ttl_secs",
                "invalid_policy",
                "code_ttl_secs is between 60 and 86400",
            ));
        }
        if !(1..=20).contains(&self.code_max_attempts) {
            return Err(ValidationError::new(
                "settings.auth.code_max_attempts",
                "invalid_policy",
                "code_max_attempts is between 1 and 20",
            ));
        }
        if let Some(logo) = &self.logo_url
            && !(logo.starts_with("https://") || logo.starts_with('/'))
        {
            return Err(ValidationError::new(
                "settings.auth.logo_url",
                "invalid_url",
                "the logo is an https URL or a path on this server",
            ));
        }
        Ok(())
    }
}
