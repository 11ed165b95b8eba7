//! Persistence of second factors, passkeys, ceremony challenges, recognised devices and
//! networks. Every change a person caused takes its [`Journal`]; the
//! store commits both or neither.

use super::store::{Journal, StoreError};
use crate::mfa::{BackupCodeSummary, Challenge, Device, Passkey, TotpFactor};
use crate::{ChallengeId, DeviceId, PasskeyId, TenantId, UserId};
use async_trait::async_trait;
use time::OffsetDateTime;

/// TOTP, backup codes and passkeys.
#[async_trait]
pub trait FactorStore: Send + Sync {
    async fn totp(&self, tenant: TenantId, user: UserId) -> Result<Option<TotpFactor>, StoreError>;
    /// Stores an unconfirmed TOTP factor, replacing an earlier unconfirmed one. MUST return
    /// `Conflict` (and write nothing) when the user has a confirmed one; `NotFound` when the
    /// user does not exist.
    async fn put_pending_totp(&self, factor: &TotpFactor) -> Result<(), StoreError>;
    /// Confirms the pending factor with the first correct code's time step, atomically:
    /// `false` when there is no pending factor (or it was confirmed meanwhile).
    async fn confirm_totp(
        &self,
        tenant: TenantId,
        user: UserId,
        step: i64,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<bool, StoreError>;
    /// Accepts `step` for the confirmed factor if it is after the last step accepted,
    /// atomically (exactly one of several concurrent uses of a step wins). Audited with
    /// `journal` when accepted.
    async fn use_totp_step(
        &self,
        tenant: TenantId,
        user: UserId,
        step: i64,
        journal: &Journal,
    ) -> Result<bool, StoreError>;
    /// MUST return `NotFound` when the user has no TOTP factor (pending or confirmed).
    async fn delete_totp(
        &self,
        tenant: TenantId,
        user: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError>;

    /// Replaces the user's backup codes by `hashes` (empty: removes them) at `at`.
    async fn replace_backup_codes(
        &self,
        tenant: TenantId,
        user: UserId,
        hashes: &[String],
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Uses the unused backup code hashing to `hash`, atomically: `false` when there is none
    /// (unknown, used, another user's).
    async fn use_backup_code(
        &self,
        tenant: TenantId,
        user: UserId,
        hash: &str,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<bool, StoreError>;
    async fn backup_codes(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<BackupCodeSummary, StoreError>;

    /// MUST return `Duplicate` when the tenant already has a passkey with this credential id,
    /// `NotFound` when the user does not exist.
    async fn insert_passkey(&self, passkey: &Passkey, journal: &Journal) -> Result<(), StoreError>;
    /// The user's passkeys, oldest first.
    async fn passkeys(&self, tenant: TenantId, user: UserId) -> Result<Vec<Passkey>, StoreError>;
    async fn passkey_by_credential_id(
        &self,
        tenant: TenantId,
        credential_id: &str,
    ) -> Result<Option<Passkey>, StoreError>;
    /// Records a successful use: the new sign count and serialised credential, and the time.
    async fn record_passkey_use(
        &self,
        tenant: TenantId,
        id: PasskeyId,
        sign_count: u32,
        credential: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// MUST return `NotFound` when the passkey is not this user's.
    async fn rename_passkey(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PasskeyId,
        name: &str,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// MUST return `NotFound` when the passkey is not this user's.
    async fn delete_passkey(
        &self,
        tenant: TenantId,
        user: UserId,
        id: PasskeyId,
        journal: &Journal,
    ) -> Result<(), StoreError>;
}

/// Single-use, expiring ceremony state.
#[async_trait]
pub trait ChallengeStore: Send + Sync {
    async fn insert_challenge(&self, challenge: &Challenge) -> Result<(), StoreError>;
    /// The challenge, consumed or not, expired or not.
    async fn challenge(
        &self,
        tenant: TenantId,
        id: ChallengeId,
    ) -> Result<Option<Challenge>, StoreError>;
    /// The challenge whose secret hashes to `secret_hash`.
    async fn challenge_by_secret(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Challenge>, StoreError>;
    /// Marks the challenge consumed if it is neither consumed nor expired at `now`,
    /// atomically: exactly one of several concurrent calls gets `true`.
    async fn consume_challenge(
        &self,
        tenant: TenantId,
        id: ChallengeId,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Deletes challenges that expired before `before`; returns how many.
    async fn prune_challenges(&self, before: OffsetDateTime) -> Result<u64, StoreError>;
}

/// Devices a user signed in from, and the networks they signed in from.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    async fn insert_device(&self, device: &Device) -> Result<(), StoreError>;
    async fn device_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Device>, StoreError>;
    /// Records a sign-in on the device at `at`; `remember_until`, when given, replaces the
    /// device's.
    async fn touch_device(
        &self,
        tenant: TenantId,
        id: DeviceId,
        at: OffsetDateTime,
        remember_until: Option<OffsetDateTime>,
    ) -> Result<(), StoreError>;
    /// The user's devices that are not revoked, most recently seen first.
    async fn devices(&self, tenant: TenantId, user: UserId) -> Result<Vec<Device>, StoreError>;
    /// Forgets a device (`Some`) or all the user's devices (`None`): they are no longer
    /// remembered. MUST return `NotFound` for `Some(id)` not a live device of this user.
    async fn revoke_devices(
        &self,
        tenant: TenantId,
        user: UserId,
        which: Option<DeviceId>,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<u64, StoreError>;
    /// Records that the user signed in from `prefix` at `at`; `true` when it was the first
    /// time.
    async fn record_network(
        &self,
        tenant: TenantId,
        user: UserId,
        prefix: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    async fn network_known(
        &self,
        tenant: TenantId,
        user: UserId,
        prefix: &str,
    ) -> Result<bool, StoreError>;
}
