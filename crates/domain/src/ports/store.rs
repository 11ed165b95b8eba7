//! Persistence ports. Every write takes the [`Journal`] of audit records that must be committed
//! in the same transaction as the change: a store either commits both or neither.

use crate::api_key::ApiKey;
use crate::audit::{AuditDraft, AuditEvent, Outcome};
use crate::identifiers::PhoneNumber;
use crate::lifecycle::LifecycleState;
use crate::org_unit::{Assignment, OrgUnit};
use crate::paging::{Cursor, Page, SortOrder};
use crate::tenant::{Organization, Tenant, TenantSlug};
use crate::user::{User, UserKind};
use crate::{ApiKeyId, OrgUnitId, OrganizationId, SetupTokenId, TenantId, UserId};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Errors every store method may return. Adapters translate their driver's errors into these;
/// nothing above the adapters ever sees a driver error.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was violated. `field` is `slug`, `username`, `email`, `phone`,
    /// `assignment`...; `value` is the offending value when known.
    #[error("{field} already exists")]
    Duplicate {
        field: &'static str,
        value: Option<String>,
    },
    /// The row to change does not exist (in this tenant).
    #[error("not found")]
    NotFound,
    /// The row changed since it was read (optimistic concurrency).
    #[error("the record was changed by someone else")]
    Conflict,
    /// The row is still referenced (a unit with children or employees).
    #[error("the record is still in use")]
    InUse,
    /// The database cannot be reached.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Unexpected(Box<dyn std::error::Error + Send + Sync>),
}

/// The audit records that go with a write.
#[derive(Clone, Debug, Default)]
pub struct Journal {
    pub events: Vec<AuditDraft>,
    /// The change affects authorization decisions (roles, templates, assignments, policies,
    /// a user's state, the unit tree): the store MUST advance the epoch of every tenant of
    /// `events` in the same transaction (see [`super::AuthzStore::authz_epoch`]).
    pub authz_changed: bool,
}

impl Journal {
    pub fn one(event: AuditDraft) -> Self {
        Self {
            events: vec![event],
            authz_changed: false,
        }
    }

    /// The same journal, marked as changing authorization decisions.
    #[must_use]
    pub fn changing_authz(mut self) -> Self {
        self.authz_changed = true;
        self
    }
}

/// Liveness of the backing database.
#[async_trait]
pub trait HealthProbe: Send + Sync {
    /// MUST return `Unavailable` when the database does not answer.
    async fn ping(&self) -> Result<(), StoreError>;
}

