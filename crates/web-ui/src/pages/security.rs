//! Sign-in security (`/t/{t}/account/security`): the authenticator app (set up with a QR code
//! and a first code, or remove), backup codes (how many remain; a new set shown once),
//! passkeys (add, rename, remove), remembered devices (forget one or all) and sessions (end).
//! A change that needs a recent authentication sends the person to `/t/{t}/step-up`, which
//! brings them back here.

use super::account::{SessionRow, display_name, session_rows, when};
use super::auth::{signed_in, step_up_href};
use super::ceremony::{CeremonyFields, options_json};
use super::enrol::{
    BackupCodesPage, TotpSetup, after_enrolment, confirm_field, passkey_name_field,
};
use super::{error_page, failure_page, href, see_other, with_query};
use crate::errors::{Failure, explain};
use crate::form::{Field, FormErrors};
use crate::request::{Posted, Visit};
use crate::state::WebState;
use crate::view::{self, Layout};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use tessera_application::{Error, Factors, SessionInfo, SignedIn};
use tessera_domain::mfa::{Device, Passkey};
use tessera_domain::tenant::Tenant;
use tessera_domain::{DeviceId, PasskeyId};

const PAGE: &str = "account/security";
const TOTP_PAGE: &str = "account/security/totp";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SecurityQuery {
    notice: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Nothing {}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TotpForm {
    code: String,
    secret: String,
    uri: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct NewPasskeyForm {
    name: String,
    challenge_id: String,
    credential: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PasskeyForm {
    id: String,
    name: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct DeviceForm {
    /// Empty: every device.
    device: String,
}

struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: String,
    synced: bool,
}

struct DeviceRow {
    id: String,
    name: String,
    first_seen: String,
    last_seen: String,
    remembered_until: Option<String>,
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    page: Layout,
    factors: Factors,
    mandatory: bool,
    totp_allowed: bool,
    passkeys_allowed: bool,
    setup_href: String,
    passkeys: Vec<PasskeyRow>,
    new_passkey: Field,
    devices: Vec<DeviceRow>,
    remembered: usize,
    sessions: Vec<SessionRow>,
}

/// What the page lists.
struct Lists {
    factors: Factors,
    mandatory: bool,
    passkeys: Vec<Passkey>,
    devices: Vec<Device>,
    sessions: Vec<SessionInfo>,
}

async fn lists(state: &WebState, me: &SignedIn) -> Result<Lists, Error> {
    let (factors, mandatory) = state.app.my_factors(me).await?;
    Ok(Lists {
        factors,
        mandatory,
        passkeys: state.app.my_passkeys(me).await?,
        devices: state.app.my_devices(me).await?,
        sessions: state.app.my_sessions(me).await?,
    })
}

fn build(
    tenant: &Tenant,
    visit: &Visit,
    me: &SignedIn,
    lists: Lists,
    notice: Option<&str>,
    errors: FormErrors,
) -> SecurityPage {
    let settings = &tenant.settings.auth;
    let passkeys_allowed = settings.mfa.passkeys || settings.passwordless.passkeys;
    // The request's time, as the application recorded it on the session (within a minute;
    // pages have no clock of their own).
    let now = me.session.last_seen_at;
    let devices: Vec<DeviceRow> = lists
        .devices
        .iter()
        .filter(|d| d.revoked_at.is_none())
        .map(|d| DeviceRow {
            id: d.id.to_string(),
            name: d
                .description
                .clone()
                .unwrap_or_else(|| "A browser you signed in with".to_owned()),
            first_seen: when(d.created_at),
            last_seen: when(d.last_seen_at),
            remembered_until: d.remember_until.filter(|u| *u > now).map(when),
        })
        .collect();
    let mut layout = Layout::new(tenant, visit, "Sign-in security")
        .signed_in(display_name(me))
        .notice(notice)
        .errors(errors.clone());
    if passkeys_allowed {
        layout = layout.passkeys();
    }
    SecurityPage {
        page: layout,
        factors: lists.factors,
        mandatory: lists.mandatory,
        totp_allowed: settings.mfa.totp,
        passkeys_allowed,
        setup_href: href(tenant, TOTP_PAGE),
        passkeys: lists
            .passkeys
            .iter()
            .map(|p| PasskeyRow {
                id: p.id.to_string(),
                name: p.name.clone(),
                created: when(p.created_at),
                last_used: p.last_used_at.map_or_else(|| "Never".to_owned(), when),
                synced: p.backup_eligible,
            })
            .collect(),
        new_passkey: passkey_name_field("new-passkey-name", &errors),
        remembered: devices
            .iter()
            .filter(|d| d.remembered_until.is_some())
            .count(),
        devices,
        sessions: session_rows(lists.sessions),
    }
}

async fn render(
    state: &WebState,
    visit: &Visit,
    tenant: &Tenant,
    me: &SignedIn,
    status: StatusCode,
    notice: Option<&str>,
    errors: FormErrors,
) -> Response {
    match lists(state, me).await {
        Ok(lists) => {
            let page = build(tenant, visit, me, lists, notice, errors);
            visit.finish(view::render(status, &page))
        }
        Err(e) => failure_page(visit, Some(tenant), e),
    }
}

/// The page again with the errors of `e`, or the step-up page when the change needs a
/// recent authentication (coming back to `back`).
async fn refused(
    state: &WebState,
    visit: &Visit,
    tenant: &Tenant,
    me: &SignedIn,
    e: Error,
    back: &str,
) -> Response {
    if let Error::StepUpRequired { .. } = e {
        return visit.finish(see_other(&step_up_href(tenant, back)));
    }
    match explain(e, &[("name", "new-passkey-name")]) {
        Failure::Form {
            status,
            errors,
            retry_after,
        } => view::retry_after(
            render(state, visit, tenant, me, status, None, errors).await,
            retry_after,
        ),
        Failure::Page {
            status,
            title,
            message,
        } => error_page(visit, Some(tenant), status, title, &message),
    }
}

fn done(visit: &Visit, tenant: &Tenant, notice: &str) -> Response {
    visit.finish(see_other(&with_query(
        &href(tenant, PAGE),
        &[("notice", notice)],
    )))
}

async fn me(state: &WebState, visit: &Visit, slug: &str) -> Result<(Tenant, SignedIn), Response> {
    signed_in(state, visit, slug, &format!("/t/{slug}/{PAGE}")).await
}

pub(crate) async fn show(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let q: SecurityQuery = visit.query();
    render(
        &state,
        &visit,
        &tenant,
        &me,
        StatusCode::OK,
        Some(&q.notice),
        FormErrors::default(),
    )
    .await
}

#[derive(Template)]
#[template(path = "totp_setup.html")]
struct TotpSetupPage {
    page: Layout,
    setup: TotpSetup,
    code: Field,
    cancel_href: String,
}

fn setup_page(
    tenant: &Tenant,
    visit: &Visit,
    who: String,
    setup: TotpSetup,
    errors: FormErrors,
) -> TotpSetupPage {
    TotpSetupPage {
        page: Layout::new(tenant, visit, "Set up an authenticator app")
            .signed_in(who)
            .errors(errors.clone()),
        setup,
        code: confirm_field("totp-code", &errors).focus(true),
        cancel_href: href(tenant, PAGE),
    }
}

/// Starts (or restarts) setting up an authenticator app: the QR code and the key.
pub(crate) async fn show_totp(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let (tenant, me) =
        match signed_in(&state, &visit, &slug, &format!("/t/{slug}/{TOTP_PAGE}")).await {
            Ok(x) => x,
            Err(page) => return page,
        };
    match state.app.start_totp_enrolment(&me).await {
        Ok(e) => {
            let page = setup_page(
                &tenant,
                &visit,
                display_name(&me),
                TotpSetup::of(&e),
                FormErrors::default(),
            );
            visit.finish(view::render(StatusCode::OK, &page))
        }
        Err(e) => refused(&state, &visit, &tenant, &me, e, &href(&tenant, TOTP_PAGE)).await,
    }
}

pub(crate) async fn confirm_totp(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<TotpForm>,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let Some(setup) = TotpSetup::posted(&form.secret, &form.uri) else {
        return visit.finish(see_other(&href(&tenant, TOTP_PAGE)));
    };
    let result = if form.code.trim().is_empty() {
        Err(Error::invalid(tessera_domain::ValidationError::new(
            "code",
            "code_required",
            "enter the code your authenticator app shows",
        )))
    } else {
        state
            .app
            .confirm_totp(&me, visit.origin.clone(), form.code.trim())
            .await
    };
    match result {
        Ok(enrolled) => after_enrolment(
            &state,
            &visit,
            &tenant,
            enrolled,
            "Two-step verification is on. If you lose your authenticator, each of these codes signs you in once. Save them somewhere safe now: they are shown only this once.",
            with_query(&href(&tenant, PAGE), &[("notice", "totp_enabled")]),
        ),
        Err(e) => match explain(e, &[("code", "totp-code")]) {
            Failure::Form {
                status,
                errors,
                retry_after,
            } => {
                let page = setup_page(&tenant, &visit, display_name(&me), setup, errors);
                visit.finish(view::retry_after(view::render(status, &page), retry_after))
            }
            Failure::Page {
                status,
                title,
                message,
            } => error_page(&visit, Some(&tenant), status, title, &message),
        },
    }
}

pub(crate) async fn remove_totp(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, .. }: Posted<Nothing>,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    match state.app.remove_totp(&me, visit.origin.clone()).await {
        Ok(()) => done(&visit, &tenant, "totp_removed"),
        Err(e) => refused(&state, &visit, &tenant, &me, e, &href(&tenant, PAGE)).await,
    }
}

pub(crate) async fn regenerate_codes(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, .. }: Posted<Nothing>,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    match state
        .app
        .regenerate_backup_codes(&me, visit.origin.clone())
        .await
    {
        Ok(codes) => {
            let page = BackupCodesPage {
                page: Layout::new(&tenant, &visit, "Your new backup codes")
                    .signed_in(display_name(&me)),
                codes,
                intro: "Your earlier backup codes no longer work. Each of these signs you in once if you lose your authenticator. Save them now: they are shown only this once.",
                continue_href: href(&tenant, PAGE),
            };
            visit.finish(view::render(StatusCode::OK, &page))
        }
        Err(e) => refused(&state, &visit, &tenant, &me, e, &href(&tenant, PAGE)).await,
    }
}

/// The options of a new passkey (JSON); a step-up first when the sign-in is not recent.
pub(crate) async fn passkey_options(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, .. }: Posted<Nothing>,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let result = state.app.start_passkey_registration(&me).await;
    let back = format!("{}#passkeys", href(&tenant, PAGE));
    options_json(
        &visit,
        result,
        &step_up_href(&tenant, &back),
        &href(&tenant, "login"),
    )
}

