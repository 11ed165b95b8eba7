//! Tessera benchmarks: a binary, not timed tests. Each subcommand prints its figures next to a
//! floor measured in the same run and never asserts time (see `docs/benchmarks.md`).
//!
//! Layer: tooling, like the server and the test kit: may depend on every crate.
//!
//! Subcommands: `http` (the real server over HTTP against a bare axum handler), `rls` (what
//! PostgreSQL row-level security costs a primary-key lookup), `scale` (a tenant with a
//! million users: bulk load rate and lookup latencies), `auth` (native sign-in with the real
//! Argon2id cost against raw hashing, read latencies during a sign-in storm, token rates),
//! `mfa` (second factors against their raw crypto), `authz` (decisions against raw Cedar, the
//! check API over HTTP, permission-graph retrieval, rule growth against casbin-rs).
//! `--json` prints one JSON document.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::cast_precision_loss
)]

mod auth;
mod authz;
mod http;
mod load;
mod mfa;
mod report;
mod rls;
mod scale;
mod setup;

use clap::{Parser, Subcommand};
use report::Report;

#[derive(Parser, Debug)]
#[command(
    name = "tessera-bench",
    version,
    about = "Tessera benchmarks (figures, never assertions)"
)]
struct Cli {
    /// Print one JSON document on stdout instead of tables (progress stays on stderr).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// User create and get-by-id throughput and latency over HTTP (SQLite, and PostgreSQL
    /// with --postgres), next to a bare axum handler.
    Http(http::Args),
    /// The cost of row-level security on a PostgreSQL primary-key lookup.
    Rls(rls::Args),
    /// A tenant with many users: bulk load rate, then lookup and list-page latencies.
    Scale(scale::Args),
    /// Password sign-ins against raw Argon2id, read latencies during a sign-in storm, and
    /// access-token sign/verify rates.
    Auth(auth::Args),
    /// TOTP and passkey verification rates per core against their raw crypto, and the
    /// latency the second step adds to a sign-in.
    Mfa(mfa::Args),
    /// Authorization: decisions against raw Cedar, the check API over HTTP against a bare
    /// axum handler, permission-graph retrieval (warm, Redis, database), and decision latency
    /// as rules grow, against casbin-rs.
    Authz(authz::Args),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let (name, mut report) = match &cli.command {
        Command::Http(_) => ("http", Report::new(cli.json, "http")),
        Command::Rls(_) => ("rls", Report::new(cli.json, "rls")),
        Command::Scale(_) => ("scale", Report::new(cli.json, "scale")),
        Command::Auth(_) => ("auth", Report::new(cli.json, "auth")),
        Command::Mfa(_) => ("mfa", Report::new(cli.json, "mfa")),
        Command::Authz(_) => ("authz", Report::new(cli.json, "authz")),
    };
    report::progress(&format!("{name}: starting (release build recommended)"));
    match cli.command {
        Command::Http(args) => http::run(args, &mut report).await?,
        Command::Rls(args) => rls::run(args, &mut report).await?,
        Command::Scale(args) => scale::run(args, &mut report).await?,
        Command::Auth(args) => auth::run(args, &mut report).await?,
        Command::Mfa(args) => mfa::run(args, &mut report).await?,
        Command::Authz(args) => authz::run(args, &mut report).await?,
    }
    report.finish();
    Ok(())
}
