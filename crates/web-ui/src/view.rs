//! What every page shares: the layout (tenant branding, CSRF token, notice, error summary),
//! rendering with its status, and the error page.

use crate::assets;
use crate::form::FormErrors;
use crate::request::Visit;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tessera_domain::tenant::Tenant;

/// The frame of a page.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    /// The page's heading (and `<title>`).
    pub title: String,
    pub tenant_name: String,
    pub logo_url: Option<String>,
    /// The tenant's slug ("" on pages outside a tenant).
    pub slug: String,
    pub css_href: String,
    /// The hidden field value of every form.
    pub csrf: String,
    pub notice: Option<String>,
    pub errors: FormErrors,
    /// Who is signed in, for the header's sign-out button.
    pub signed_in: Option<String>,
    /// The passkey script's URL, on pages that run a WebAuthn ceremony.
    pub script: Option<String>,
}

impl Layout {
    pub(crate) fn new(tenant: &Tenant, visit: &Visit, title: &str) -> Self {
        Self {
            title: title.to_owned(),
            tenant_name: tenant.display_name.clone(),
            logo_url: tenant.settings.auth.logo_url.clone(),
            slug: tenant.slug.as_str().to_owned(),
            css_href: assets::css_href(),
            csrf: visit.csrf.value.clone(),
            notice: None,
            errors: FormErrors::default(),
            signed_in: None,
            script: None,
        }
    }

    /// A page outside any tenant (or whose tenant could not be read).
    pub(crate) fn bare(visit: &Visit, title: &str) -> Self {
        Self {
            title: title.to_owned(),
            tenant_name: "Tessera".to_owned(),
            logo_url: None,
            slug: String::new(),
            css_href: assets::css_href(),
            csrf: visit.csrf.value.clone(),
            notice: None,
            errors: FormErrors::default(),
            signed_in: None,
            script: None,
        }
    }

    pub(crate) fn notice(mut self, key: Option<&str>) -> Self {
        self.notice = crate::notice::message(key).map(str::to_owned);
        self
    }

    pub(crate) fn errors(mut self, errors: FormErrors) -> Self {
        self.errors = errors;
        self
    }

    /// Loads the passkey script (`/assets/webauthn.js`).
    pub(crate) fn passkeys(mut self) -> Self {
        self.script = Some(assets::js_href());
        self
    }

    /// Names the signed-in person in the header (with the sign-out button).
    pub(crate) fn signed_in(mut self, who: impl Into<String>) -> Self {
        self.signed_in = Some(who.into());
        self
    }

    /// `/t/{slug}/{rest}`
    pub(crate) fn href(&self, rest: &str) -> String {
        format!("/t/{}/{rest}", self.slug)
    }
}

/// An HTML answer; a template that fails to render (a bug) becomes a generic 500.
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html("<!doctype html><title>Error</title><p>Something went wrong. Try again later.</p>"),
            )
                .into_response()
        }
    }
}

/// Adds `Retry-After` to a throttled answer.
pub(crate) fn retry_after(mut response: Response, secs: Option<u64>) -> Response {
    if let Some(secs) = secs
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// A page that only explains what went wrong and where to go on.
#[derive(Template)]
#[template(path = "error.html")]
pub(crate) struct ErrorPage {
    pub page: Layout,
    pub message: String,
    pub back: String,
    pub back_label: &'static str,
}

impl ErrorPage {
    pub(crate) fn bare(title: &str, message: &str, back: &str, visit: &Visit) -> Self {
        Self {
            page: Layout::bare(visit, title),
            message: message.to_owned(),
            back: back.to_owned(),
            back_label: "Go back",
        }
    }
}
