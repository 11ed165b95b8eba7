//! Verifying an email address or phone number with the code sent to it
//! (`/t/{t}/verify`), and asking for a new code (`POST /t/{t}/verify/resend`).

use super::{form_failure, form_refused, href, see_other, tenant, with_query};
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

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VerifyQuery {
    identifier: String,
    notice: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VerifyForm {
    identifier: String,
    code: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ResendForm {
    identifier: String,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    page: Layout,
    identifier: Field,
    code: Field,
    login_href: String,
}

const FIELDS: &[(&str, &str)] = &[("identifier", "verify-identifier"), ("code", "verify-code")];

/// The code field shared by the pages that ask for a one-time code.
pub(crate) fn code_field(id: &'static str, errors: &FormErrors) -> Field {
    Field::new(id, "code", "Code")
        .autocomplete("one-time-code")
        .inputmode("numeric")
        .hint("The 6-digit code from the message we sent.")
        .errors(errors)
}

fn page(
    tenant: &Tenant,
    visit: &Visit,
    identifier: &str,
    errors: FormErrors,
    notice: Option<&str>,
) -> VerifyPage {
    let mut id = Field::new(
        "verify-identifier",
        "identifier",
        "Email address or phone number",
    )
    .autocomplete("username")
    .value(identifier.trim())
    .errors(&errors);
    let mut code = code_field("verify-code", &errors);
    if identifier.trim().is_empty() || id.error.is_some() {
        focus_first(&mut [&mut id, &mut code]);
    } else {
        code = code.focus(true);
    }
    VerifyPage {
        page: Layout::new(tenant, visit, "Verify your account")
            .notice(notice)
            .errors(errors),
        identifier: id,
        code,
        login_href: href(tenant, "login"),
    }
}

pub(crate) async fn show(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let q: VerifyQuery = visit.query();
    let p = page(
        &tenant,
        &visit,
        &q.identifier,
        FormErrors::default(),
        Some(&q.notice),
    );
    visit.finish(view::render(StatusCode::OK, &p))
}

pub(crate) async fn submit(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<VerifyForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if form.code.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.field("verify-code", "Enter the code from the message we sent.");
        return form_refused(
            &visit,
            &page(&tenant, &visit, &form.identifier, errors, None),
        );
    }
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .verify_identifier(
            &ctx,
            tenant.slug.as_str(),
            &form.identifier,
            form.code.trim(),
        )
        .await
    {
        Ok(_) => visit.finish(see_other(&with_query(
            &href(&tenant, "login"),
            &[
                ("notice", "verified"),
                ("identifier", form.identifier.trim()),
            ],
        ))),
        Err(e) => form_failure(&visit, &tenant, e, FIELDS, |errors| {
            page(&tenant, &visit, &form.identifier, errors, None)
        }),
    }
}

pub(crate) async fn resend(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<ResendForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    if form.identifier.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.field(
            "verify-identifier",
            "Enter the email address or phone number to send the code to.",
        );
        return form_refused(&visit, &page(&tenant, &visit, "", errors, None));
    }
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state
        .app
        .resend_verification(&ctx, tenant.slug.as_str(), &form.identifier)
        .await
    {
        Ok(()) => visit.finish(see_other(&with_query(
            &href(&tenant, "verify"),
            &[("identifier", form.identifier.trim()), ("notice", "resent")],
        ))),
        Err(e) => form_failure(&visit, &tenant, e, FIELDS, |errors| {
            page(&tenant, &visit, &form.identifier, errors, None)
        }),
    }
}

#[cfg(test)]
pub(crate) fn samples(t: &Tenant, v: &Visit) -> Vec<(&'static str, String)> {
    use askama::Template;
    let mut errors = FormErrors::default();
    errors.field(
        "verify-code",
        "The code is wrong, has expired or was already used.",
    );
    vec![
        (
            "verify",
            page(
                t,
                v,
                "ada@example.com",
                FormErrors::default(),
                Some("code_sent"),
            )
            .render()
            .unwrap_or_default(),
        ),
        (
            "verify-errors",
            page(t, v, "", errors, None).render().unwrap_or_default(),
        ),
    ]
}
