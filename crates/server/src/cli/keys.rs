use crate::compose;
use std::process::ExitCode;
use tessera_application::RequestContext;
use tessera_config::Settings;

/// `tessera keys rotate --tenant T`
pub async fn rotate(settings: &Settings, tenant: &str) -> anyhow::Result<ExitCode> {
    let app = compose::build(settings).await?;
    let kid = app
        .rotate_signing_keys(&RequestContext::cli(), tenant)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("{kid}");
    eprintln!(
        "tenant `{tenant}` now signs with key {kid}; the previous key stays in the JWKS until every token it signed has expired"
    );
    Ok(ExitCode::SUCCESS)
}

/// `tessera keys list --tenant T`
pub async fn list(settings: &Settings, tenant: &str) -> anyhow::Result<ExitCode> {
    let app = compose::build(settings).await?;
    let keys = app
        .list_signing_keys(&RequestContext::cli(), tenant)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if keys.is_empty() {
        eprintln!("tenant `{tenant}` has no signing key yet (one is created at the first sign-in)");
    }
    for k in keys {
        println!(
            "{}  {:<6} {:<8} created {}{}",
            k.kid,
            k.alg.as_str(),
            if k.current { "current" } else { "retired" },
            k.created_at,
            k.publish_until
                .map(|u| format!(", published until {u}"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
