use crate::compose;
use anyhow::anyhow;
use serde_json::json;
use std::process::ExitCode;
use tessera_application::{BootstrapOutput, BootstrapRequest, Error, RequestContext};
use tessera_config::Settings;
use tessera_domain::identifiers::{Email, Username};
use time::format_description::well_known::Rfc3339;

/// Bootstraps the installation the settings point at (migrating first), exactly as
/// `tessera bootstrap` does.
pub async fn bootstrap(
    settings: &Settings,
    admin_username: &str,
    admin_email: Option<&str>,
) -> anyhow::Result<BootstrapOutput> {
    let admin_username =
        Username::parse(admin_username).map_err(|e| anyhow!("--admin-username: {}", e.message))?;
    let admin_email = admin_email
        .map(Email::parse)
        .transpose()
        .map_err(|e| anyhow!("--admin-email: {}", e.message))?;
    let app = compose::build(settings).await?;
    let request = BootstrapRequest {
        public_url: settings.public_url(),
        admin_username,
        admin_email,
    };
    app.bootstrap(&RequestContext::cli(), request)
        .await
        .map_err(|e| match e {
            Error::Conflict { message, .. } => anyhow!(message),
            other => anyhow!(other),
        })
}

pub async fn run(
    settings: &Settings,
    as_json: bool,
    admin_username: &str,
    admin_email: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let out = bootstrap(settings, admin_username, admin_email).await?;
    let key_expiry = out.api_key_expires_at.format(&Rfc3339)?;
    let link_expiry = out.setup_link_expires_at.format(&Rfc3339)?;
    if as_json {
        let doc = json!({
            "tenant": out.tenant,
            "tenant_id": out.tenant_id,
            "admin_user_id": out.admin_user_id,
            "admin_username": out.admin_username,
            "api_key": out.api_key,
            "api_key_expires_at": key_expiry,
            "setup_link": out.setup_link,
            "setup_link_expires_at": link_expiry,
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        println!("Tessera is bootstrapped.");
        println!("  Operator tenant:  {} ({})", out.tenant, out.tenant_id);
        println!(
            "  Administrator:    {} ({})",
            out.admin_username, out.admin_user_id
        );
        println!("  Admin API key:    {}", out.api_key);
        println!("                    expires {key_expiry}; shown once: store it now");
        println!("  Setup link:       {}", out.setup_link);
        println!("                    single use, expires {link_expiry}");
    }
    Ok(ExitCode::SUCCESS)
}
