//! Forgotten password: the identifier (`/t/{t}/recover`) → the code sent to it
//! (`/t/{t}/recover/code`) → a new password (`/t/{t}/recover/reset`) → the sign-in page.
//!
//! The reset ticket the code is exchanged for never appears in a URL: the code step keeps
//! it in a short-lived HttpOnly cookie (SameSite=Strict, 15 minutes, like the ticket) so that
//! the reset page is reached by a redirect, and the reset page carries it in a hidden field.

use super::verify::code_field;
use super::{form_failure, form_refused, href, see_other, set_cookie, tenant, with_query};
use crate::form::{Field, FormErrors, focus_first};
use crate::request::{Posted, Visit};
use crate::state::WebState;
use crate::view::{self, Layout};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_application::RequestContext;
use tessera_domain::tenant::Tenant;
use tessera_http_kit::cookies::{CookiePolicy, cookie};

const SECURE_TICKET_COOKIE: &str = "__Host-tessera_reset";
const DEV_TICKET_COOKIE: &str = "tessera_reset";

fn ticket_cookie(policy: CookiePolicy) -> &'static str {
    if policy.secure {
        SECURE_TICKET_COOKIE
    } else {
        DEV_TICKET_COOKIE
    }
}

fn set_ticket(policy: CookiePolicy, ticket: &str) -> String {
    let secure = if policy.secure { "; Secure" } else { "" };
    format!(
        "{}={ticket}; Path=/; Max-Age=900; HttpOnly; SameSite=Strict{secure}",
        ticket_cookie(policy)
    )
}

