//! Tessera wire types: the JSON bodies of the admin REST API (`/api/v1`), with their OpenAPI
//! schemas. Field names are snake_case; request bodies refuse unknown fields.
//!
//! May depend on: serde, time, uuid, utoipa. Must not depend on the domain (interfaces
//! convert between these and domain values) nor on any framework or adapter.
//!
//! Entry points: one module per REST resource.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod authz;
pub mod common;
pub mod mfa;
pub mod org_units;
pub mod tenants;
pub mod users;
