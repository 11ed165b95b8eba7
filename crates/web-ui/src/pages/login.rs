//! Sign-in (`/t/{t}/login`) and sign-out (`POST /t/{t}/logout`). The sign-in page also
//! offers the passwordless ways the tenant enables: passkeys (autofill in the identifier
//! field, and a button), a code, a link by email.

use super::auth::started;
use super::{failure_page, form_failure, href, see_other, set_cookie, tenant, with_query};
use crate::form::{Field, FormErrors, focus_first};
use crate::request::{Posted, Visit};
use crate::return_to::safe_return_to;
use crate::state::WebState;
use crate::view::{self, Layout};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_application::{Error, RequestContext};
use tessera_domain::tenant::Tenant;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginQuery {
    return_to: String,
    notice: String,
    identifier: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginForm {
    identifier: String,
    password: String,
    return_to: String,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage {
    page: Layout,
    identifier: Field,
    password: Field,
    /// Kept through the form (already checked).
    return_to: String,
    register_href: Option<String>,
    recover_href: String,
    /// When the account waits for verification: where to enter the code.
    pub(crate) verify_href: Option<String>,
    /// Passwordless passkey sign-in (autofill and a button).
    passkeys: bool,
    /// "Sign in with a code", when the tenant sends sign-in codes.
    code_href: Option<String>,
    /// "Email me a sign-in link", when the tenant sends sign-in links.
    link_href: Option<String>,
}

const FIELDS: &[(&str, &str)] = &[
    ("identifier", "login-identifier"),
    ("password", "login-password"),
];

pub(crate) fn page(
    tenant: &Tenant,
    visit: &Visit,
    identifier: &str,
    return_to: &str,
    errors: FormErrors,
    notice: Option<&str>,
) -> LoginPage {
    let passwordless = &tenant.settings.auth.passwordless;
    let mut id = Field::new("login-identifier", "identifier", "Email, phone or username")
        .autocomplete(if passwordless.passkeys {
            "username webauthn"
        } else {
            "username"
        })
        .value(identifier)
        .errors(&errors);
    let mut password =
        Field::password("login-password", "password", "Password", "current-password")
            .errors(&errors);
    if identifier.is_empty() || id.error.is_some() {
        focus_first(&mut [&mut id, &mut password]);
    } else {
        password = password.focus(true);
    }
    let return_to = safe_return_to(return_to).unwrap_or_default().to_owned();
    let mut layout = Layout::new(tenant, visit, "Sign in")
        .notice(notice)
        .errors(errors);
    if passwordless.passkeys {
        layout = layout.passkeys();
    }
    LoginPage {
        page: layout,
        identifier: id,
        password,
        register_href: tenant
            .settings
            .auth
            .self_registration
            .then(|| href(tenant, "register")),
        recover_href: href(tenant, "recover"),
        verify_href: None,
        passkeys: passwordless.passkeys,
        code_href: (passwordless.email_code || passwordless.sms_code)
            .then(|| with_query(&href(tenant, "login/code"), &[("return_to", &return_to)])),
        link_href: passwordless.email_link.then(|| {
            with_query(
                &href(tenant, "login/email-link"),
                &[("return_to", &return_to)],
            )
        }),
        return_to,
    }
}

pub(crate) async fn show(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    mut visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    // Passwordless ceremonies started here are bound to this browser.
    visit.ensure_flow(|| state.app.random_token(32));
    let q: LoginQuery = visit.query();
    let p = page(
        &tenant,
        &visit,
        &q.identifier,
        &q.return_to,
        FormErrors::default(),
        Some(&q.notice),
    );
    visit.finish(view::render(StatusCode::OK, &p))
}

pub(crate) async fn submit(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<LoginForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let ctx = RequestContext::anonymous(visit.origin.clone());
    let result = state
        .app
        .sign_in(
            &ctx,
            tenant.slug.as_str(),
            &form.identifier,
            &form.password,
            &visit.browser(),
        )
        .await;
    match result {
        Ok(new) => started(&state, &visit, &tenant, &new, &form.return_to),
        Err(e) => {
            let verify_href = matches!(
                &e,
                Error::Refused { code, .. } if *code == "verification_required"
            )
            .then(|| {
                with_query(
                    &href(&tenant, "verify"),
                    &[("identifier", form.identifier.trim())],
                )
            });
            form_failure(&visit, &tenant, e, FIELDS, |errors| {
                let mut p = page(
                    &tenant,
                    &visit,
                    &form.identifier,
                    &form.return_to,
                    errors,
                    None,
                );
                p.verify_href = verify_href;
                p
            })
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Nothing {}

/// Ends the session of the request (if any) and forgets its cookie.
pub(crate) async fn logout(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, .. }: Posted<Nothing>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if let Some(secret) = visit.session.as_deref() {
        // A sign-in still at its second step is ended too.
        match state
            .app
            .authenticate_pending_session(tenant.slug.as_str(), secret)
            .await
        {
            Ok(me) => {
                if let Err(e) = state.app.sign_out(&me, visit.origin.clone()).await {
                    return failure_page(&visit, Some(&tenant), e);
                }
            }
            Err(Error::Unauthenticated(_)) => {}
            Err(e) => return failure_page(&visit, Some(&tenant), e),
        }
    }
    let to = with_query(&href(&tenant, "login"), &[("notice", "signed_out")]);
    visit.finish(set_cookie(see_other(&to), &state.cookies.clear_session()))
}

#[cfg(test)]
pub(crate) fn samples(t: &Tenant, v: &Visit) -> Vec<(&'static str, String)> {
    use askama::Template;
    let mut errors = FormErrors::default();
    errors.general("The identifier or the password is wrong.");
    errors.field(
        "login-identifier",
        "Enter your email address, phone number or username.",
    );
    let mut refused = page(t, v, "ada@example.com", "/t/acme/account", errors, None);
    refused.verify_href = Some("/t/acme/verify?identifier=ada%40example.com".to_owned());
    vec![
        (
            "login",
            page(t, v, "", "", FormErrors::default(), Some("password_reset"))
                .render()
                .unwrap_or_default(),
        ),
        ("login-errors", refused.render().unwrap_or_default()),
    ]
}
