//! Step-up (`/t/{t}/step-up?return_to=…`): before a sensitive change, a signed-in person
//! confirms it is them again (password, authenticator code, backup code or passkey), then
//! goes back to the page they came from. A person with a second factor who signed in with it
//! confirms with it (a password alone does not do).

use super::auth::signed_in;
use super::ceremony::{CeremonyFields, options_json};
use super::second_step::{Method as CodeMethod, code_field};
use super::{form_failure, form_refused, href, see_other, with_query};
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
use tessera_application::{Factors, Proof, SignedIn};
use tessera_domain::tenant::Tenant;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StepUpQuery {
    return_to: String,
    method: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct StepUpForm {
    method: String,
    password: String,
    code: String,
    return_to: String,
    challenge_id: String,
    credential: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Password,
    Totp,
    Backup,
    Passkey,
}

impl Method {
    fn key(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Totp => "totp",
            Self::Backup => "backup",
            Self::Passkey => "passkey",
        }
    }
}

/// What this person may confirm with.
#[derive(Clone, Copy, Debug)]
struct Ways {
    password: bool,
    totp: bool,
    backup: bool,
    passkey: bool,
}

impl Ways {
    fn of(factors: &Factors) -> Self {
        Self {
            password: !factors.any(),
            totp: factors.totp,
            backup: factors.backup_codes_remaining > 0,
            passkey: factors.passkeys > 0,
        }
    }

    fn pick(self, requested: &str) -> Method {
        match requested {
            "password" if self.password => Method::Password,
            "totp" if self.totp => Method::Totp,
            "backup" if self.backup => Method::Backup,
            _ if self.totp => Method::Totp,
            _ if self.password => Method::Password,
            _ if self.passkey => Method::Passkey,
            _ => Method::Backup,
        }
    }
}

