//! Tessera server: the composition root. The only crate that sees both the application and
//! the adapters: it reads the configuration, opens the store, builds the [`App`] from its
//! ports, assembles the HTTP router and runs the `tessera` command line.
//!
//! May depend on: every crate of the workspace. Nothing depends on it but the binary and the
//! test kit.
//!
//! Entry points: [`cli::run`] (the binary), [`compose::build`] (the application, as tests
//! build it too), [`http::start`] (a running server on a socket).

pub mod cli;
pub mod compose;
pub mod http;
mod ops;
pub mod schedule;
mod system;
pub mod telemetry;

pub use tessera_application::App;
