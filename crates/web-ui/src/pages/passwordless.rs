//! Signing in without a password: a passkey (`POST /t/{t}/login/passkey`, with its options
//! from `/t/{t}/login/passkey/options`), a code sent by email or SMS (`/t/{t}/login/code`),
//! or a link sent by email (`/t/{t}/login/email-link` → `/t/{t}/login/link-sent`, then
//! `/t/{t}/login/link?token=…`). Every ceremony is bound to this browser's flow cookie. A
//! link opened in another browser than the one that asked for it only shows a confirmation
//! (a GET never uses it up: mail scanners open links too); the POST of that page signs in.

use super::auth::started;
use super::ceremony::{CeremonyFields, options_json};
use super::{form_failure, form_refused, href, see_other, tenant, with_query};
use crate::form::{Field, FormErrors};
use crate::request::{Posted, Visit};
use crate::return_to::safe_return_to;
use crate::state::WebState;
use crate::view::{self, Layout};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_application::{Error, LinkCheck, RequestContext};
use tessera_domain::tenant::Tenant;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Nothing {}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PasskeyForm {
    return_to: String,
    challenge_id: String,
    credential: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CodeQuery {
    identifier: String,
    return_to: String,
    notice: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CodeForm {
    identifier: String,
    code: String,
    return_to: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LinkQuery {
    token: String,
    /// The masked address a link was sent to.
    to: String,
    return_to: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LinkForm {
    token: String,
    identifier: String,
}

/// The options of a passwordless passkey sign-in (JSON); gives the browser a flow cookie
/// when it has none.
pub(crate) async fn passkey_options(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { mut visit, .. }: Posted<Nothing>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    visit.ensure_flow(|| state.app.random_token(32));
    let result = state
        .app
        .start_passkey_sign_in(tenant.slug.as_str(), &visit.browser())
        .await;
    let login = href(&tenant, "login");
    options_json(&visit, result, &login, &login)
}

/// Signs in with a passkey (both factors: a passkey verifies the user).
pub(crate) async fn passkey(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<PasskeyForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let ceremony = CeremonyFields {
        challenge_id: form.challenge_id.clone(),
        credential: form.credential.clone(),
    };
    let ctx = RequestContext::anonymous(visit.origin.clone());
    let result = match ceremony.parse() {
        Ok((challenge, response)) => {
            state
                .app
                .finish_passkey_sign_in(
                    &ctx,
                    tenant.slug.as_str(),
                    challenge,
                    &response,
                    &visit.browser(),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(new) => started(&state, &visit, &tenant, &new, &form.return_to),
        Err(e) => form_failure(&visit, &tenant, e, &[], |errors| {
            super::login::page(&tenant, &visit, "", &form.return_to, errors, None)
        }),
    }
}

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    page: Layout,
    identifier: Field,
    /// The code field, once a code was sent.
    code: Option<Field>,
    return_to: String,
    login_href: String,
}

fn identifier_field(id: &'static str, tenant: &Tenant, value: &str, errors: &FormErrors) -> Field {
    let p = &tenant.settings.auth.passwordless;
    let (label, kind, autocomplete) = match (p.email_code, p.sms_code) {
        (true, true) => ("Email address or phone number", "text", "username"),
        (false, true) => ("Phone number", "tel", "tel"),
        _ => ("Email address", "email", "email"),
    };
    let mut field = Field::new(id, "identifier", label)
        .kind(kind)
        .autocomplete(autocomplete)
        .value(value)
        .errors(errors);
    if p.sms_code {
        field = field.hint("A phone number starts with + and the country code.");
    }
    field
}

fn code_page(
    tenant: &Tenant,
    visit: &Visit,
    identifier: &str,
    sent: bool,
    return_to: &str,
    errors: FormErrors,
    notice: Option<&str>,
) -> CodePage {
    let mut id = identifier_field("code-identifier", tenant, identifier, &errors);
    let code = sent.then(|| {
        super::verify::code_field("code-code", &errors)
            .hint("The 6-digit code from the message we sent. It works once, for a few minutes.")
            .focus(true)
    });
    if code.is_none() {
        id = id.focus(true);
    }
    CodePage {
        page: Layout::new(tenant, visit, "Sign in with a code")
            .notice(notice)
            .errors(errors),
        identifier: id,
        code,
        return_to: safe_return_to(return_to).unwrap_or_default().to_owned(),
        login_href: with_query(
            &href(tenant, "login"),
            &[("return_to", safe_return_to(return_to).unwrap_or_default())],
        ),
    }
}

const CODE_FIELDS: &[(&str, &str)] = &[("identifier", "code-identifier"), ("code", "code-code")];

/// Asks for the identifier, or (`?identifier=`) for the code sent to it.
pub(crate) async fn show_code(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    mut visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    visit.ensure_flow(|| state.app.random_token(32));
    let q: CodeQuery = visit.query();
    let page = code_page(
        &tenant,
        &visit,
        &q.identifier,
        !q.identifier.is_empty(),
        &q.return_to,
        FormErrors::default(),
        Some(&q.notice),
    );
    visit.finish(view::render(StatusCode::OK, &page))
}

/// Sends a sign-in code (the answer is the same whether an account has the identifier).
pub(crate) async fn send_code(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { mut visit, form }: Posted<CodeForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    visit.ensure_flow(|| state.app.random_token(32));
    let identifier = form.identifier.trim();
    if identifier.is_empty() {
        let mut errors = FormErrors::default();
        errors.field("code-identifier", "Enter where to send the code.");
        let page = code_page(&tenant, &visit, "", false, &form.return_to, errors, None);
        return form_refused(&visit, &page);
    }
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .send_sign_in_code(&ctx, tenant.slug.as_str(), identifier, &visit.browser())
        .await
    {
        Ok(_) => visit.finish(see_other(&with_query(
            &href(&tenant, "login/code"),
            &[
                ("identifier", identifier),
                (
                    "return_to",
                    safe_return_to(&form.return_to).unwrap_or_default(),
                ),
                ("notice", "sign_in_code_sent"),
            ],
        ))),
        Err(e) => form_failure(&visit, &tenant, e, CODE_FIELDS, |errors| {
            code_page(
                &tenant,
                &visit,
                identifier,
                false,
                &form.return_to,
                errors,
                None,
            )
        }),
    }
}

/// Signs in with the code sent to this browser.
pub(crate) async fn submit_code(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<CodeForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let identifier = form.identifier.trim();
    if form.code.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.field("code-code", "Enter the code from the message we sent.");
        let page = code_page(
            &tenant,
            &visit,
            identifier,
            true,
            &form.return_to,
            errors,
            None,
        );
        return form_refused(&visit, &page);
    }
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .sign_in_with_code(
            &ctx,
            tenant.slug.as_str(),
            identifier,
            form.code.trim(),
            &visit.browser(),
        )
        .await
    {
        Ok(new) => started(&state, &visit, &tenant, &new, &form.return_to),
        Err(e) => form_failure(&visit, &tenant, e, CODE_FIELDS, |errors| {
            code_page(
                &tenant,
                &visit,
                identifier,
                true,
                &form.return_to,
                errors,
                None,
            )
        }),
    }
}

#[derive(Template)]
#[template(path = "login_link.html")]
struct LinkRequestPage {
    page: Layout,
    identifier: Field,
    login_href: String,
}

fn link_page(tenant: &Tenant, visit: &Visit, value: &str, errors: FormErrors) -> LinkRequestPage {
    let identifier = Field::new("link-email", "identifier", "Email address")
        .kind("email")
        .autocomplete("email")
        .value(value)
        .hint("We send a link that signs you in, in this browser, for a few minutes.")
        .errors(&errors)
        .focus(true);
    LinkRequestPage {
        page: Layout::new(tenant, visit, "Email me a sign-in link").errors(errors),
        identifier,
        login_href: href(tenant, "login"),
    }
}

pub(crate) async fn show_link_request(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    mut visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    visit.ensure_flow(|| state.app.random_token(32));
    let page = link_page(&tenant, &visit, "", FormErrors::default());
    visit.finish(view::render(StatusCode::OK, &page))
}

pub(crate) async fn send_link(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { mut visit, form }: Posted<LinkForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    visit.ensure_flow(|| state.app.random_token(32));
    let identifier = form.identifier.trim();
    if identifier.is_empty() {
        let mut errors = FormErrors::default();
        errors.field("link-email", "Enter your email address.");
        return form_refused(&visit, &link_page(&tenant, &visit, "", errors));
    }
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .send_sign_in_link(&ctx, tenant.slug.as_str(), identifier, &visit.browser())
        .await
    {
        Ok(masked) => visit.finish(see_other(&with_query(
            &href(&tenant, "login/link-sent"),
            &[("to", &masked)],
        ))),
        Err(e) => form_failure(
            &visit,
            &tenant,
            e,
            &[("identifier", "link-email")],
            |errors| link_page(&tenant, &visit, identifier, errors),
        ),
    }
}

/// The masked address of `?to=` when it looks like one (`a•••@example.com`, as the
/// application masks it): the page never shows other text from its URL.
fn masked(to: &str) -> Option<&str> {
    let (local, domain) = to.split_once('@')?;
    let ok = to.len() <= 128
        && local.contains('\u{2022}')
        && domain.contains('.')
        && to
            .chars()
            .all(|c| c.is_alphanumeric() || "\u{2022}@.-_+".contains(c));
    ok.then_some(to)
}

#[derive(Template)]
#[template(path = "link_sent.html")]
struct LinkSentPage {
    page: Layout,
    to: String,
    again_href: String,
    login_href: String,
}

pub(crate) async fn link_sent(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let q: LinkQuery = visit.query();
    let page = LinkSentPage {
        page: Layout::new(&tenant, &visit, "Check your email"),
        to: masked(&q.to).unwrap_or_default().to_owned(),
        again_href: href(&tenant, "login/email-link"),
        login_href: href(&tenant, "login"),
    };
    visit.finish(view::render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "link_confirm.html")]
struct LinkConfirmPage {
    page: Layout,
    /// Whose account the link signs into (masked).
    account: String,
    token: String,
    login_href: String,
}

fn link_failed(visit: &Visit, tenant: &Tenant, e: Error) -> Response {
    match e {
        Error::Refused {
            code: "invalid_link",
            ..
        } => {
            let page = view::ErrorPage {
                page: Layout::new(tenant, visit, "This link cannot be used"),
                message: "This sign-in link has expired or was already used. Ask for a new one."
                    .to_owned(),
                back: href(tenant, "login/email-link"),
                back_label: "Email me a new link",
            };
            visit.finish(view::render(StatusCode::GONE, &page))
        }
        other => super::failure_page(visit, Some(tenant), other),
    }
}

/// Opening a sign-in link: signs in at once in the browser that asked for it; anywhere
/// else, asks for a confirmation (nothing is used up by this GET).
pub(crate) async fn open_link(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let q: LinkQuery = visit.query();
    let browser = visit.browser();
    let check = state
        .app
        .check_sign_in_link(tenant.slug.as_str(), &q.token, &browser)
        .await;
    match check {
        Ok(LinkCheck::SameBrowser) => {
            let ctx = RequestContext::anonymous(visit.origin.clone());
            match state
                .app
                .sign_in_with_link(&ctx, tenant.slug.as_str(), &q.token, &browser, false)
                .await
            {
                Ok(new) => started(&state, &visit, &tenant, &new, &q.return_to),
                Err(e) => link_failed(&visit, &tenant, e),
            }
        }
        Ok(LinkCheck::OtherBrowser { account }) => {
            let page = LinkConfirmPage {
                page: Layout::new(&tenant, &visit, "Sign in on this device?"),
                account,
                token: q.token.clone(),
                login_href: href(&tenant, "login"),
            };
            visit.finish(view::render(StatusCode::OK, &page))
        }
        Err(e) => link_failed(&visit, &tenant, e),
    }
}

/// The confirmation of a link opened in another browser.
pub(crate) async fn confirm_link(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<LinkForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .sign_in_with_link(
            &ctx,
            tenant.slug.as_str(),
            &form.token,
            &visit.browser(),
            true,
        )
        .await
    {
        Ok(new) => started(&state, &visit, &tenant, &new, ""),
        Err(e @ Error::Throttled { .. }) => super::failure_page(&visit, Some(&tenant), e),
        Err(e) => link_failed(&visit, &tenant, e),
    }
}

#[cfg(test)]
pub(crate) fn samples(t: &Tenant, v: &Visit) -> Vec<(&'static str, String)> {
    let mut errors = FormErrors::default();
    errors.field("code-code", "The code is wrong or has expired.");
    let mut link_errors = FormErrors::default();
    link_errors.field("link-email", "Enter your email address.");
    vec![
        (
            "login-code",
            code_page(t, v, "", false, "", FormErrors::default(), None)
                .render()
                .unwrap_or_default(),
        ),
        (
            "login-code-sent-errors",
            code_page(
                t,
                v,
                "ada@example.com",
                true,
                "/t/acme/account",
                errors,
                None,
            )
            .render()
            .unwrap_or_default(),
        ),
        (
            "login-link",
            link_page(t, v, "", FormErrors::default())
                .render()
                .unwrap_or_default(),
        ),
        (
            "login-link-errors",
            link_page(t, v, "", link_errors)
                .render()
                .unwrap_or_default(),
        ),
        (
            "link-sent",
            LinkSentPage {
                page: Layout::new(t, v, "Check your email"),
                to: "a\u{2022}\u{2022}\u{2022}@example.com".to_owned(),
                again_href: "/t/acme/login/email-link".to_owned(),
                login_href: "/t/acme/login".to_owned(),
            }
            .render()
            .unwrap_or_default(),
        ),
        (
            "link-confirm",
            LinkConfirmPage {
                page: Layout::new(t, v, "Sign in on this device?"),
                account: "a\u{2022}\u{2022}\u{2022}@example.com".to_owned(),
                token: "token".to_owned(),
                login_href: "/t/acme/login".to_owned(),
            }
            .render()
            .unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_link_sent_page_shows_only_a_masked_address() {
        let ok = "a\u{2022}\u{2022}\u{2022}@example.com";
        assert_eq!(super::masked(ok), Some(ok));
        for bad in [
            "",
            "ada@example.com",
            "Call +1 555 0100 now",
            "a\u{2022}@evil",
            "<b>a\u{2022}@example.com</b>",
            "a\u{2022} visit evil.example @example.com",
        ] {
            assert_eq!(super::masked(bad), None, "{bad}");
        }
    }
}