fn clear_ticket(policy: CookiePolicy) -> String {
    let secure = if policy.secure { "; Secure" } else { "" };
    format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict{secure}",
        ticket_cookie(policy)
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IdentifierQuery {
    identifier: String,
    notice: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StartForm {
    identifier: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CodeForm {
    identifier: String,
    code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ResetForm {
    ticket: String,
    new_password: String,
    new_password_confirm: String,
}

#[derive(Template)]
#[template(path = "recover.html")]
struct StartPage {
    page: Layout,
    identifier: Field,
    login_href: String,
}

#[derive(Template)]
#[template(path = "recover_code.html")]
struct CodePage {
    page: Layout,
    identifier: Field,
    code: Field,
    restart_href: String,
}

#[derive(Template)]
#[template(path = "recover_reset.html")]
struct ResetPage {
    page: Layout,
    /// The reset ticket (empty: the page says to start again).
    ticket: String,
    new_password: Field,
    new_password_confirm: Field,
    restart_href: String,
}

fn identifier_field(id: &'static str, value: &str, errors: &FormErrors) -> Field {
    Field::new(id, "identifier", "Email address or phone number")
        .autocomplete("username")
        .value(value.trim())
        .hint("The verified email address or phone number of your account.")
        .errors(errors)
}

fn start_page(tenant: &Tenant, visit: &Visit, identifier: &str, errors: FormErrors) -> StartPage {
    StartPage {
        identifier: identifier_field("recover-identifier", identifier, &errors).focus(true),
        page: Layout::new(tenant, visit, "Forgot your password?").errors(errors),
        login_href: href(tenant, "login"),
    }
}

fn code_page(
    tenant: &Tenant,
    visit: &Visit,
    identifier: &str,
    errors: FormErrors,
    notice: Option<&str>,
) -> CodePage {
    let mut id = identifier_field("recover-code-identifier", identifier, &errors);
    let mut code = code_field("recover-code", &errors);
    if identifier.trim().is_empty() || id.error.is_some() {
        focus_first(&mut [&mut id, &mut code]);
    } else {
        code = code.focus(true);
    }
    CodePage {
        page: Layout::new(tenant, visit, "Enter your recovery code")
            .notice(notice)
            .errors(errors),
        identifier: id,
        code,
        restart_href: href(tenant, "recover"),
    }
}

fn reset_page(tenant: &Tenant, visit: &Visit, ticket: &str, errors: FormErrors) -> ResetPage {
    let policy = &tenant.settings.auth.password;
    let mut new_password = Field::password(
        "reset-password",
        "new_password",
        "New password",
        "new-password",
    )
    .hint(format!(
        "At least {} characters, different from your recent passwords.",
        policy.min_length
    ))
    .errors(&errors);
    let mut confirm = Field::password(
        "reset-password-confirm",
        "new_password_confirm",
        "Confirm new password",
        "new-password",
    )
    .errors(&errors);
    focus_first(&mut [&mut new_password, &mut confirm]);
    let title = if ticket.is_empty() {
        "Start again"
    } else {
        "Choose a new password"
    };
    ResetPage {
        page: Layout::new(tenant, visit, title).errors(errors),
        ticket: ticket.to_owned(),
        new_password,
        new_password_confirm: confirm,
        restart_href: href(tenant, "recover"),
    }
}

pub(crate) async fn show_start(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let q: IdentifierQuery = visit.query();
    let p = start_page(&tenant, &visit, &q.identifier, FormErrors::default());
    visit.finish(view::render(StatusCode::OK, &p))
}

pub(crate) async fn submit_start(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<StartForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if form.identifier.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.field(
            "recover-identifier",
            "Enter the email address or phone number of your account.",
        );
        return form_refused(&visit, &start_page(&tenant, &visit, "", errors));
    }
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .request_recovery(&ctx, tenant.slug.as_str(), &form.identifier)
        .await
    {
        Ok(()) => visit.finish(see_other(&with_query(
            &href(&tenant, "recover/code"),
            &[
                ("identifier", form.identifier.trim()),
                ("notice", "recovery_sent"),
            ],
        ))),
        Err(e) => form_failure(
            &visit,
            &tenant,
            e,
            &[("identifier", "recover-identifier")],
            |errors| start_page(&tenant, &visit, &form.identifier, errors),
        ),
    }
}

pub(crate) async fn show_code(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let q: IdentifierQuery = visit.query();
    let p = code_page(
        &tenant,
        &visit,
        &q.identifier,
        FormErrors::default(),
        Some(&q.notice),
    );
    visit.finish(view::render(StatusCode::OK, &p))
}

pub(crate) async fn submit_code(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<CodeForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if form.code.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.field("recover-code", "Enter the code from the message we sent.");
        return form_refused(
            &visit,
            &code_page(&tenant, &visit, &form.identifier, errors, None),
        );
    }
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .verify_recovery(
            &ctx,
            tenant.slug.as_str(),
            &form.identifier,
            form.code.trim(),
        )
        .await
    {
        Ok(ticket) => visit.finish(set_cookie(
            see_other(&href(&tenant, "recover/reset")),
            &set_ticket(state.cookies, &ticket),
        )),
        Err(e) => form_failure(
            &visit,
            &tenant,
            e,
            &[
                ("identifier", "recover-code-identifier"),
                ("code", "recover-code"),
            ],
            |errors| code_page(&tenant, &visit, &form.identifier, errors, None),
        ),
    }
}

/// Tickets are `{uuid}.{43 base64url characters}`: anything else in the cookie is ignored.
fn plausible_ticket(ticket: &str) -> bool {
    ticket.len() <= 100
        && ticket
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
}

pub(crate) async fn show_reset(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    headers: axum::http::HeaderMap,
    visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let ticket = cookie(&headers, ticket_cookie(state.cookies))
        .filter(|t| !t.is_empty() && plausible_ticket(t))
        .unwrap_or_default();
    let p = reset_page(&tenant, &visit, &ticket, FormErrors::default());
    visit.finish(view::render(StatusCode::OK, &p))
}

pub(crate) async fn submit_reset(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<ResetForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let ticket = if plausible_ticket(&form.ticket) {
        form.ticket.as_str()
    } else {
        ""
    };
    let mut errors = FormErrors::default();
    if form.new_password.is_empty() {
        errors.field("reset-password", "Choose a new password.");
    } else if form.new_password != form.new_password_confirm {
        errors.field(
            "reset-password-confirm",
            "The two passwords are not the same.",
        );
    }
    if !errors.is_empty() {
        return form_refused(&visit, &reset_page(&tenant, &visit, ticket, errors));
    }
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .reset_password(&ctx, tenant.slug.as_str(), ticket, &form.new_password)
        .await
    {
        Ok(()) => visit.finish(set_cookie(
            see_other(&with_query(
                &href(&tenant, "login"),
                &[("notice", "password_reset")],
            )),
            &clear_ticket(state.cookies),
        )),
        Err(e) => {
            let ticket_refused = matches!(
                &e,
                tessera_application::Error::Invalid(v) if v.iter().any(|x| x.field == "ticket")
            );
            let response = form_failure(
                &visit,
                &tenant,
                e,
                &[
                    ("password", "reset-password"),
                    ("new_password", "reset-password"),
                ],
                |errors| {
                    let ticket = if ticket_refused { "" } else { ticket };
                    reset_page(&tenant, &visit, ticket, errors)
                },
            );
            if ticket_refused {
                set_cookie(response, &clear_ticket(state.cookies))
            } else {
                response
            }
        }
    }
}

#[cfg(test)]
pub(crate) fn samples(t: &Tenant, v: &Visit) -> Vec<(&'static str, String)> {
    use askama::Template;
    let mut errors = FormErrors::default();
    errors.field(
        "reset-password-confirm",
        "The two passwords are not the same.",
    );
    vec![
        (
            "recover",
            start_page(t, v, "", FormErrors::default())
                .render()
                .unwrap_or_default(),
        ),
        (
            "recover-code",
            code_page(
                t,
                v,
                "ada@example.com",
                FormErrors::default(),
                Some("recovery_sent"),
            )
            .render()
            .unwrap_or_default(),
        ),
        (
            "recover-reset",
            reset_page(t, v, "u.s", errors).render().unwrap_or_default(),
        ),
        (
            "recover-reset-expired",
            reset_page(t, v, "", FormErrors::default())
                .render()
                .unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ticket_cookie_is_short_lived_and_strict() {
        let secure = set_ticket(CookiePolicy { secure: true }, "u.s");
        assert!(secure.starts_with("__Host-tessera_reset=u.s;"));
        for attr in [
            "Path=/",
            "Max-Age=900",
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
        ] {
            assert!(secure.contains(attr), "{attr}");
        }
        assert!(clear_ticket(CookiePolicy { secure: false }).starts_with("tessera_reset=;"));
        assert!(plausible_ticket(
            "0190a0a0-0000-7000-8000-000000000000.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ"
        ));
        assert!(!plausible_ticket("x\"><script>"));
    }
}
