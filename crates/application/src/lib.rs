//! Tessera application layer: the use cases (tenants, users, customers, organization units,
//! API keys, audit, bootstrap, native authentication, authorization) written against the
//! domain ports.
//!
//! May depend on: `tessera-domain`, `tessera-authz` (the pure RBAC + Cedar engine) and pure
//! libraries (serde, time, uuid, hashing, JSON Schema).
//! Must not depend on: any web framework, SQL driver, cache client, HTTP client or vendor SDK;
//! nor on any adapter or interface crate (enforced by `crates/server/tests/architecture.rs`).
//!
//! Entry point: [`App`], built once by the server from its ports ([`Ports`]); every use case
//! takes a [`RequestContext`] saying who asks and from where.

mod api_keys;
mod app;
mod audit;
mod auth;
mod authz;
mod bootstrap;
mod cached;
mod changes;
mod context;
mod cursor;
mod customers;
mod error;
mod my_keys;
mod org_units;
mod tenants;
mod users;

pub use api_keys::{ApiKeyCreated, NewApiKey};
pub use app::{App, Ports};
pub use audit::VerifyReport;
pub use auth::assurance::Factors;
pub use auth::codes::Identifier;
pub use auth::import::{ImportItem, ImportReport, MAX_IMPORT_BATCH, Skipped};
pub use auth::keyring::SigningKeyInfo;
pub use auth::passkeys::PasskeyCeremony;
pub use auth::passwordless::LinkCheck;
pub use auth::registration::{Registered, Registration, mask};
pub use auth::second_factor::Proof;
pub use auth::sessions::{SessionInfo, SignedIn};
pub use auth::signin::{Browser, NewSession, describe_device};
pub use auth::tokens::{ACCESS_TOKEN_TYP, NATIVE_CLIENT_ID, TokenPair};
pub use auth::totp::{BACKUP_CODES, Enrolled, TotpEnrolment};
pub use authz::evaluate::{BatchSemantic, Evaluation, MAX_BATCH, Verdict};
pub use authz::roles::{NewRole, RolePatch, RoleView};
pub use authz::simulate::{
    ChangedDecision, MAX_SIMULATED, Outcome, ProposedChange, Replay, SimulationReport,
};
pub use authz::templates::{PermissionInfo, TemplateInput};
pub use bootstrap::{BootstrapOutput, BootstrapRequest};
pub use context::{Principal, RequestContext};
pub use cursor::{decode_cursor, encode_cursor};
pub use customers::NewCustomer;
pub use error::{AuthFailure, Error};
pub use org_units::{NewOrgUnit, OrgUnitPatch};
pub use tenants::{NewTenant, TenantPatch};
pub use tessera_authz::{Explanation, Reason};
pub use users::{NewUser, SettingsPatch, UserPatch};
