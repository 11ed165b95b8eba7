//! Tessera pages for people: sign-in, registration, identifier verification, password
//! recovery and the account portal (profile, password, sessions, identifiers, login
//! history). Server-rendered HTML (askama templates compiled into the binary), one vendored
//! stylesheet, no JavaScript.
//!
//! Layer: interface. May depend on the application, the domain and `tessera-http-kit`
//! (client address, session cookie); never on an adapter.
//!
//! Security: every state-changing POST carries a CSRF token that must equal the CSRF cookie
//! (double submit, compared in constant time) and is refused when its `Origin` header names
//! another site than the public URL; every page is sent with a strict Content-Security-Policy
//! (no inline script or style), `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and
//! `Cache-Control: no-store`. Codes, passwords and reset tickets never appear in a URL.
//!
//! Entry point: [`router`] with a [`WebState`].

mod assets;
mod csrf;
mod errors;
mod form;
mod headers;
mod notice;
mod pages;
mod request;
mod return_to;
mod state;
mod view;

pub use return_to::safe_return_to;
pub use state::WebState;

use axum::Router;
use axum::routing::{get, post};

/// The pages (under `/t/{t}/...`), the logout action and the stylesheet (`/assets/tessera.css`).
pub fn router(state: WebState) -> Router {
    use pages::{account, login, recover, register, verify};
    let pages = Router::new()
        .route("/t/{t}/login", get(login::show).post(login::submit))
        .route("/t/{t}/logout", post(login::logout))
        .route(
            "/t/{t}/register",
            get(register::show).post(register::submit),
        )
        .route("/t/{t}/verify", get(verify::show).post(verify::submit))
        .route("/t/{t}/verify/resend", post(verify::resend))
        .route(
            "/t/{t}/recover",
            get(recover::show_start).post(recover::submit_start),
        )
        .route(
            "/t/{t}/recover/code",
            get(recover::show_code).post(recover::submit_code),
        )
        .route(
            "/t/{t}/recover/reset",
            get(recover::show_reset).post(recover::submit_reset),
        )
        .route("/t/{t}/account", get(account::show))
        .route("/t/{t}/account/password", post(account::change_password))
        .route("/t/{t}/account/sessions/end", post(account::end_session))
        .route(
            "/t/{t}/account/sessions/end-others",
            post(account::end_others),
        )
        .route("/t/{t}/account/sessions/end-all", post(account::end_all))
        .route("/t/{t}/account/identifiers", post(account::add_identifier))
        .route(
            "/t/{t}/account/identifiers/verify",
            post(account::verify_identifier),
        )
        .route(
            "/t/{t}/account/identifiers/remove",
            post(account::remove_identifier),
        )
        .layer(axum::middleware::map_response(headers::page_headers))
        .with_state(state);
    Router::new()
        .route(assets::CSS_PATH, get(assets::stylesheet))
        .merge(pages)
}
