//! Tessera pages for people: sign-in (password, then a second factor or its forced
//! enrolment; passwordless with a passkey, a code or an email link), registration, identifier
//! verification, password recovery, the account portal (profile, password, sessions,
//! identifiers, login history), sign-in security (authenticator app, backup codes, passkeys,
//! remembered devices) and step-up. Server-rendered HTML (askama templates compiled into the
//! binary), one vendored stylesheet, and one static script for the WebAuthn ceremonies
//! (`/assets/webauthn.js`; every page works without it except the passkey buttons, which it
//! reveals).
//!
//! Layer: interface. May depend on the application, the domain and `tessera-http-kit`
//! (client address, session cookie); never on an adapter.
//!
//! Security: every state-changing POST carries a CSRF token that must equal the CSRF cookie
//! (double submit, compared in constant time) and is refused when its `Origin` header names
//! another site than the public URL; every page is sent with a strict Content-Security-Policy
//! (no inline script or style), `X-Frame-Options: DENY`, `Referrer-Policy: no-referrer` and
//! `Cache-Control: no-store`. Codes, passwords and reset tickets never appear in a URL (a
//! sign-in link's token does: it is the link; opened in another browser than the one that
//! asked for it, it only signs in after a confirmation POST).
//!
//! Entry point: [`router`] with a [`WebState`].

mod assets;
mod csrf;
mod errors;
mod form;
mod headers;
mod notice;
mod pages;
mod qr;
mod request;
mod return_to;
mod state;
mod view;

pub use return_to::safe_return_to;
pub use state::WebState;

use axum::Router;
use axum::routing::{get, post};

/// The pages (under `/t/{t}/...`), the logout action, the stylesheet
/// (`/assets/tessera.css`) and the passkey script (`/assets/webauthn.js`).
pub fn router(state: WebState) -> Router {
    use pages::{
        account, enrol, login, passwordless, recover, register, second_step, security, step_up,
        verify,
    };
    let pages = Router::new()
        .route("/t/{t}/login", get(login::show).post(login::submit))
        .route(
            "/t/{t}/login/mfa",
            get(second_step::show).post(second_step::submit),
        )
        .route(
            "/t/{t}/login/mfa/passkey/options",
            post(second_step::passkey_options),
        )
        .route("/t/{t}/login/enrol", get(enrol::show))
        .route("/t/{t}/login/enrol/totp", post(enrol::confirm_totp))
        .route(
            "/t/{t}/login/enrol/passkey/options",
            post(enrol::passkey_options),
        )
        .route("/t/{t}/login/enrol/passkey", post(enrol::register_passkey))
        .route(
            "/t/{t}/login/passkey/options",
            post(passwordless::passkey_options),
        )
        .route("/t/{t}/login/passkey", post(passwordless::passkey))
        .route(
            "/t/{t}/login/code",
            get(passwordless::show_code).post(passwordless::send_code),
        )
        .route("/t/{t}/login/code/verify", post(passwordless::submit_code))
        .route(
            "/t/{t}/login/email-link",
            get(passwordless::show_link_request).post(passwordless::send_link),
        )
        .route("/t/{t}/login/link-sent", get(passwordless::link_sent))
        .route(
            "/t/{t}/login/link",
            get(passwordless::open_link).post(passwordless::confirm_link),
        )
        .route("/t/{t}/step-up", get(step_up::show).post(step_up::submit))
        .route(
            "/t/{t}/step-up/passkey/options",
            post(step_up::passkey_options),
        )
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
        .route("/t/{t}/account/security", get(security::show))
        .route(
            "/t/{t}/account/security/totp",
            get(security::show_totp).post(security::confirm_totp),
        )
        .route(
            "/t/{t}/account/security/totp/remove",
            post(security::remove_totp),
        )
        .route(
            "/t/{t}/account/security/backup-codes",
            post(security::regenerate_codes),
        )
        .route(
            "/t/{t}/account/security/passkeys/options",
            post(security::passkey_options),
        )
        .route(
            "/t/{t}/account/security/passkeys",
            post(security::add_passkey),
        )
        .route(
            "/t/{t}/account/security/passkeys/rename",
            post(security::rename_passkey),
        )
        .route(
            "/t/{t}/account/security/passkeys/remove",
            post(security::remove_passkey),
        )
        .route(
            "/t/{t}/account/security/devices/forget",
            post(security::forget_devices),
        )
        .layer(axum::middleware::map_response(headers::page_headers))
        .with_state(state);
    Router::new()
        .route(assets::CSS_PATH, get(assets::stylesheet))
        .route(assets::JS_PATH, get(assets::script))
        .merge(pages)
}
