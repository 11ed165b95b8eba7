use std::sync::Arc;
use tessera_application::App;
use tessera_http_kit::client::Network;
use tessera_http_kit::cookies::CookiePolicy;

/// What every REST handler receives.
#[derive(Clone)]
pub struct RestState {
    pub app: App,
    /// The public base URL (issuers are `{public_url}/t/{slug}`).
    pub public_url: String,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<Network>>,
    /// How the session cookie is written.
    pub cookies: CookiePolicy,
}
