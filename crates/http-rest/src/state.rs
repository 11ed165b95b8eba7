use tessera_application::App;

/// What every REST handler receives.
#[derive(Clone)]
pub struct RestState {
    pub app: App,
    /// The public base URL (issuers are `{public_url}/t/{slug}`).
    pub public_url: String,
}
