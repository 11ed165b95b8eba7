//! Forced enrolment at sign-in (`/t/{t}/login/enrol`): an account that must have a second
//! factor (an administrator, or a tenant that requires one) and has none sets up an
//! authenticator app (QR code, or the key typed in, then a first code) or registers a
//! passkey, then sees its backup codes once and continues to where the sign-in was going.
//!
//! Opening the page starts (or restarts) the authenticator enrolment: the secret shown is
//! pending until a first code confirms it, and only this session can confirm it.

use super::auth::{destination, elsewhere, pending};
use super::ceremony::{CeremonyFields, options_json};
use super::{failure_page, href};
use crate::errors::{Failure, explain};
use crate::form::{Field, FormErrors};
use crate::qr;
use crate::request::{Posted, Visit};
use crate::return_to::safe_return_to;
use crate::state::WebState;
use crate::view::{self, Layout};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_application::{Enrolled, Error, SignedIn, TotpEnrolment};
use tessera_domain::mfa::Restriction;
use tessera_domain::tenant::Tenant;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EnrolQuery {
    return_to: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TotpForm {
    code: String,
    /// The key and URI shown, to show them again with an error (display only: the
    /// pending secret stays server-side).
    secret: String,
    uri: String,
    return_to: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PasskeyForm {
    name: String,
    return_to: String,
    challenge_id: String,
    credential: String,
}

/// An authenticator app being set up, as the page shows it.
#[derive(Clone, Debug)]
pub(crate) struct TotpSetup {
    /// Base32, for the hidden field.
    pub secret: String,
    /// Base32 in groups of four, for typing.
    pub grouped: String,
    pub uri: String,
    /// The QR code of `uri` as a `data:` URL.
    pub qr: Option<String>,
}

impl TotpSetup {
    pub(crate) fn new(secret: &str, uri: &str) -> Self {
        let chars: Vec<char> = secret.chars().collect();
        let grouped = chars
            .chunks(4)
            .map(|c| c.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join(" ");
        Self {
            secret: secret.to_owned(),
            grouped,
            uri: uri.to_owned(),
            qr: qr::svg_data_uri(uri),
        }
    }

    pub(crate) fn of(e: &TotpEnrolment) -> Self {
        Self::new(&e.secret, &e.uri)
    }

    /// The key and URI a form sent back, when they look like ours (shown again only).
    pub(crate) fn posted(secret: &str, uri: &str) -> Option<Self> {
        let secret_ok = !secret.is_empty()
            && secret.len() <= 128
            && secret
                .bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b));
        let uri_ok = uri.len() <= 1024
            && uri.starts_with("otpauth://totp/")
            && uri.bytes().all(|b| b.is_ascii_graphic());
        (secret_ok && uri_ok).then(|| Self::new(secret, uri))
    }
}

/// The authenticator code that confirms a new authenticator app.
pub(crate) fn confirm_field(id: &'static str, errors: &FormErrors) -> Field {
    Field::new(id, "code", "Code from the app")
        .autocomplete("one-time-code")
        .inputmode("numeric")
        .hint("After adding the account, enter the 6-digit code the app shows.")
        .errors(errors)
}

/// The optional name of a new passkey.
pub(crate) fn passkey_name_field(id: &'static str, errors: &FormErrors) -> Field {
    Field::new(id, "name", "Name of the passkey")
        .autocomplete("off")
        .hint("To tell your passkeys apart, like \u{201c}Work laptop\u{201d}.")
        .optional()
        .errors(errors)
}

#[derive(Template)]
#[template(path = "enrol.html")]
struct EnrolPage {
    page: Layout,
    totp: Option<TotpSetup>,
    code: Field,
    passkeys: bool,
    passkey_name: Field,
    return_to: String,
}

/// Backup codes, shown once.
#[derive(Template)]
#[template(path = "backup_codes.html")]
pub(crate) struct BackupCodesPage {
    pub page: Layout,
    pub codes: Vec<String>,
    pub intro: &'static str,
    pub continue_href: String,
}

/// The backup codes of a first factor (or the destination when there are none).
pub(crate) fn after_enrolment(
    state: &WebState,
    visit: &Visit,
    tenant: &Tenant,
    enrolled: Enrolled,
    intro: &'static str,
    continue_href: String,
) -> Response {
    // Enrolling completed a sign-in: the session has a new secret (and maybe a new device).
    let mut cookies = Vec::new();
    if let Some(secret) = &enrolled.session_secret {
        cookies.push(state.cookies.set_session(secret));
    }
    if let Some(device) = &enrolled.device_secret {
        cookies.push(state.cookies.set_device(device));
    }
    let response = if enrolled.backup_codes.is_empty() {
        super::see_other(&continue_href)
    } else {
        let page = BackupCodesPage {
            page: Layout::new(tenant, visit, "Save your backup codes"),
            codes: enrolled.backup_codes,
            intro,
            continue_href,
        };
        view::render(StatusCode::OK, &page)
    };
    let response = cookies
        .iter()
        .fold(response, |r, c| super::set_cookie(r, c));
    visit.finish(response)
}

const FIRST_FACTOR: &str = "Two-step verification is on. If you lose your authenticator, each of these codes signs you in once. Save them somewhere safe now: they are shown only this once.";

/// A half signed-in user on the enrolment page, and where the sign-in goes afterwards.
struct Enrolling<'a> {
    state: &'a WebState,
    visit: &'a Visit,
    tenant: &'a Tenant,
    me: &'a SignedIn,
    return_to: &'a str,
}

