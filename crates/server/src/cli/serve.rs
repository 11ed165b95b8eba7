use crate::compose::{self, Backend};
use std::process::ExitCode;
use tessera_config::Settings;

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, so call it
/// before announcing that the server is ready.
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    })
}

pub async fn run(settings: &Settings) -> anyhow::Result<ExitCode> {
    let backend = Backend::from_settings(settings);
    tracing::info!(database = %backend.describe(), "starting Tessera");
    let stop = stop_signal()?;
    let app = compose::build(settings).await?;
    let rotation = crate::schedule::start_key_rotation(app.clone(), settings);
    let pruning = crate::schedule::start_challenge_pruning(app.clone());
    let server = crate::http::start(app, settings).await?;
    let url = match &settings.server.public_url {
        Some(url) => url.clone(),
        None => format!("http://{}", server.addr),
    };
    tracing::info!(listen = %server.addr, database = %backend.describe(), "Tessera is ready");
    // Written without println!: a closed stdout (`tessera serve | head -1`) must not stop the
    // server.
    let announcement = format!(
        "Tessera is listening on http://{} ({})\n  API docs:  {url}/api/docs\n  Health:    {url}/readyz\nFirst start? Run `tessera bootstrap` to create the operator tenant and an admin API key.\n",
        server.addr,
        backend.describe()
    );
    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = out
            .write_all(announcement.as_bytes())
            .and_then(|()| out.flush());
    }
    stop.await;
    if let Some(task) = rotation {
        task.abort();
    }
    pruning.abort();
    tracing::info!("stopping: finishing requests in flight");
    server
        .stop(std::time::Duration::from_secs(
            settings.server.shutdown_grace_secs,
        ))
        .await?;
    Ok(ExitCode::SUCCESS)
}
