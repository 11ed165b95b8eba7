//! Sign-up (`/t/{t}/register`): names, identifiers and a password; then the verification
//! page when a code was sent.

use super::{form_failure, form_refused, href, see_other, tenant, with_query};
use crate::errors::sentence;
use crate::form::{Field, FormErrors, focus_first};
use crate::request::{Posted, Visit};
use crate::state::WebState;
use crate::view::{self, Layout};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_application::{Registration, RequestContext};
use tessera_domain::ValidationError;
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::profile::{Profile, parse_name};
use tessera_domain::tenant::Tenant;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RegisterForm {
    given_name: String,
    family_name: String,
    username: String,
    email: String,
    phone: String,
    password: String,
    password_confirm: String,
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    page: Layout,
    open: bool,
    given_name: Field,
    family_name: Field,
    username: Field,
    email: Field,
    phone: Field,
    password: Field,
    password_confirm: Field,
    login_href: String,
}

const FIELDS: &[(&str, &str)] = &[
    ("given_name", "reg-given-name"),
    ("family_name", "reg-family-name"),
    ("username", "reg-username"),
    ("email", "reg-email"),
    ("phone", "reg-phone"),
    ("password", "reg-password"),
    ("password_confirm", "reg-password-confirm"),
];

fn page(tenant: &Tenant, visit: &Visit, form: &RegisterForm, errors: FormErrors) -> RegisterPage {
    let policy = &tenant.settings.auth.password;
    let mut given_name = Field::new("reg-given-name", "given_name", "First name")
        .autocomplete("given-name")
        .value(&form.given_name)
        .optional()
        .errors(&errors);
    let mut family_name = Field::new("reg-family-name", "family_name", "Last name")
        .autocomplete("family-name")
        .value(&form.family_name)
        .optional()
        .errors(&errors);
    let mut username = Field::new("reg-username", "username", "Username")
        .autocomplete("username")
        .value(&form.username)
        .optional()
        .hint("Letters, digits, dots, dashes and underscores.")
        .errors(&errors);
    let mut email = Field::new("reg-email", "email", "Email address")
        .kind("email")
        .autocomplete("email")
        .value(&form.email)
        .hint("We send a code to this address to verify it.")
        .errors(&errors);
    let mut phone = Field::new("reg-phone", "phone", "Mobile phone number")
        .kind("tel")
        .autocomplete("tel")
        .value(&form.phone)
        .optional()
        .hint("With + and the country code, for example +44 7700 900123.")
        .errors(&errors);
    let mut password = Field::password("reg-password", "password", "Password", "new-password")
        .hint(format!(
            "At least {} characters. A long phrase is easy to remember and hard to guess.",
            policy.min_length
        ))
        .errors(&errors);
    let mut password_confirm = Field::password(
        "reg-password-confirm",
        "password_confirm",
        "Confirm password",
        "new-password",
    )
    .errors(&errors);
    focus_first(&mut [
        &mut given_name,
        &mut family_name,
        &mut username,
        &mut email,
        &mut phone,
        &mut password,
        &mut password_confirm,
    ]);
    let open = tenant.settings.auth.self_registration;
    let title = if open {
        "Create an account"
    } else {
        "Sign-up closed"
    };
    RegisterPage {
        page: Layout::new(tenant, visit, title).errors(errors),
        open,
        given_name,
        family_name,
        username,
        email,
        phone,
        password,
        password_confirm,
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
    let p = page(
        &tenant,
        &visit,
        &RegisterForm::default(),
        FormErrors::default(),
    );
    visit.finish(view::render(StatusCode::OK, &p))
}

/// The form as a registration, or the errors of every field that does not parse.
fn parse(form: &RegisterForm) -> Result<Registration, FormErrors> {
    let mut errors = FormErrors::default();
    let mut note = |e: ValidationError, id: &str| errors.field(id, sentence(&e.message));
    let optional = |raw: &str| {
        let raw = raw.trim();
        (!raw.is_empty()).then_some(raw.to_owned())
    };
    let mut reg = Registration {
        password: form.password.clone(),
        profile: Profile::default(),
        ..Registration::default()
    };
    if let Some(raw) = optional(&form.given_name) {
        match parse_name("given_name", &raw) {
            Ok(v) => reg.profile.given_name = Some(v),
            Err(e) => note(e, "reg-given-name"),
        }
    }
    if let Some(raw) = optional(&form.family_name) {
        match parse_name("family_name", &raw) {
            Ok(v) => reg.profile.family_name = Some(v),
            Err(e) => note(e, "reg-family-name"),
        }
    }
    if let Some(raw) = optional(&form.username) {
        match Username::parse(&raw) {
            Ok(v) => reg.username = Some(v),
            Err(e) => note(e, "reg-username"),
        }
    }
    if let Some(raw) = optional(&form.email) {
        match Email::parse(&raw) {
            Ok(v) => reg.email = Some(v),
            Err(e) => note(e, "reg-email"),
        }
    }
    if let Some(raw) = optional(&form.phone) {
        match PhoneNumber::parse(&raw) {
            Ok(v) => reg.phone = Some(v),
            Err(e) => note(e, "reg-phone"),
        }
    }
    if form.password.is_empty() {
        errors.field("reg-password", "Choose a password.");
    } else if form.password != form.password_confirm {
        errors.field(
            "reg-password-confirm",
            "The two passwords are not the same.",
        );
    }
    if errors.is_empty() {
        Ok(reg)
    } else {
        Err(errors)
    }
}

pub(crate) async fn submit(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<RegisterForm>,
) -> Response {
    let tenant = match tenant(&state, &visit, &slug).await {
        Ok(t) => t,
        Err(page) => return page,
    };
    let reg = match parse(&form) {
        Ok(reg) => reg,
        Err(errors) => {
            return form_refused(&visit, &page(&tenant, &visit, &form, errors));
        }
    };
    let contact = reg
        .email
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| reg.phone.as_ref().map(ToString::to_string));
    let ctx = RequestContext::anonymous(visit.origin.clone());
    match state.app.register(&ctx, tenant.slug.as_str(), reg).await {
        Ok(registered) => {
            let to = match (registered.verification_sent_to, contact) {
                (Some(_), Some(contact)) => with_query(
                    &href(&tenant, "verify"),
                    &[("identifier", &contact), ("notice", "code_sent")],
                ),
                _ => with_query(&href(&tenant, "login"), &[("notice", "registered")]),
            };
            visit.finish(see_other(&to))
        }
        Err(e) => form_failure(&visit, &tenant, e, FIELDS, |errors| {
            page(&tenant, &visit, &form, errors)
        }),
    }
}

#[cfg(test)]
pub(crate) fn samples(t: &Tenant, v: &Visit) -> Vec<(&'static str, String)> {
    use askama::Template;
    let form = RegisterForm {
        email: "not-an-email".to_owned(),
        password: "x".to_owned(),
        ..RegisterForm::default()
    };
    let errors = parse(&form).err().unwrap_or_default();
    let mut closed = t.clone();
    closed.settings.auth.self_registration = false;
    vec![
        (
            "register",
            page(t, v, &RegisterForm::default(), FormErrors::default())
                .render()
                .unwrap_or_default(),
        ),
        (
            "register-errors",
            page(t, v, &form, errors).render().unwrap_or_default(),
        ),
        (
            "register-closed",
            page(&closed, v, &RegisterForm::default(), FormErrors::default())
                .render()
                .unwrap_or_default(),
        ),
    ]
}