impl Enrolling<'_> {
    /// The page: the authenticator app being set up (`shown`, or a new enrolment) and the
    /// passkey registration.
    async fn page(
        &self,
        status: StatusCode,
        errors: FormErrors,
        shown: Option<TotpSetup>,
    ) -> Response {
        let (tenant, visit) = (self.tenant, self.visit);
        let settings = &tenant.settings.auth.mfa;
        let totp = match shown {
            Some(s) => Some(s),
            None if settings.totp => match self.state.app.start_totp_enrolment(self.me).await {
                Ok(e) => Some(TotpSetup::of(&e)),
                Err(e) => return failure_page(visit, Some(tenant), e),
            },
            None => None,
        };
        let passkeys = settings.passkeys || tenant.settings.auth.passwordless.passkeys;
        let mut layout = Layout::new(tenant, visit, "Set up two-step verification")
            .signed_in(super::account::display_name(self.me))
            .errors(errors.clone());
        if passkeys {
            layout = layout.passkeys();
        }
        let page = EnrolPage {
            page: layout,
            totp,
            code: confirm_field("enrol-code", &errors),
            passkeys,
            passkey_name: passkey_name_field("enrol-passkey-name", &errors),
            return_to: safe_return_to(self.return_to)
                .unwrap_or_default()
                .to_owned(),
        };
        visit.finish(view::render(status, &page))
    }

    /// The page again with the errors of `e`.
    async fn again(&self, e: Error, fields: &[(&str, &str)], shown: Option<TotpSetup>) -> Response {
        match explain(e, fields) {
            Failure::Form {
                status,
                errors,
                retry_after,
            } => view::retry_after(self.page(status, errors, shown).await, retry_after),
            Failure::Page {
                status,
                title,
                message,
            } => super::error_page(self.visit, Some(self.tenant), status, title, &message),
        }
    }
}

pub(crate) async fn show(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let q: EnrolQuery = visit.query();
    let (tenant, me) = match pending(&state, &visit, &slug, &q.return_to).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    if let Some(away) = elsewhere(&visit, &tenant, &me, Restriction::Enrolment, &q.return_to) {
        return away;
    }
    let here = Enrolling {
        state: &state,
        visit: &visit,
        tenant: &tenant,
        me: &me,
        return_to: &q.return_to,
    };
    here.page(StatusCode::OK, FormErrors::default(), None).await
}