pub(crate) async fn add_passkey(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<NewPasskeyForm>,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let ceremony = CeremonyFields {
        challenge_id: form.challenge_id,
        credential: form.credential,
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
            "Two-step verification is on. If you lose your passkey, each of these codes signs you in once. Save them somewhere safe now: they are shown only this once.",
            with_query(&href(&tenant, PAGE), &[("notice", "passkey_added")]),
        ),
        Err(e) => refused(&state, &visit, &tenant, &me, e, &href(&tenant, PAGE)).await,
    }
}

fn passkey_id(raw: &str) -> Result<PasskeyId, Error> {
    raw.trim()
        .parse::<PasskeyId>()
        .map_err(|_| Error::NotFound("passkey"))
}

pub(crate) async fn rename_passkey(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<PasskeyForm>,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let result = match passkey_id(&form.id) {
        Ok(id) => {
            state
                .app
                .rename_my_passkey(&me, visit.origin.clone(), id, &form.name)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => done(&visit, &tenant, "passkey_renamed"),
        Err(e) => refused(&state, &visit, &tenant, &me, e, &href(&tenant, PAGE)).await,
    }
}

pub(crate) async fn remove_passkey(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<PasskeyForm>,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let result = match passkey_id(&form.id) {
        Ok(id) => {
            state
                .app
                .remove_my_passkey(&me, visit.origin.clone(), id)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => done(&visit, &tenant, "passkey_removed"),
        Err(e) => refused(&state, &visit, &tenant, &me, e, &href(&tenant, PAGE)).await,
    }
}

pub(crate) async fn forget_devices(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<DeviceForm>,
) -> Response {
    let (tenant, me) = match me(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let which = match form.device.trim() {
        "" => None,
        raw => match raw.parse::<DeviceId>() {
            Ok(id) => Some(id),
            Err(_) => {
                return refused(
                    &state,
                    &visit,
                    &tenant,
                    &me,
                    Error::NotFound("device"),
                    &href(&tenant, PAGE),
                )
                .await;
            }
        },
    };
    match state
        .app
        .forget_my_devices(&me, visit.origin.clone(), which)
        .await
    {
        Ok(_) if which.is_some() => done(&visit, &tenant, "device_forgotten"),
        Ok(_) => done(&visit, &tenant, "devices_forgotten"),
        Err(e) => refused(&state, &visit, &tenant, &me, e, &href(&tenant, PAGE)).await,
    }
}

#[cfg(test)]
pub(crate) fn samples(
    t: &Tenant,
    v: &Visit,
    me: &SignedIn,
    sessions: Vec<SessionInfo>,
) -> Vec<(&'static str, String)> {
    use time::macros::datetime;
    use uuid::Uuid;
    let passkey = |n: u128, name: &str| Passkey {
        id: PasskeyId::from_uuid(Uuid::from_u128(n)),
        tenant_id: t.id,
        user_id: me.user.id,
        credential_id: format!("cred-{n}"),
        name: name.to_owned(),
        aaguid: None,
        credential: String::new(),
        sign_count: 0,
        backup_eligible: n.is_multiple_of(2),
        created_at: datetime!(2026-02-01 9:00 UTC),
        last_used_at: (n.is_multiple_of(2)).then_some(datetime!(2026-03-01 9:30 UTC)),
    };
    let device = Device {
        id: DeviceId::from_uuid(Uuid::from_u128(40)),
        tenant_id: t.id,
        user_id: me.user.id,
        secret_hash: String::new(),
        description: None,
        created_at: datetime!(2026-02-01 9:00 UTC),
        last_seen_at: datetime!(2026-03-01 9:30 UTC),
        remember_until: Some(datetime!(2099-01-01 0:00 UTC)),
        revoked_at: None,
    };
    let full = Lists {
        factors: Factors {
            totp: true,
            passkeys: 2,
            backup_codes_remaining: 7,
        },
        mandatory: true,
        passkeys: vec![passkey(1, "YubiKey 5"), passkey(2, "Phone")],
        devices: vec![device],
        sessions: sessions.clone(),
    };
    let empty = Lists {
        factors: Factors::default(),
        mandatory: false,
        passkeys: vec![],
        devices: vec![],
        sessions,
    };
    let mut errors = FormErrors::default();
    errors.field(
        "new-passkey-name",
        "A passkey name has at most 64 characters.",
    );
    let setup = TotpSetup::new(
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        "otpauth://totp/Acme:ada?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme",
    );
    let mut totp_errors = FormErrors::default();
    totp_errors.field("totp-code", "The code is wrong or was already used.");
    vec![
        (
            "security",
            build(t, v, me, full, Some("passkey_added"), FormErrors::default())
                .render()
                .unwrap_or_default(),
        ),
        (
            "security-empty-errors",
            build(t, v, me, empty, None, errors)
                .render()
                .unwrap_or_default(),
        ),
        (
            "totp-setup",
            setup_page(t, v, "Ada".to_owned(), setup.clone(), FormErrors::default())
                .render()
                .unwrap_or_default(),
        ),
        (
            "totp-setup-errors",
            setup_page(t, v, "Ada".to_owned(), setup, totp_errors)
                .render()
                .unwrap_or_default(),
        ),
    ]
}
