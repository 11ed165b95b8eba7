//! Second factors and passwordless sign-in: TOTP, backup codes, passkeys, server-side
//! challenges, recognised devices and networks, the tenant's MFA policy and the assurance
//! (`acr`) a session reached.

use crate::{ChallengeId, DeviceId, PasskeyId, TenantId, UserId, ValidationError};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// `acr` of a session that passed one factor (a password, a code or a link).
pub const ACR_ONE_FACTOR: &str = "urn:tessera:acr:1fa";
/// `acr` of a session that passed two factors (or a passkey with user verification, or a
/// device remembered after two factors).
pub const ACR_MFA: &str = "urn:tessera:acr:mfa";

/// RFC 8176 method references used in `amr`.
pub mod amr {
    pub const PASSWORD: &str = "pwd";
    /// TOTP, or a code or link sent by email or SMS.
    pub const OTP: &str = "otp";
    /// A hardware-bound passkey.
    pub const HARDWARE_KEY: &str = "hwk";
    /// A synced (backup-eligible) passkey.
    pub const SOFTWARE_KEY: &str = "swk";
    /// User verification (PIN or biometrics) on the authenticator.
    pub const USER: &str = "user";
    /// Two or more factors.
    pub const MFA: &str = "mfa";
    /// A backup (recovery) code.
    pub const BACKUP_CODE: &str = "kba";
}

/// What a session still has to do before it is a full sign-in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Restriction {
    /// The password was right; a second factor must follow.
    SecondFactor,
    /// MFA is required and the user has no second factor: they must enrol one first.
    Enrolment,
}

impl Restriction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecondFactor => "second_factor",
            Self::Enrolment => "enrolment",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        [Self::SecondFactor, Self::Enrolment]
            .into_iter()
            .find(|r| r.as_str() == raw)
    }
}

/// A user's TOTP authenticator. The secret is sealed with the master key; `last_step` is the
/// last time step accepted (a step is accepted once, and never one before it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TotpFactor {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub secret_sealed: Vec<u8>,
    pub created_at: OffsetDateTime,
    /// `None` until the first correct code: an unconfirmed factor is not a factor.
    pub confirmed_at: Option<OffsetDateTime>,
    pub last_step: i64,
}

/// The state of a user's backup codes (the codes themselves are shown once, stored hashed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BackupCodeSummary {
    pub total: u32,
    pub remaining: u32,
    pub created_at: Option<OffsetDateTime>,
}

/// A registered passkey. `credential` is the verifier's own serialisation (opaque here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Passkey {
    pub id: PasskeyId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// base64url of the credential id.
    pub credential_id: String,
    pub name: String,
    pub aaguid: Option<Uuid>,
    pub credential: String,
    pub sign_count: u32,
    /// Synced passkeys (backup eligible) count as software keys.
    pub backup_eligible: bool,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// What a challenge is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ChallengeKind {
    PasskeyRegistration,
    PasskeyAuthentication,
    SignInLink,
}

impl ChallengeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PasskeyRegistration => "passkey_registration",
            Self::PasskeyAuthentication => "passkey_authentication",
            Self::SignInLink => "sign_in_link",
        }
    }
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::PasskeyRegistration,
            Self::PasskeyAuthentication,
            Self::SignInLink,
        ]
        .into_iter()
        .find(|k| k.as_str() == raw)
    }
}

/// Server-side state of a ceremony in progress: single use, expiring, bound to the browser or
/// session that asked for it (`binding_hash`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    pub id: ChallengeId,
    pub tenant_id: TenantId,
    pub kind: ChallengeKind,
    pub user_id: Option<UserId>,
    /// SHA-256 of the session secret or browser binding that asked.
    pub binding_hash: String,
    /// SHA-256 of a secret that finds the challenge (the token of a sign-in link).
    pub secret_hash: Option<String>,
    /// The ceremony's state (opaque).
    pub state: String,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub consumed_at: Option<OffsetDateTime>,
}

/// A browser or app a user signed in from, recognised by a long-lived device cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub secret_hash: String,
    pub description: Option<String>,
    pub created_at: OffsetDateTime,
    pub last_seen_at: OffsetDateTime,
    /// Until when the second factor is skipped on this device (`None`: not remembered).
    pub remember_until: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Device {
    /// Whether signing in on this device at `now` skips the second factor.
    pub fn remembered(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && self.remember_until.is_some_and(|until| now < until)
    }
}

