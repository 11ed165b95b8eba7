//! Persistence of credentials, sessions, one-time codes, refresh tokens and signing keys.
//! Every write that a person caused takes its [`Journal`]; the store commits both or neither.

use super::authz_store::AuthzStore;
use super::mfa_store::{ChallengeStore, DeviceStore, FactorStore};
use super::store::{Journal, StoreError};
use crate::code::{CodeCheck, CodePurpose, OneTimeCode};
use crate::credential::PasswordCredential;
use crate::session::Session;
use crate::token::{RefreshFamily, RefreshOutcome, SigningKey};
use crate::user::User;
use crate::{RefreshFamilyId, SessionId, TenantId, UserId};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Which of a user's sessions to end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionSelector {
    One(SessionId),
    All,
    AllExcept(SessionId),
}

/// Passwords.
#[async_trait]
pub trait CredentialStore: Send + Sync {
    async fn password(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Option<PasswordCredential>, StoreError>;
    /// Creates the user, their password and (when given) the code that verifies their
    /// identifier, in one transaction. MUST return `Duplicate` as `insert_user` does.
    async fn register_user(
        &self,
        user: &User,
        password: &PasswordCredential,
        code: Option<&OneTimeCode>,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Inserts users and the passwords of some of them (imported hashes), all or nothing.
    /// MUST return `Duplicate` as `insert_users` does, `NotFound` if a credential names a user
    /// not in `users`.
    async fn import_users(
        &self,
        users: &[User],
        passwords: &[PasswordCredential],
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Stores the user's password (insert or replace) and ends the selected sessions of the
    /// user (with their refresh tokens). When `expected_hash` is given the stored hash must
    /// still be it, else `Conflict` (two concurrent changes, or an upgrade racing a change).
    /// MUST return `NotFound` if the user does not exist.
    async fn set_password(
        &self,
        password: &PasswordCredential,
        expected_hash: Option<&str>,
        end_sessions: Option<SessionSelector>,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError>;
}

/// Server-side sessions. A user's sessions (and their refresh tokens) are also ended by
/// `UserStore::update_user` when the user becomes suspended, deactivated or deleted, and
/// removed by `erase_user`.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts the session (and its first refresh token, when given: the family and the
    /// token's hash), then ends the user's oldest live sessions beyond `max_per_user`,
    /// all in one transaction. Returns the ids of the sessions ended.
    async fn create_session(
        &self,
        session: &Session,
        refresh: Option<(&RefreshFamily, &str)>,
        max_per_user: u32,
        journal: &Journal,
    ) -> Result<Vec<SessionId>, StoreError>;
    /// The session whose secret hashes to `secret_hash`, revoked or not.
    async fn session_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<Session>, StoreError>;
    async fn session(&self, tenant: TenantId, id: SessionId)
    -> Result<Option<Session>, StoreError>;
    /// Records activity (not audited).
    async fn touch_session(
        &self,
        tenant: TenantId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// The user's sessions that are not revoked and not past their absolute end at `now`,
    /// newest first.
    async fn list_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError>;
    /// After a further authentication (a second factor, or a step-up): lifts the session's
    /// restriction and sets its `amr`, `acr`, `auth_time`, absolute end, idle timeout and
    /// secret hash (a new secret when the sign-in completes). When `refresh` is
    /// given, the session's first refresh token is stored with it (a restricted session has
    /// none). MUST return `NotFound` when the session is not live (revoked or past its end).
    async fn elevate_session(
        &self,
        session: &Session,
        refresh: Option<(&RefreshFamily, &str)>,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Ends the selected live sessions of the user and revokes their refresh tokens; returns
    /// how many were ended. MUST return `NotFound` for `One(id)` when that session is not a
    /// live session of this user.
    async fn end_sessions(
        &self,
        tenant: TenantId,
        user: UserId,
        which: SessionSelector,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<u64, StoreError>;
}

/// One-time codes.
#[async_trait]
pub trait CodeStore: Send + Sync {
    /// Stores a new code; earlier live codes of the same tenant, purpose and target are used
    /// up at once (only the newest works).
    async fn insert_code(&self, code: &OneTimeCode, journal: &Journal) -> Result<(), StoreError>;
    /// Checks a presented code against the live code of `(purpose, target)`, atomically:
    /// right → consumed (exactly one of several concurrent presentations wins); wrong →
    /// one more attempt counted; nothing live (none, expired at `now`, consumed, out of
    /// attempts) → `NoneLive`.
    async fn check_code(
        &self,
        tenant: TenantId,
        purpose: CodePurpose,
        target: &str,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<CodeCheck, StoreError>;
}

/// Refresh-token families.
#[async_trait]
pub trait RefreshStore: Send + Sync {
    async fn insert_refresh_family(
        &self,
        family: &RefreshFamily,
        token_hash: &str,
    ) -> Result<(), StoreError>;
    /// Presents the token hashing to `presented_hash`. If it is the family's current
    /// generation (and the family is live at `now`), the family moves to the next generation
    /// whose token hashes to `new_hash` (`Rotated`). An older generation, or losing a
    /// concurrent rotation, revokes the family and appends `on_reuse` (`Reused`). Unknown,
    /// expired or revoked: `Invalid`.
    async fn rotate_refresh(
        &self,
        tenant: TenantId,
        presented_hash: &str,
        new_hash: &str,
        now: OffsetDateTime,
        on_reuse: &Journal,
    ) -> Result<RefreshOutcome, StoreError>;
    /// The family a token belongs to (any generation).
    async fn refresh_family_by_hash(
        &self,
        tenant: TenantId,
        token_hash: &str,
    ) -> Result<Option<RefreshFamily>, StoreError>;
    /// MUST return `NotFound` if the family does not exist; revoking twice is not an error.
    async fn revoke_refresh_family(
        &self,
        tenant: TenantId,
        id: RefreshFamilyId,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError>;
}

/// Per-tenant signing keys.
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every key of the tenant, newest first.
    async fn signing_keys(&self, tenant: TenantId) -> Result<Vec<SigningKey>, StoreError>;
    /// Makes `key` the tenant's current key. `retire` names the key that is current now
    /// (`None` when the tenant has none) and is stamped with `retired_at = key.created_at`
    /// and `publish_until`. MUST return `Conflict` (and write nothing) if the current key is
    /// not the one named (another node rotated first).
    async fn add_signing_key(
        &self,
        key: &SigningKey,
        retire: Option<(&str, OffsetDateTime)>,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Deletes retired keys no longer published at `now`; returns how many.
    async fn prune_signing_keys(
        &self,
        tenant: TenantId,
        now: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// Everything authentication needs from a database.
pub trait AuthStore:
    CredentialStore
    + SessionStore
    + CodeStore
    + RefreshStore
    + SigningKeyStore
    + FactorStore
    + ChallengeStore
    + DeviceStore
    + AuthzStore
{
}

impl<T> AuthStore for T where
    T: CredentialStore
        + SessionStore
        + CodeStore
        + RefreshStore
        + SigningKeyStore
        + FactorStore
        + ChallengeStore
        + DeviceStore
        + AuthzStore
{
}
