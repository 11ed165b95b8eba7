//! The errors a caller of the application can act on. Interfaces map each variant to their
//! protocol (REST: problem+json with a stable code); the cause of `Unexpected` goes to the log
//! only.

use tessera_domain::ValidationError;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::StoreError;

/// Why a bearer credential was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    Unknown,
    Expired,
    Revoked,
    /// Sign-in: the identifier or the password is wrong (never says which).
    BadCredentials,
    /// An access token that is malformed, forged, expired or whose session ended.
    InvalidToken,
    /// No session cookie, or the session ended.
    NoSession,
    /// A refresh token that is unknown, expired or revoked.
    InvalidRefreshToken,
    /// A refresh token that was already used: its whole family is now revoked.
    RefreshTokenReused,
}

impl AuthFailure {
    pub fn describe(self) -> &'static str {
        match self {
            Self::Missing => "an API key is required (Authorization: Bearer <key>)",
            Self::Malformed => "the API key is malformed",
            Self::Unknown => "the API key is not known",
            Self::Expired => "the API key has expired",
            Self::Revoked => "the API key was revoked",
            Self::BadCredentials => "the identifier or the password is wrong",
            Self::InvalidToken => "the access token is invalid or has expired",
            Self::NoSession => "you are not signed in, or your session has ended",
            Self::InvalidRefreshToken => "the refresh token is invalid, expired or revoked",
            Self::RefreshTokenReused => {
                "the refresh token was already used; every token of this sign-in is now revoked"
            }
        }
    }

    /// A stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Missing => "credentials_required",
            Self::Malformed => "malformed_credentials",
            Self::Unknown => "unknown_api_key",
            Self::Expired => "expired_api_key",
            Self::Revoked => "revoked_api_key",
            Self::BadCredentials => "invalid_credentials",
            Self::InvalidToken => "invalid_token",
            Self::NoSession => "not_signed_in",
            Self::InvalidRefreshToken | Self::RefreshTokenReused => "invalid_grant",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input does not parse or breaks a rule; nothing was changed.
    #[error("invalid input")]
    Invalid(Vec<ValidationError>),
    /// The thing does not exist in this tenant (or the caller may not know it exists).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A unique value is taken; nothing was written.
    #[error("{field} already exists")]
    Duplicate {
        field: &'static str,
        value: Option<String>,
    },
    /// The lifecycle state machine refuses the move.
    #[error("a user in state {from} cannot move to {to}")]
    IllegalTransition {
        from: LifecycleState,
        to: LifecycleState,
        allowed: Vec<LifecycleState>,
    },
    /// The request conflicts with the current state (already bootstrapped, changed meanwhile,
    /// still in use...). `code` is stable.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The caller is authenticated but may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The caller is not authenticated.
    #[error("{}", .0.describe())]
    Unauthenticated(AuthFailure),
    /// The caller is known but this action is refused for a reason it can act on
    /// (`verification_required`, `password_reset_required`, `account_disabled`,
    /// `registration_closed`...). `code` is stable.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// A sensitive action needs a recent authentication (step-up, "sudo mode"): the caller
    /// re-authenticates (password, TOTP or passkey) and tries again within `max_age_secs`.
    #[error("this action needs a recent authentication: confirm it is you, then try again")]
    StepUpRequired { max_age_secs: u32 },
    /// Too many attempts: try again after `retry_after_secs`.
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// A bounded resource (the password hashing pool) is saturated: try again shortly.
    #[error("the service is busy; try again shortly")]
    Busy,
    /// The database does not answer.
    #[error("the service is temporarily unavailable")]
    Unavailable,
    #[error("unexpected error")]
    Unexpected(#[source] anyhow::Error),
}

impl Error {
    pub fn invalid(e: ValidationError) -> Self {
        Self::Invalid(vec![e])
    }

    /// Translates a store error; `what` names the entity for `NotFound`.
    pub fn from_store(e: StoreError, what: &'static str) -> Self {
        match e {
            StoreError::Duplicate { field, value } => Self::Duplicate { field, value },
            StoreError::NotFound => Self::NotFound(what),
            StoreError::Conflict => Self::Conflict {
                code: "concurrent_update",
                message: format!(
                    "the {what} was changed by another request; read it again and retry"
                ),
            },
            StoreError::InUse => Self::Conflict {
                code: "in_use",
                message: format!("the {what} is still in use"),
            },
            StoreError::Unavailable(_) => Self::Unavailable,
            StoreError::Unexpected(e) => Self::Unexpected(anyhow::anyhow!(e)),
        }
    }
}

impl From<ValidationError> for Error {
    fn from(e: ValidationError) -> Self {
        Self::invalid(e)
    }
}

/// `store_call.map_err(store_err("user"))`
pub(crate) fn store_err(what: &'static str) -> impl Fn(StoreError) -> Error {
    move |e| Error::from_store(e, what)
}
