//! Tessera authorization — RBAC graph + Cedar. A pure library (no I/O, no runtime).
//!
//! Layer: authorization logic used by the application layer. May depend on: `tessera-domain`
//! and libraries (cedar-policy, moka, serde, thiserror) only.
//!
//! Entry points:
//! - [`compile`]: a user's [`PermissionGraph`](tessera_domain::authz::PermissionGraph) from
//!   the tenant's model and the user's role assignments and templates.
//! - [`Engine::build`]: the tenant's Cedar schema and validated policy set (one per model
//!   version); [`Engine::schema_text`] renders the schema for `GET /policies/schema`.
//! - [`decide`]: an [`AccessRequest`] decided as RBAC ∧ Cedar, with a [`Reason`] and an
//!   [`Explanation`].
//! - [`Caches`]: graphs and engines cached per tenant epoch.
//! - [`BUILT_IN_PERMISSIONS`], [`system_permissions`]: Tessera's own permission catalogue.
//!
//! The Cedar schema has no namespace. Entity types: `User` (attributes `state: String`,
//! `priority: Long`, `roles: Set<String>`; member of `Role`, `Group`, `OrgUnit`), `Role`,
//! `Group`, `OrgUnit` (member of `OrgUnit`), and one type per resource: the built-in ones
//! (`tenants`, `users`, `org_units`, `audit`, `api_keys`, `roles`, `policies`, `access`,
//! `customers`) and every registered resource type, each member of `OrgUnit` with optional
//! `unit: OrgUnit` and `owner: User` (set from the [`ResourceFacts`]) and, for a
//! registered type, its declared attributes (all optional). One action per permission,
//! `Action::"orders:refund"`, applying to principal `User` and its resource type; every
//! action's context is `Context`: optional `ip: String`, `mfa: Bool`, `now: Long`,
//! `hour: Long`, `weekday: Long` (1 = Monday), `channel: String`.
//!
//! In a request the principal is a member of `Role::"<key>"` for each role it holds in a
//! scope covering the resource (its `roles` attribute lists the same keys: a role held in
//! another unit does not count here); the resource is a member of its unit, each unit of the
//! next in the chain. Only the declared resource properties and context keys reach Cedar,
//! type-checked; requests are checked this way only when the tenant has policies (without
//! policies, RBAC alone answers and nothing is translated for Cedar).
//!
//! Cedar pitfalls handled here: strict validation wants `resource has x && resource.x ...`
//! for every optional attribute; a policy reading an attribute of an entity Tessera does not
//! send (`resource.owner.priority` for another user) fails to evaluate, which skips a
//! `permit` but denies through a `forbid` (fail closed).

mod caches;
mod catalogue;
mod cedar_request;
mod compile;
mod decide;
mod engine;
mod policy_error;
mod request;
mod schema;
mod shape;

pub use caches::Caches;
pub use catalogue::{BUILT_IN_PERMISSIONS, BuiltIn, bypasses_filters, system_permissions};
pub use compile::{Subject, compile};
pub use decide::{Decision, Explanation, Reason, decide};
pub use engine::Engine;
pub use policy_error::PolicyError;
pub use request::{AccessRequest, RequestError, ResourceFacts, ResourceRef};
