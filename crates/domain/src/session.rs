//! Server-side sign-in sessions and the per-tenant rules for their lifetime.

use crate::mfa::{ACR_MFA, Restriction};
use crate::{SessionId, TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// A sign-in session. The browser holds a random 256-bit secret; only its SHA-256 is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// Hex SHA-256 of the secret the cookie carries.
    pub secret_hash: String,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// Absolute end of the session, whatever the activity.
    pub expires_at: OffsetDateTime,
    /// Inactivity allowed between two uses.
    pub idle_timeout: Duration,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// A short description of the device for people ("Firefox on Linux").
    pub device: Option<String>,
    /// Authentication methods used (`pwd`, `otp`...): RFC 8176 values.
    pub amr: Vec<String>,
    pub auth_time: OffsetDateTime,
    /// Assurance reached: [`crate::mfa::ACR_ONE_FACTOR`] or [`crate::mfa::ACR_MFA`].
    pub acr: String,
    /// What the session must still do before it is a full sign-in (`None`: nothing).
    pub restriction: Option<Restriction>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Session {
    /// Whether two factors were passed (or a passkey with user verification, or a device
    /// remembered after two factors).
    pub fn has_mfa(&self) -> bool {
        self.acr == ACR_MFA
    }

    /// Whether the user authenticated at most `within` before `now` (step-up, "sudo mode").
    pub fn authenticated_within(&self, now: OffsetDateTime, within: Duration) -> bool {
        now - self.auth_time <= within
    }

    /// Whether the session may be used at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none()
            && now < self.expires_at
            && now < self.last_seen_at + self.idle_timeout
    }
}

/// A tenant's session rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionPolicy {
    /// Sign out after this much inactivity.
    pub idle_timeout_secs: u32,
    /// Sign out after this long, whatever the activity.
    pub absolute_timeout_secs: u32,
    /// Concurrent sessions per user; signing in beyond it ends the oldest.
    pub max_per_user: u32,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout_secs: 30 * 60,
            absolute_timeout_secs: 10 * 3600,
            max_per_user: 10,
        }
    }
}

impl SessionPolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        let bad = |m: &str| {
            Err(ValidationError::new(
                "settings.auth.sessions",
                "invalid_policy",
                m,
            ))
        };
        if self.idle_timeout_secs < 60 || self.idle_timeout_secs > self.absolute_timeout_secs {
            return bad("idle_timeout_secs is at least 60 and not above absolute_timeout_secs");
        }
        if self.absolute_timeout_secs > 90 * 24 * 3600 {
            return bad("absolute_timeout_secs is at most 90 days");
        }
        if self.max_per_user == 0 || self.max_per_user > 1000 {
            return bad("max_per_user is between 1 and 1000");
        }
        Ok(())
    }

    pub fn idle(&self) -> Duration {
        Duration::seconds(i64::from(self.idle_timeout_secs))
    }

    pub fn absolute(&self) -> Duration {
        Duration::seconds(i64::from(self.absolute_timeout_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn liveness() {
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::days(10000);
        let s = Session {
            id: SessionId::from_uuid(uuid::Uuid::nil()),
            tenant_id: TenantId::from_uuid(uuid::Uuid::nil()),
            user_id: UserId::from_uuid(uuid::Uuid::nil()),
            secret_hash: String::new(),
            created_at: t0,
            last_seen_at: t0,
            expires_at: t0 + Duration::hours(10),
            idle_timeout: Duration::minutes(30),
            ip: None,
            user_agent: None,
            device: None,
            amr: vec!["pwd".into()],
            auth_time: t0,
            acr: crate::mfa::ACR_ONE_FACTOR.into(),
            restriction: None,
            revoked_at: None,
        };
        assert!(s.is_live(t0 + Duration::minutes(29)));
        assert!(!s.is_live(t0 + Duration::minutes(31)));
        let mut seen = s.clone();
        seen.last_seen_at = t0 + Duration::hours(9) + Duration::minutes(50);
        assert!(!seen.is_live(t0 + Duration::hours(10)));
        // Step-up window: inclusive at its end, whatever the restriction.
        assert!(s.authenticated_within(t0 + Duration::minutes(10), Duration::minutes(10)));
        assert!(!s.authenticated_within(
            t0 + Duration::minutes(10) + Duration::seconds(1),
            Duration::minutes(10)
        ));
        assert!(!s.has_mfa());
        let mut revoked = s;
        revoked.revoked_at = Some(t0);
        assert!(!revoked.is_live(t0));
        assert!(SessionPolicy::default().validate().is_ok());
    }
}
