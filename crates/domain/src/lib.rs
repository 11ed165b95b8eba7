//! Tessera domain layer.
//!
//! Entities, value objects (parsed, never raw strings), the user lifecycle state machine, the
//! hash-chained audit record and the ports (traits) through which the application reaches the
//! outside world.
//!
//! May depend on: pure libraries only (serde, time, uuid, parsing and hashing helpers).
//! Must not depend on: any web framework, SQL driver, cache client, HTTP client, runtime or vendor
//! SDK (a workspace test in `crates/server/tests/architecture.rs` enforces this).
//!
//! Entry points: [`user::User`], [`tenant::Tenant`], [`lifecycle::LifecycleState`],
//! [`audit::AuditDraft`], and the ports in [`ports`].

pub mod api_key;
pub mod audit;
pub mod auth_settings;
pub mod authz;
pub mod code;
pub mod credential;
pub mod error;
pub mod identifiers;
pub mod ids;
pub mod lifecycle;
pub mod mfa;
pub mod org_unit;
pub mod paging;
pub mod ports;
pub mod profile;
pub mod role;
pub mod session;
pub mod settings;
pub mod tenant;
pub mod token;
pub mod user;

pub use error::ValidationError;
pub use ids::*;
