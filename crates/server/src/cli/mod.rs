//! The `tessera` command line: `serve`, `migrate`, `bootstrap`, `check-config`, `audit verify`.

mod audit;
pub mod bootstrap;
mod import;
mod keys;
mod serve;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use tessera_config::Settings;

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "Tessera: a self-hosted identity, access and user-management server",
    long_about = "Tessera: a self-hosted identity, access and user-management server.\n\n\
        With no configuration it keeps its data in an embedded SQLite database under ./tessera-data.\n\
        Settings come from defaults, then the --config TOML file, then TESSERA_SECTION__KEY\n\
        environment variables (for example TESSERA_DATABASE__URL=postgres://...); any secret X may\n\
        instead be read from a file named by X_FILE. See docs/configuration.md.",
    after_help = "First start:\n  tessera serve            # in one terminal\n  tessera bootstrap --json # in another: prints an admin API key and a setup link"
)]
pub struct Cli {
    /// TOML configuration file.
    #[arg(long, global = true, env = "TESSERA_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Directory of the embedded database and the generated master key [default: ./tessera-data].
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: applies pending migrations, then serves the admin API, the docs and
    /// the operations endpoints until interrupted (Ctrl-C or SIGTERM stop it gracefully).
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// First start: create the operator tenant `system`, its administrator, a one-time setup
    /// link and an admin API key valid for 24 hours. Refuses to run twice.
    Bootstrap {
        /// Print the result as JSON (for scripts).
        #[arg(long)]
        json: bool,
        /// Username of the first administrator.
        #[arg(long, default_value = "admin", value_name = "NAME")]
        admin_username: String,
        /// Email address of the first administrator.
        #[arg(long, value_name = "EMAIL")]
        admin_email: Option<String>,
    },
    /// Check the configuration and print the effective settings (secrets masked).
    CheckConfig,
    /// Audit trail tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Token signing keys of a tenant.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Import data from another system.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Make a new key the tenant's signing key; the previous one stays published in the JWKS
    /// until every token it signed has expired. Prints the new key id.
    Rotate {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
    },
    /// List the tenant's signing keys.
    List {
        #[arg(long, value_name = "SLUG")]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
enum ImportCommand {
    /// Import users from JSON Lines (one object per line) or CSV (a header line naming the
    /// fields): username, email, email_verified, phone, phone_verified, given_name,
    /// family_name, password_hash (bcrypt $2a$/$2b$/$2y$ or $argon2id$). bcrypt hashes are
    /// replaced by Argon2id at each user's first sign-in. Records that cannot be imported are
    /// skipped and reported with the reason.
    Users {
        /// The file to import (.jsonl or .csv).
        file: PathBuf,
        /// The tenant to import into.
        #[arg(long, value_name = "SLUG")]
        tenant: String,
        /// The file's format [default: from its extension].
        #[arg(long, value_enum)]
        format: Option<import::Format>,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the hash chain of every tenant (or one): detects edited, deleted or reordered
    /// events and names the first bad one. Exits with status 1 if a chain is broken.
    Verify {
        /// Only this tenant (slug).
        #[arg(long, value_name = "SLUG")]
        tenant: Option<String>,
    },
}

/// Loads the settings and applies the command-line overrides.
fn settings(cli: &Cli, listen: Option<&String>) -> Result<Settings, tessera_config::ConfigError> {
    let mut settings = tessera_config::load(cli.config.as_deref())?;
    if let Some(dir) = &cli.data_dir {
        settings.server.data_dir.clone_from(dir);
    }
    if let Some(listen) = listen {
        settings.server.listen.clone_from(listen);
    }
    Ok(settings)
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// Runs the command line; the binary's whole `main`.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } => listen.as_ref(),
        _ => None,
    };
    let settings = match settings(&cli, listen) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    if let Command::CheckConfig = cli.command {
        if let Some(key) = &settings.security.master_key
            && let Err(e) = tessera_crypto::MasterKey::from_base64(key.expose())
        {
            eprintln!("error: invalid configuration: security.master_key: {e}");
            return ExitCode::from(2);
        }
        print!("{}", settings.effective_toml());
        eprintln!("configuration is valid");
        return ExitCode::SUCCESS;
    }
    crate::telemetry::init(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("cannot start the async runtime: {e}")),
    };
    runtime.block_on(async move {
        let result = match cli.command {
            Command::Serve { .. } => serve::run(&settings).await,
            Command::Migrate => crate::compose::migrate(&settings).await.map(|()| {
                eprintln!(
                    "migrations applied ({})",
                    crate::compose::Backend::from_settings(&settings).describe_migrations()
                );
                ExitCode::SUCCESS
            }),
            Command::Bootstrap {
                json,
                admin_username,
                admin_email,
            } => bootstrap::run(&settings, json, &admin_username, admin_email.as_deref()).await,
            Command::Audit {
                command: AuditCommand::Verify { tenant },
            } => audit::verify(&settings, tenant.as_deref()).await,
            Command::Keys {
                command: KeysCommand::Rotate { tenant },
            } => keys::rotate(&settings, &tenant).await,
            Command::Keys {
                command: KeysCommand::List { tenant },
            } => keys::list(&settings, &tenant).await,
            Command::Import {
                command:
                    ImportCommand::Users {
                        file,
                        tenant,
                        format,
                    },
            } => import::users(&settings, &tenant, &file, format).await,
            Command::CheckConfig => Ok(ExitCode::SUCCESS),
        };
        result.unwrap_or_else(|e| fail(format!("{e:#}")))
    })
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
