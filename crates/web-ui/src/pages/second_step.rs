//! The second step of a sign-in (`/t/{t}/login/mfa`): an authenticator code, a backup code
//! or a passkey, and "remember this device" when the tenant allows it. Only a session waiting
//! for its second factor gets here; it then continues to where the sign-in was going.

use super::auth::{elsewhere, pending, started};
use super::ceremony::{CeremonyFields, options_json};
use super::{form_failure, href, with_query};
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
use tessera_application::{Factors, Proof};
use tessera_domain::mfa::Restriction;
use tessera_domain::tenant::Tenant;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MfaQuery {
    return_to: String,
    /// `backup`: ask for a backup code instead of the authenticator's.
    method: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct MfaForm {
    method: String,
    code: String,
    remember: Option<String>,
    return_to: String,
    challenge_id: String,
    credential: String,
}

/// How the person proves it is them on this page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Method {
    Totp,
    Backup,
    /// Only the passkey button (no authenticator app).
    Passkey,
}

impl Method {
    fn pick(requested: &str, factors: &Factors) -> Self {
        if requested == "backup" {
            Self::Backup
        } else if factors.totp {
            Self::Totp
        } else if factors.passkeys > 0 {
            Self::Passkey
        } else {
            Self::Backup
        }
    }

    pub(crate) fn key(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Backup => "backup",
            Self::Passkey => "passkey",
        }
    }
}

