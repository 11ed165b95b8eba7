use crate::compose::{self, Backend};
use std::process::ExitCode;
use tessera_config::Settings;

async fn stop_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

pub async fn run(settings: &Settings) -> anyhow::Result<ExitCode> {
    let backend = Backend::from_settings(settings);
    tracing::info!(database = %backend.describe(), "starting Tessera");
    let app = compose::build(settings).await?;
    let server = crate::http::start(app, settings).await?;
    let url = match &settings.server.public_url {
        Some(url) => url.clone(),
        None => format!("http://{}", server.addr),
    };
    tracing::info!(listen = %server.addr, database = %backend.describe(), "Tessera is ready");
    println!(
        "Tessera is listening on http://{} ({})",
        server.addr,
        backend.describe()
    );
    println!("  API docs:  {url}/api/docs");
    println!("  Health:    {url}/readyz");
    println!(
        "First start? Run `tessera bootstrap` to create the operator tenant and an admin API key."
    );
    stop_signal().await;
    tracing::info!("stopping: finishing requests in flight");
    server.stop().await?;
    Ok(ExitCode::SUCCESS)
}
