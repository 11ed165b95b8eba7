//! The HTTP server: every interface's routes behind the common layers, on a socket.

use crate::ops;
use anyhow::Context;
use axum::Router;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use tessera_application::App;
use tessera_config::Settings;
use tessera_http_kit::client::Network;
use tessera_http_kit::cookies::CookiePolicy;
use tessera_http_kit::layers::{self, HttpSettings};
use tessera_http_kit::metrics::HttpMetrics;
use tessera_http_rest::RestState;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The whole HTTP surface of Tessera.
/// `public_url` is the configured one, or the address actually bound.
pub fn router(app: App, settings: &Settings, public_url: String) -> Router {
    let mut registry = Registry::with_prefix("tessera");
    let metrics = HttpMetrics::register(&mut registry);
    let app = app.with_public_url(&public_url);
    let trusted_proxies: Arc<Vec<Network>> = Arc::new(
        settings
            .server
            .trusted_proxies
            .iter()
            .filter_map(|p| p.parse().ok())
            .collect(),
    );
    let cookies = CookiePolicy::for_public_url(&public_url);
    let pages = tessera_web_ui::router(tessera_web_ui::WebState {
        app: app.clone(),
        trusted_proxies: trusted_proxies.clone(),
        cookies,
        public_url: public_url.clone(),
    });
    let rest = tessera_http_rest::router(RestState {
        app: app.clone(),
        public_url,
        trusted_proxies,
        cookies,
    });
    let router = Router::new()
        .merge(rest)
        .merge(pages)
        .merge(ops::routes(app, Arc::new(registry)));
    layers::apply(
        router,
        &HttpSettings {
            max_body_bytes: settings.server.max_body_bytes,
            hsts: settings.server.behind_tls,
        },
        metrics,
    )
}

/// A server running in the background.
pub struct RunningServer {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Stops accepting, lets requests in flight finish for at most `grace`, then drops the
    /// remaining ones, and waits.
    pub async fn stop(mut self, grace: std::time::Duration) -> anyhow::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(joined) => joined
                .context("server task failed")?
                .context("server failed"),
            Err(_) => {
                tracing::warn!(
                    grace_secs = grace.as_secs(),
                    "requests still in flight after the shutdown grace period: dropping them"
                );
                self.task.abort();
                Ok(())
            }
        }
    }

    /// Waits until the server stops (on its own, or after `stop`).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task
            .await
            .context("server task failed")?
            .context("server failed")
    }
}

/// Binds `settings.server.listen` and serves `app` until stopped (or until `stop_signal`
/// resolves, when given).
pub async fn start(app: App, settings: &Settings) -> anyhow::Result<RunningServer> {
    let listener = TcpListener::bind(&settings.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.server.listen))?;
    let addr = listener.local_addr()?;
    let public_url = match &settings.server.public_url {
        Some(_) => settings.public_url(),
        None => format!("http://{addr}"),
    };
    let router = router(app, settings, public_url);
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
    });
    Ok(RunningServer {
        addr,
        shutdown: Some(tx),
        task,
    })
}
