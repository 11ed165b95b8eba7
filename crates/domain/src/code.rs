//! One-time codes and links: verification of an identifier, password recovery. Single use,
//! expiring, attempt-limited, stored as a keyed hash.

use crate::{CodeId, TenantId, UserId};
use time::OffsetDateTime;

/// What a code proves when it is presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// The user controls this email address or phone number.
    VerifyIdentifier,
    /// The user may set a new password (step one of recovery: the code sent to them).
    RecoverPassword,
    /// Step two of recovery: a long random ticket returned after the code was verified,
    /// good for setting the new password once.
    ResetTicket,
    /// Sign-in without a password: a code sent to a verified email or phone.
    SignIn,
}

impl CodePurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::VerifyIdentifier => "verify_identifier",
            Self::RecoverPassword => "recover_password",
            Self::ResetTicket => "reset_ticket",
            Self::SignIn => "sign_in",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::VerifyIdentifier,
            Self::RecoverPassword,
            Self::ResetTicket,
            Self::SignIn,
        ]
        .into_iter()
        .find(|p| p.as_str() == raw)
    }
}

/// A code as stored. `target` is what the code was sent to or is about, in the normalised
/// form `email:<key>` or `phone:<e164>` (or the user id for tickets).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OneTimeCode {
    pub id: CodeId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub purpose: CodePurpose,
    pub target: String,
    /// Keyed hash of the code (never the code itself).
    pub code_hash: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// Wrong guesses so far.
    pub attempts: u32,
    pub max_attempts: u32,
    pub consumed_at: Option<OffsetDateTime>,
}

/// What presenting a code did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeCheck {
    /// The code was right and is now used up.
    Accepted(OneTimeCode),
    /// Wrong code; the guess was counted. `remaining` guesses are left.
    Wrong { remaining: u32 },
    /// No live code for this target (none sent, expired, used up or out of guesses).
    NoneLive,
}