/// Organizations and tenants (the platform registry; not itself tenant data).
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Creates the tenant, and its organization first when `new_organization` is given.
    /// MUST return `Duplicate { field: "slug" }` if the slug is taken and `NotFound` if the
    /// tenant's organization does not exist.
    async fn create_tenant(
        &self,
        new_organization: Option<&Organization>,
        tenant: &Tenant,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    async fn organization(&self, id: OrganizationId) -> Result<Option<Organization>, StoreError>;
    async fn tenant_by_slug(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError>;
    async fn tenant_by_id(&self, id: TenantId) -> Result<Option<Tenant>, StoreError>;
    /// Tenants ordered by slug; the cursor key is the slug.
    async fn list_tenants(
        &self,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Tenant>, StoreError>;
    /// Stores `tenant` (whose `version` is already `expected_version + 1`).
    /// MUST return `Conflict` if the stored version is not `expected_version`, `NotFound` if
    /// the tenant does not exist.
    async fn update_tenant(
        &self,
        tenant: &Tenant,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError>;
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum UserSort {
    #[default]
    CreatedAt,
    UpdatedAt,
    Username,
}

/// Which users to list. Identifier filters are exact matches on the normalised form.
#[derive(Clone, Debug, Default)]
pub struct UserQuery {
    /// Lower-cased email address.
    pub email: Option<String>,
    pub phone: Option<PhoneNumber>,
    /// Case-folded username key.
    pub username: Option<String>,
    /// When `None`, deleted users are left out.
    pub state: Option<LifecycleState>,
    pub kind: Option<UserKind>,
    /// Customers linked to this unit.
    pub org_unit_id: Option<OrgUnitId>,
    /// Only the users within the caller's data scope; `None`: no such filter.
    pub within: Option<crate::authz::Within>,
    pub sort: UserSort,
    pub order: SortOrder,
    pub after: Option<Cursor>,
    pub limit: u32,
}

/// Users and their identifiers.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// MUST return `Duplicate { field: "username" | "email" | "phone", value }` if an
    /// identifier is already used by another user of the tenant; nothing is written then.
    async fn insert_user(&self, user: &User, journal: &Journal) -> Result<(), StoreError>;
    /// Inserts many users of one tenant, their identifiers and `journal`, all or nothing in
    /// one transaction (the bulk path: adapters batch the rows). MUST return
    /// `Duplicate { field: "username" | "email" | "phone", value }` if an identifier is
    /// already used in the tenant or appears twice within `users`, `NotFound` as
    /// `insert_user` does, and `Unexpected` if the users are not all of one tenant; nothing
    /// is written then. An empty slice writes only the journal.
    async fn insert_users(&self, users: &[User], journal: &Journal) -> Result<(), StoreError>;
    /// Returns `None` for an id of another tenant.
    async fn user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user holding this email (lower-cased) in the tenant.
    async fn user_by_email(
        &self,
        tenant: TenantId,
        email_key: &str,
    ) -> Result<Option<User>, StoreError>;
    async fn list_users(
        &self,
        tenant: TenantId,
        query: &UserQuery,
    ) -> Result<Page<User>, StoreError>;
    /// Replaces the user and their identifiers (`user.version` is already
    /// `expected_version + 1`). MUST return `Conflict` on a version mismatch, `NotFound` if
    /// absent, `Duplicate` as `insert_user` does. When the new state is suspended,
    /// deactivated or deleted, every session and refresh token of the user is revoked in
    /// the same transaction.
    async fn update_user(
        &self,
        user: &User,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Removes the user, their identifiers, assignments, password, sessions, codes and
    /// refresh tokens for good. MUST return `NotFound`
    /// if absent.
    async fn erase_user(
        &self,
        tenant: TenantId,
        id: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError>;
}

/// Organization units and employee assignments.
#[async_trait]
pub trait OrgUnitStore: Send + Sync {
    /// MUST return `NotFound` if the parent does not exist in the tenant.
    async fn insert_unit(&self, unit: &OrgUnit, journal: &Journal) -> Result<(), StoreError>;
    async fn unit(&self, tenant: TenantId, id: OrgUnitId) -> Result<Option<OrgUnit>, StoreError>;
    /// Units ordered by id; `parent` filters on direct children (`Some(None)`: roots).
    async fn list_units(
        &self,
        tenant: TenantId,
        parent: Option<Option<OrgUnitId>>,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<OrgUnit>, StoreError>;
    /// The unit and all its descendants.
    async fn subtree(
        &self,
        tenant: TenantId,
        root: OrgUnitId,
    ) -> Result<Vec<OrgUnitId>, StoreError>;
    /// MUST return `Conflict` on a version mismatch, `NotFound` if absent.
    async fn update_unit(
        &self,
        unit: &OrgUnit,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// MUST return `InUse` if the unit has children, employees or customers, `NotFound` if
    /// absent.
    async fn delete_unit(
        &self,
        tenant: TenantId,
        id: OrgUnitId,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// MUST return `Duplicate { field: "assignment" }` if the user is already assigned.
    async fn assign(&self, assignment: &Assignment, journal: &Journal) -> Result<(), StoreError>;
    /// MUST return `NotFound` if the user is not assigned to the unit.
    async fn unassign(
        &self,
        tenant: TenantId,
        unit: OrgUnitId,
        user: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError>;
    /// Assignments of a unit ordered by user id; the cursor key is the user id.
    async fn unit_assignments(
        &self,
        tenant: TenantId,
        unit: OrgUnitId,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<Assignment>, StoreError>;
    async fn user_assignments(
        &self,
        tenant: TenantId,
        user: UserId,
    ) -> Result<Vec<Assignment>, StoreError>;
}

/// Admin API keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    async fn insert_api_key(&self, key: &ApiKey, journal: &Journal) -> Result<(), StoreError>;
    /// The key of the tenant whose secret hashes to `secret_hash`.
    async fn api_key_by_hash(
        &self,
        tenant: TenantId,
        secret_hash: &str,
    ) -> Result<Option<ApiKey>, StoreError>;
    async fn api_key(&self, tenant: TenantId, id: ApiKeyId) -> Result<Option<ApiKey>, StoreError>;
    /// Keys ordered by id, newest last.
    async fn list_api_keys(
        &self,
        tenant: TenantId,
        after: Option<&Cursor>,
        limit: u32,
    ) -> Result<Page<ApiKey>, StoreError>;
    /// Records a use (not audited: it is not a state change a person made).
    async fn touch_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// MUST return `NotFound` if the key does not exist or is already revoked.
    async fn revoke_api_key(
        &self,
        tenant: TenantId,
        id: ApiKeyId,
        at: OffsetDateTime,
        journal: &Journal,
    ) -> Result<(), StoreError>;
}

/// Which audit events to list.
#[derive(Clone, Debug, Default)]
pub struct AuditQuery {
    pub action: Option<String>,
    /// Actions starting with this prefix (for example `auth.login` for the login history).
    pub action_prefix: Option<String>,
    pub actor_id: Option<String>,
    pub subject_id: Option<String>,
    pub outcome: Option<Outcome>,
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    /// Newest first when `Desc`.
    pub order: SortOrder,
    /// The cursor key is the `seq`.
    pub after: Option<Cursor>,
    pub limit: u32,
}

/// The audit trail. Appends happen inside the writes above; this port reads and verifies.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends events that go with no other change (for example refused requests).
    async fn append(&self, journal: &Journal) -> Result<(), StoreError>;
    async fn list_audit(
        &self,
        tenant: TenantId,
        query: &AuditQuery,
    ) -> Result<Page<AuditEvent>, StoreError>;
    /// The last `(seq, hash)` of the tenant's chain.
    async fn audit_head(&self, tenant: TenantId) -> Result<Option<(i64, String)>, StoreError>;
}

/// The one-time link bootstrap prints for the first administrator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupToken {
    pub id: SetupTokenId,
    pub tenant_id: TenantId,
    pub user_id: UserId,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub expires_at: OffsetDateTime,
}

/// Everything `tessera bootstrap` creates, written at once.
#[derive(Clone, Debug)]
pub struct BootstrapSet {
    pub organization: Organization,
    pub tenant: Tenant,
    pub admin: User,
    pub api_key: ApiKey,
    pub setup_token: SetupToken,
}

#[async_trait]
pub trait BootstrapStore: Send + Sync {
    /// Writes the whole set in one transaction. MUST return `Duplicate { field: "slug" }` if
    /// the operator tenant already exists; nothing is written then.
    async fn bootstrap(&self, set: &BootstrapSet, journal: &Journal) -> Result<(), StoreError>;
}

/// Everything the application needs from a database.
pub trait Store:
    HealthProbe
    + TenantStore
    + UserStore
    + OrgUnitStore
    + ApiKeyStore
    + AuditStore
    + BootstrapStore
    + super::AuthStore
{
}

impl<T> Store for T where
    T: HealthProbe
        + TenantStore
        + UserStore
        + OrgUnitStore
        + ApiKeyStore
        + AuditStore
        + BootstrapStore
        + super::AuthStore
{
}