/// The network part of an address that counts as "the same network": the /24 of an IPv4
/// address, the /48 of an IPv6 address. `None` for what is not an IP address.
pub fn network_prefix(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let o = v4.octets();
            Some(format!("{}.{}.{}.0/24", o[0], o[1], o[2]))
        }
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return network_prefix(&v4.to_string());
            }
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
    }
}

/// A tenant's second-factor rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MfaPolicy {
    /// Everyone must pass a second factor (administrators always must).
    pub required: bool,
    /// A sign-in from a new device or a new network asks for the second factor of users who
    /// have one.
    pub risk_based: bool,
    /// "Remember this device" skips the second factor for this many days (0: never offered).
    pub remember_device_days: u32,
    /// How recent an authentication sensitive actions need ("sudo mode").
    pub step_up_secs: u32,
    /// Email the user when they sign in from a device not seen before.
    pub notify_new_device: bool,
    pub totp: bool,
    pub passkeys: bool,
    /// Only authenticators of these models (AAGUIDs) may register passkeys; empty: any.
    pub passkey_aaguids: Vec<Uuid>,
}

impl Default for MfaPolicy {
    fn default() -> Self {
        Self {
            required: false,
            risk_based: false,
            remember_device_days: 30,
            step_up_secs: 600,
            notify_new_device: true,
            totp: true,
            passkeys: true,
            passkey_aaguids: Vec::new(),
        }
    }
}

impl MfaPolicy {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.remember_device_days > 365 {
            return Err(ValidationError::new(
                "settings.auth.mfa.remember_device_days",
                "invalid_policy",
                "remember_device_days is at most 365",
            ));
        }
        if !(60..=24 * 3600).contains(&self.step_up_secs) {
            return Err(ValidationError::new(
                "settings.auth.mfa.step_up_secs",
                "invalid_policy",
                "step_up_secs is between 60 and 86400",
            ));
        }
        if !self.totp && !self.passkeys {
            return Err(ValidationError::new(
                "settings.auth.mfa",
                "invalid_policy",
                "at least one second factor (totp or passkeys) stays enabled: administrators must be able to enrol",
            ));
        }
        Ok(())
    }
}

/// Which passwordless sign-in methods a tenant offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordlessPolicy {
    /// Passkeys (discoverable credentials, autofill on the sign-in page).
    pub passkeys: bool,
    /// A link sent by email.
    pub email_link: bool,
    /// A code sent by email.
    pub email_code: bool,
    /// A code sent by SMS.
    pub sms_code: bool,
}

impl Default for PasswordlessPolicy {
    fn default() -> Self {
        Self {
            passkeys: true,
            email_link: true,
            email_code: true,
            sms_code: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_prefixes() {
        assert_eq!(
            network_prefix("203.0.113.7").as_deref(),
            Some("203.0.113.0/24")
        );
        assert_eq!(
            network_prefix("2001:db8:1:2::7").as_deref(),
            Some("2001:db8:1::/48")
        );
        assert_eq!(
            network_prefix("::ffff:198.51.100.9").as_deref(),
            Some("198.51.100.0/24")
        );
        assert_eq!(network_prefix("not an ip"), None);
    }

    #[test]
    fn remembered_devices_expire_and_revoke() {
        let t0 = OffsetDateTime::UNIX_EPOCH + time::Duration::days(20000);
        let mut d = Device {
            id: DeviceId::from_uuid(Uuid::nil()),
            tenant_id: TenantId::from_uuid(Uuid::nil()),
            user_id: UserId::from_uuid(Uuid::nil()),
            secret_hash: String::new(),
            description: None,
            created_at: t0,
            last_seen_at: t0,
            remember_until: None,
            revoked_at: None,
        };
        assert!(!d.remembered(t0));
        d.remember_until = Some(t0 + time::Duration::days(30));
        assert!(d.remembered(t0 + time::Duration::days(29)));
        assert!(!d.remembered(t0 + time::Duration::days(30)));
        d.revoked_at = Some(t0);
        assert!(!d.remembered(t0));
        assert!(MfaPolicy::default().validate().is_ok());
        let none = MfaPolicy {
            totp: false,
            passkeys: false,
            ..MfaPolicy::default()
        };
        assert!(none.validate().is_err());
    }
}
