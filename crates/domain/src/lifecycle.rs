//! The user lifecycle: an explicit state machine, the single source of truth that
//! authentication and authorization consult.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a user is in their lifecycle.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LifecycleState {
    /// Record exists, nothing verified, no credential yet (customers start here).
    Created,
    /// Waiting for an identifier to be verified.
    Unverified,
    /// May sign in only to set a new password.
    PasswordResetRequired,
    /// Normal state.
    Active,
    /// Temporarily blocked by an admin; every session and token is revoked.
    Suspended,
    /// Switched off (left the company); restorable.
    Deactivated,
    /// Soft-deleted: invisible by default, restorable by an admin, purged only by erase.
    Deleted,
}

impl LifecycleState {
    pub const ALL: [Self; 7] = [
        Self::Created,
        Self::Unverified,
        Self::PasswordResetRequired,
        Self::Active,
        Self::Suspended,
        Self::Deactivated,
        Self::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Unverified => "unverified",
            Self::PasswordResetRequired => "password_reset_required",
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Deactivated => "deactivated",
            Self::Deleted => "deleted",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }

    /// The states a user may move to from this one by an ordinary transition. Leaving
    /// `Deleted` is not an ordinary transition: it is a [`restore`](Self::restore).
    pub fn allowed_transitions(self) -> &'static [LifecycleState] {
        use LifecycleState::*;
        match self {
            Created => &[
                Unverified,
                PasswordResetRequired,
                Active,
                Suspended,
                Deactivated,
                Deleted,
            ],
            Unverified => &[
                Active,
                PasswordResetRequired,
                Suspended,
                Deactivated,
                Deleted,
            ],
            PasswordResetRequired => &[Active, Suspended, Deactivated, Deleted],
            Active => &[PasswordResetRequired, Suspended, Deactivated, Deleted],
            Suspended => &[Active, PasswordResetRequired, Deactivated, Deleted],
            Deactivated => &[Active, Suspended, Deleted],
            Deleted => &[],
        }
    }

    /// Checks a transition; the error carries what is needed to explain the refusal.
    pub fn transition(self, to: LifecycleState) -> Result<LifecycleState, IllegalTransition> {
        if self.allowed_transitions().contains(&to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }

    /// Whether a user in this state may authenticate at all (later issues gate sign-in on it).
    pub fn can_authenticate(self) -> bool {
        matches!(
            self,
            Self::Active | Self::Unverified | Self::PasswordResetRequired
        )
    }

    /// Whether entering this state must revoke every session and token of the user.
    pub fn revokes_access(self) -> bool {
        matches!(self, Self::Suspended | Self::Deactivated | Self::Deleted)
    }
}

impl fmt::Display for LifecycleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a user in state {from} cannot move to {to}")]
pub struct IllegalTransition {
    pub from: LifecycleState,
    pub to: LifecycleState,
}

#[cfg(test)]
mod tests {
    use super::LifecycleState::*;
    use super::*;

    #[test]
    fn deleted_is_left_only_by_restore() {
        for to in LifecycleState::ALL {
            assert!(Deleted.transition(to).is_err());
        }
    }

    #[test]
    fn no_state_transitions_to_itself() {
        for s in LifecycleState::ALL {
            assert!(s.transition(s).is_err(), "{s} -> {s}");
        }
    }

    #[test]
    fn suspended_users_cannot_authenticate() {
        assert!(!Suspended.can_authenticate());
        assert!(!Deleted.can_authenticate());
        assert!(Active.can_authenticate());
        assert_eq!(Active.transition(Suspended), Ok(Suspended));
        assert_eq!(
            Created.transition(Created),
            Err(IllegalTransition {
                from: Created,
                to: Created
            })
        );
    }

    #[test]
    fn names_round_trip() {
        for s in LifecycleState::ALL {
            assert_eq!(LifecycleState::parse(s.as_str()), Some(s));
        }
    }
}
