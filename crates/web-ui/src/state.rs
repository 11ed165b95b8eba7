use std::sync::Arc;
use tessera_application::App;
use tessera_http_kit::client::Network;
use tessera_http_kit::cookies::CookiePolicy;

/// What every page handler receives.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    /// Proxies whose `X-Forwarded-For` is believed (the client address of audit records,
    /// sessions and throttling).
    pub trusted_proxies: Arc<Vec<Network>>,
    /// How the session cookie (and the CSRF cookie beside it) is written.
    pub cookies: CookiePolicy,
    /// The public base URL: a POST whose `Origin` is another origin is refused.
    pub public_url: String,
}