/// The code field of the second step and of step-up.
pub(crate) fn code_field(id: &'static str, method: Method, errors: &FormErrors) -> Field {
    let field = match method {
        Method::Backup => Field::new(id, "code", "Backup code")
            .hint("One of the backup codes you saved, like abcde-23456. Each code works once."),
        _ => Field::new(id, "code", "Authenticator code")
            .inputmode("numeric")
            .hint("The 6-digit code your authenticator app shows now."),
    };
    field
        .autocomplete("one-time-code")
        .errors(errors)
        .focus(true)
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    page: Layout,
    method: &'static str,
    code: Option<Field>,
    /// "Remember this device for N days" (0: not offered).
    remember_days: u32,
    passkeys: bool,
    /// Links to the other ways (label, href).
    others: Vec<(&'static str, String)>,
    return_to: String,
}

fn build(
    tenant: &Tenant,
    visit: &Visit,
    factors: &Factors,
    method: Method,
    return_to: &str,
    errors: FormErrors,
) -> MfaPage {
    let return_to = safe_return_to(return_to).unwrap_or_default().to_owned();
    let here = |m: &str| {
        with_query(
            &href(tenant, "login/mfa"),
            &[("return_to", &return_to), ("method", m)],
        )
    };
    let mut others = Vec::new();
    if method == Method::Backup && (factors.totp || factors.passkeys > 0) {
        let label = if factors.totp {
            "Use your authenticator app"
        } else {
            "Use your passkey"
        };
        others.push((label, here("")));
    }
    if method != Method::Backup && factors.backup_codes_remaining > 0 {
        others.push(("Use a backup code", here("backup")));
    }
    let mut layout = Layout::new(tenant, visit, "Two-step verification").errors(errors.clone());
    if factors.passkeys > 0 {
        layout = layout.passkeys();
    }
    MfaPage {
        page: layout,
        method: method.key(),
        code: (method != Method::Passkey).then(|| code_field("mfa-code", method, &errors)),
        remember_days: tenant.settings.auth.mfa.remember_device_days,
        passkeys: factors.passkeys > 0,
        others,
        return_to,
    }
}

pub(crate) async fn show(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let q: MfaQuery = visit.query();
    let (tenant, me) = match pending(&state, &visit, &slug, &q.return_to).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    if let Some(away) = elsewhere(
        &visit,
        &tenant,
        &me,
        Restriction::SecondFactor,
        &q.return_to,
    ) {
        return away;
    }
    let factors = match state.app.my_factors(&me).await {
        Ok((f, _)) => f,
        Err(e) => return super::failure_page(&visit, Some(&tenant), e),
    };
    let method = Method::pick(&q.method, &factors);
    let page = build(
        &tenant,
        &visit,
        &factors,
        method,
        &q.return_to,
        FormErrors::default(),
    );
    visit.finish(view::render(StatusCode::OK, &page))
}

pub(crate) async fn submit(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<MfaForm>,
) -> Response {
    let (tenant, me) = match pending(&state, &visit, &slug, &form.return_to).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    if let Some(away) = elsewhere(
        &visit,
        &tenant,
        &me,
        Restriction::SecondFactor,
        &form.return_to,
    ) {
        return away;
    }
    let factors = match state.app.my_factors(&me).await {
        Ok((f, _)) => f,
        Err(e) => return super::failure_page(&visit, Some(&tenant), e),
    };
    let method = Method::pick(&form.method, &factors);
    let ceremony = CeremonyFields {
        challenge_id: form.challenge_id.clone(),
        credential: form.credential.clone(),
    };
    let by_passkey = ceremony.present();
    let proof = if by_passkey {
        ceremony
            .parse()
            .map(|(challenge, response)| Proof::Passkey {
                challenge,
                response,
            })
    } else if form.code.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.field(
            "mfa-code",
            match method {
                Method::Backup => "Enter one of your backup codes.",
                _ => "Enter the code your authenticator app shows.",
            },
        );
        let page = build(&tenant, &visit, &factors, method, &form.return_to, errors);
        return super::form_refused(&visit, &page);
    } else if method == Method::Backup {
        Ok(Proof::BackupCode(form.code.trim().to_owned()))
    } else {
        Ok(Proof::Totp(form.code.trim().to_owned()))
    };
    let secret = visit.session.clone().unwrap_or_default();
    let result = match proof {
        Ok(proof) => {
            state
                .app
                .complete_second_factor(
                    visit.origin.clone(),
                    tenant.slug.as_str(),
                    &secret,
                    proof,
                    form.remember.is_some(),
                    &visit.browser(),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(new) => started(&state, &visit, &tenant, &new, &form.return_to),
        Err(e) => {
            let fields: &[(&str, &str)] = if by_passkey || method == Method::Passkey {
                &[]
            } else {
                &[("code", "mfa-code")]
            };
            form_failure(&visit, &tenant, e, fields, |errors| {
                build(&tenant, &visit, &factors, method, &form.return_to, errors)
            })
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Nothing {}

/// The options of a passkey check for the second step (JSON).
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
        Some(Restriction::SecondFactor) => state.app.start_passkey_check(&me).await,
        _ => Err(tessera_application::Error::Unauthenticated(
            tessera_application::AuthFailure::NoSession,
        )),
    };
    options_json(&visit, result, &login, &login)
}

#[cfg(test)]
pub(crate) fn samples(t: &Tenant, v: &Visit) -> Vec<(&'static str, String)> {
    let all = Factors {
        totp: true,
        passkeys: 1,
        backup_codes_remaining: 8,
    };
    let passkey_only = Factors {
        totp: false,
        passkeys: 2,
        backup_codes_remaining: 0,
    };
    let mut errors = FormErrors::default();
    errors.field("mfa-code", "The code is wrong or was already used.");
    vec![
        (
            "mfa",
            build(
                t,
                v,
                &all,
                Method::Totp,
                "/t/acme/account",
                FormErrors::default(),
            )
            .render()
            .unwrap_or_default(),
        ),
        (
            "mfa-backup-errors",
            build(t, v, &all, Method::Backup, "", errors)
                .render()
                .unwrap_or_default(),
        ),
        (
            "mfa-passkey",
            build(
                t,
                v,
                &passkey_only,
                Method::Passkey,
                "",
                FormErrors::default(),
            )
            .render()
            .unwrap_or_default(),
        ),
    ]
}
