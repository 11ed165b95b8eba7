//! Black-box tests: the real application on 127.0.0.1:0, a fresh database per test (SQLite, or
//! PostgreSQL when TESSERA_TEST_DATABASE_URL is set), driven over HTTP.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::disallowed_methods
)]

mod audit;
mod auth;
mod authz;
mod authz_matrix;
mod authz_nodes;
mod bad_input;
mod bulk;
mod canary;
mod cli;
mod lifecycle;
mod mfa;
mod native_auth;
mod ops;
mod org_units;
mod passkey_client;
mod passkeys;
mod scale_out;
mod tenants;
mod tokens;
mod users;
