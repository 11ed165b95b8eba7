//! Tessera store adapter for SQLite, the embedded default.
//!
//! Layer: driven adapter. It implements every store port of [`tessera_domain::ports`]
//! (`HealthProbe`, `TenantStore`, `UserStore`, `OrgUnitStore`, `ApiKeyStore`, `AuditStore`,
//! `BootstrapStore`, the authentication stores `CredentialStore`, `SessionStore`,
//! `CodeStore`, `RefreshStore`, `SigningKeyStore`, and the second-factor stores
//! `FactorStore`, `ChallengeStore`, `DeviceStore`, and the authorization store `AuthzStore`;
//! hence `Store`) over one SQLite file in WAL mode.
//!
//! May depend on: the domain crate only (plus sqlx and plain libraries); nothing above it.
//!
//! Entry points: [`SqliteStore::open`], [`SqliteStore::open_in_memory`] and
//! [`SqliteStore::migrate`] (plain SQL migrations embedded from `migrations/`).
//!
//! Storage decisions: ids are lower-case hyphenated UUID text, instants are integer unix
//! microseconds, JSON documents are text. Every write runs in a `BEGIN IMMEDIATE` transaction
//! that also appends its audit journal to the tenant's hash chain, so that concurrent writers
//! queue on the busy timeout instead of failing on a lock upgrade. List cursors carry the
//! sort key as text: timestamps as RFC 3339 UTC with exactly six fractional digits
//! (`2026-11-22T15:44:00.123456Z`), usernames as their case-folded key, audit positions as the
//! decimal `seq`; the cursor id is the row's UUID.

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
mod sessions;
mod signing_keys;
mod templates;
mod tenants;
mod user_list;
mod users;

pub use pool::SqliteStore;