#[derive(Template)]
#[template(path = "step_up.html")]
struct StepUpPage {
    page: Layout,
    method: &'static str,
    input: Option<Field>,
    passkeys: bool,
    others: Vec<(&'static str, String)>,
    return_to: String,
    cancel_href: String,
}

fn build(
    tenant: &Tenant,
    visit: &Visit,
    who: String,
    ways: Ways,
    method: Method,
    return_to: &str,
    errors: FormErrors,
) -> StepUpPage {
    let return_to = safe_return_to(return_to).unwrap_or_default().to_owned();
    let link = |m: &str| {
        with_query(
            &href(tenant, "step-up"),
            &[("return_to", &return_to), ("method", m)],
        )
    };
    let mut others = Vec::new();
    if ways.totp && method != Method::Totp {
        others.push(("Use your authenticator app", link("totp")));
    }
    if ways.backup && method != Method::Backup {
        others.push(("Use a backup code", link("backup")));
    }
    if ways.password && method != Method::Password {
        others.push(("Use your password", link("password")));
    }
    let input = match method {
        Method::Password => Some(
            Field::password(
                "step-up-password",
                "password",
                "Password",
                "current-password",
            )
            .errors(&errors)
            .focus(true),
        ),
        Method::Totp => Some(code_field("step-up-code", CodeMethod::Totp, &errors)),
        Method::Backup => Some(code_field("step-up-code", CodeMethod::Backup, &errors)),
        Method::Passkey => None,
    };
    let mut layout = Layout::new(tenant, visit, "Confirm it is you")
        .signed_in(who)
        .errors(errors);
    if ways.passkey {
        layout = layout.passkeys();
    }
    StepUpPage {
        page: layout,
        method: method.key(),
        input,
        passkeys: ways.passkey,
        others,
        cancel_href: if return_to.is_empty() {
            href(tenant, "account/security")
        } else {
            return_to.clone()
        },
        return_to,
    }
}

async fn ways(state: &WebState, me: &SignedIn) -> Result<Ways, tessera_application::Error> {
    let (factors, _) = state.app.my_factors(me).await?;
    Ok(Ways::of(&factors))
}

pub(crate) async fn show(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let q: StepUpQuery = visit.query();
    let here = with_query(
        &format!("/t/{slug}/step-up"),
        &[(
            "return_to",
            safe_return_to(&q.return_to).unwrap_or_default(),
        )],
    );
    let (tenant, me) = match signed_in(&state, &visit, &slug, &here).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let ways = match ways(&state, &me).await {
        Ok(w) => w,
        Err(e) => return super::failure_page(&visit, Some(&tenant), e),
    };
    let page = build(
        &tenant,
        &visit,
        super::account::display_name(&me),
        ways,
        ways.pick(&q.method),
        &q.return_to,
        FormErrors::default(),
    );
    visit.finish(view::render(StatusCode::OK, &page))
}

pub(crate) async fn submit(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<StepUpForm>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug, "").await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let ways = match ways(&state, &me).await {
        Ok(w) => w,
        Err(e) => return super::failure_page(&visit, Some(&tenant), e),
    };
    let method = ways.pick(&form.method);
    let who = super::account::display_name(&me);
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
    } else {
        let (value, id, missing) = match method {
            Method::Password => (
                form.password.clone(),
                "step-up-password",
                "Enter your password.",
            ),
            Method::Backup => (
                form.code.trim().to_owned(),
                "step-up-code",
                "Enter one of your backup codes.",
            ),
            _ => (
                form.code.trim().to_owned(),
                "step-up-code",
                "Enter the code your authenticator app shows.",
            ),
        };
        if value.is_empty() {
            let mut errors = FormErrors::default();
            errors.field(id, missing);
            let page = build(&tenant, &visit, who, ways, method, &form.return_to, errors);
            return form_refused(&visit, &page);
        }
        Ok(match method {
            Method::Password => Proof::Password(value),
            Method::Backup => Proof::BackupCode(value),
            _ => Proof::Totp(value),
        })
    };
    let result = match proof {
        Ok(proof) => state.app.step_up(&me, visit.origin.clone(), proof).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => {
            let to = safe_return_to(&form.return_to)
                .map_or_else(|| href(&tenant, "account/security"), str::to_owned);
            visit.finish(see_other(&to))
        }
        Err(e) => {
            let fields: &[(&str, &str)] = match (by_passkey, method) {
                (true, _) | (false, Method::Passkey) => &[],
                (false, Method::Password) => &[
                    ("password", "step-up-password"),
                    ("code", "step-up-password"),
                ],
                (false, _) => &[("code", "step-up-code")],
            };
            form_failure(&visit, &tenant, e, fields, |errors| {
                build(&tenant, &visit, who, ways, method, &form.return_to, errors)
            })
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Nothing {}

/// The options of a passkey check for step-up (JSON).
pub(crate) async fn passkey_options(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, .. }: Posted<Nothing>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug, "").await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let login = href(&tenant, "login");
    let result = state.app.start_passkey_check(&me).await;
    options_json(&visit, result, &login, &login)
}

#[cfg(test)]
pub(crate) fn samples(t: &Tenant, v: &Visit) -> Vec<(&'static str, String)> {
    let all = Ways {
        password: false,
        totp: true,
        backup: true,
        passkey: true,
    };
    let password_only = Ways {
        password: true,
        totp: false,
        backup: false,
        passkey: false,
    };
    let mut errors = FormErrors::default();
    errors.field("step-up-password", "The password is wrong.");
    vec![
        (
            "step-up",
            build(
                t,
                v,
                "Ada".to_owned(),
                all,
                all.pick(""),
                "/t/acme/account/security",
                FormErrors::default(),
            )
            .render()
            .unwrap_or_default(),
        ),
        (
            "step-up-password-errors",
            build(
                t,
                v,
                "Ada".to_owned(),
                password_only,
                password_only.pick(""),
                "",
                errors,
            )
            .render()
            .unwrap_or_default(),
        ),
    ]
}