pub(crate) async fn confirm_totp(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<TotpForm>,
) -> Response {
    let (tenant, me) = match pending(&state, &visit, &slug, &form.return_to).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    if let Some(away) = elsewhere(
        &visit,
        &tenant,
        &me,
        Restriction::Enrolment,
        &form.return_to,
    ) {
        return away;
    }
    let here = Enrolling {
        state: &state,
        visit: &visit,
        tenant: &tenant,
        me: &me,
        return_to: &form.return_to,
    };
    let shown = TotpSetup::posted(&form.secret, &form.uri);
    if form.code.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.field("enrol-code", "Enter the code your authenticator app shows.");
        return here
            .page(StatusCode::UNPROCESSABLE_ENTITY, errors, shown)
            .await;
    }
    match state
        .app
        .confirm_totp(&me, visit.origin.clone(), form.code.trim())
        .await
    {
        Ok(enrolled) => after_enrolment(
            &state,
            &visit,
            &tenant,
            enrolled,
            FIRST_FACTOR,
            destination(&tenant, &form.return_to),
        ),
        Err(e) => here.again(e, &[("code", "enrol-code")], shown).await,
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Nothing {}

/// The options of a passkey registration during the forced enrolment (JSON).
pub(crate) async fn passkey_options(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, .. }: Posted<Nothing>,
) -> Response {
    let (tenant, me) = match pending(&state, &visit, &slug, "").await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let login = href(&tenant, "login");
    let result = match me.session.restriction {
        Some(Restriction::Enrolment) => state.app.start_passkey_registration(&me).await,
        _ => Err(Error::Unauthenticated(
            tessera_application::AuthFailure::NoSession,
        )),
    };
    options_json(&visit, result, &login, &login)
}

pub(crate) async fn register_passkey(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<PasskeyForm>,
) -> Response {
    let (tenant, me) = match pending(&state, &visit, &slug, &form.return_to).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    if let Some(away) = elsewhere(
        &visit,
        &tenant,
        &me,
        Restriction::Enrolment,
        &form.return_to,
    ) {
        return away;
    }
    let ceremony = CeremonyFields {
        challenge_id: form.challenge_id.clone(),
        credential: form.credential.clone(),
    };
    let result = match ceremony.parse() {
        Ok((challenge, response)) => {
            let name = Some(form.name.as_str()).filter(|n| !n.trim().is_empty());
            state
                .app
                .finish_passkey_registration(&me, visit.origin.clone(), challenge, &response, name)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((_, enrolled)) => after_enrolment(
            &state,
            &visit,
            &tenant,
            enrolled,
            FIRST_FACTOR,
            destination(&tenant, &form.return_to),
        ),
        Err(e) => {
            let here = Enrolling {
                state: &state,
                visit: &visit,
                tenant: &tenant,
                me: &me,
                return_to: &form.return_to,
            };
            here.again(e, &[("name", "enrol-passkey-name")], None).await
        }
    }
}

#[cfg(test)]
pub(crate) fn samples(t: &Tenant, v: &Visit) -> Vec<(&'static str, String)> {
    let setup = TotpSetup::new(
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "otpauth://totp/Acme:ada?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme",
    );
    let page = |errors: FormErrors| EnrolPage {
        page: Layout::new(t, v, "Set up two-step verification")
            .passkeys()
            .errors(errors.clone()),
        totp: Some(setup.clone()),
        code: confirm_field("enrol-code", &errors),
        passkeys: true,
        passkey_name: passkey_name_field("enrol-passkey-name", &errors),
        return_to: "/t/acme/account".to_owned(),
    };
    let mut errors = FormErrors::default();
    errors.field("enrol-code", "The code is wrong or was already used.");
    let codes = BackupCodesPage {
        page: Layout::new(t, v, "Save your backup codes"),
        codes: vec!["abcde-23456".to_owned(), "fghjk-789ab".to_owned()],
        intro: FIRST_FACTOR,
        continue_href: "/t/acme/account".to_owned(),
    };
    vec![
        (
            "enrol",
            page(FormErrors::default()).render().unwrap_or_default(),
        ),
        ("enrol-errors", page(errors).render().unwrap_or_default()),
        ("backup-codes", codes.render().unwrap_or_default()),
    ]
}
