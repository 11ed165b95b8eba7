//! Tessera store adapter for PostgreSQL, for scale-out deployments.
//!
//! Layer: driven adapter. It implements every store port of [`tessera_domain::ports`]
//! (`HealthProbe`, `TenantStore`, `UserStore`, `OrgUnitStore`, `ApiKeyStore`, `AuditStore`,
//! `BootstrapStore`, the authentication ports `CredentialStore`, `SessionStore`,
//! `CodeStore`, `RefreshStore`, `SigningKeyStore`, and the second-factor ports `FactorStore`,
//! `ChallengeStore`, `DeviceStore`, and the authorization port `AuthzStore`; hence `Store`).
//!
//! May depend on: the domain crate only (plus sqlx and plain libraries); nothing above it.
//!
//! Entry points: [`PostgresSettings`], [`PostgresStore::migrate`] (plain SQL migrations
//! embedded from `migrations/`, and the application role with its grants),
//! [`PostgresStore::connect`] (the application pool), and, behind the `testing` feature,
//! `testing::TestDatabase` (a throw-away database per test).
//!
//! Tenant isolation: every tenant table has forced row-level security keyed on the
//! transaction setting `tessera.tenant_id`; the pool's connections `SET ROLE` to an
//! application role that is neither superuser nor `BYPASSRLS`, which `connect` verifies. Each
//! tenant transaction starts with `BEGIN; SELECT set_config('tessera.tenant_id', ..., true)`
//! sent as one simple query (no extra round trip); every query also filters on `tenant_id`.
//!
//! Every write appends its audit journal to the tenant's hash chain in the same transaction
//! (the chain head is locked with `SELECT ... FOR UPDATE`). List cursors carry the sort key
//! as text: timestamps as RFC 3339 UTC with exactly six fractional digits
//! (`2026-11-22T15:44:00.123456Z`), usernames as their case-folded key, audit positions as the
//! decimal `seq`; the cursor id is the row's UUID. The formats are the same as the SQLite
//! adapter's.

mod api_keys;
mod audit;
mod authz;
mod authz_rows;
mod bootstrap;
mod challenges;
mod codec;
mod codes;
mod credentials;
mod custom_roles;
mod decisions;
mod devices;
mod epochs;
mod error;
mod factors;
mod org_units;
mod policy_sets;
mod pool;
mod refresh;
mod resource_types;
mod role_assignments;
mod roles;
mod sessions;
mod settings;
mod signing_keys;
mod templates;
mod tenants;
mod user_bulk;
mod user_list;
mod users;

#[cfg(feature = "testing")]
pub mod testing;

pub use pool::PostgresStore;
pub use settings::{DEFAULT_APP_ROLE, PostgresSettings};
