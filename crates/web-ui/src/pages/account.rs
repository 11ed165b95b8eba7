//! The account portal (`/t/{t}/account`): profile summary, password change, sessions,
//! identifiers (add with a code, remove) and login history. Every action is a POST that
//! redirects back to the page with a notice, or shows the page again with its errors.

use super::{error_page, failure_page, href, see_other, set_cookie, with_query};
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
use tessera_application::{Error, Factors, SessionInfo, SignedIn, describe_device};
use tessera_domain::SessionId;
use tessera_domain::audit::{AuditEvent, Outcome};
use tessera_domain::tenant::Tenant;
use time::OffsetDateTime;
use time::macros::format_description;

/// Entries of the login history shown.
const HISTORY_SHOWN: u32 = 10;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AccountQuery {
    notice: String,
    /// An identifier waiting for its code.
    verify: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_confirm: String,
    sign_out_others: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct SessionForm {
    session: String,
    /// `security`: back to the security page afterwards.
    back: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct IdentifierForm {
    identifier: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct VerifyForm {
    identifier: String,
    code: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Nothing {}

struct IdentifierRow {
    value: String,
    verified: bool,
    primary: bool,
}

pub(crate) struct SessionRow {
    pub id: String,
    pub device: String,
    pub ip: String,
    pub started: String,
    pub last_seen: String,
    pub current: bool,
}

/// The sessions as listed to their user: this one first.
pub(crate) fn session_rows(sessions: Vec<SessionInfo>) -> Vec<SessionRow> {
    let mut rows: Vec<SessionRow> = sessions
        .into_iter()
        .map(|s| SessionRow {
            id: s.session.id.to_string(),
            device: s
                .session
                .device
                .clone()
                .unwrap_or_else(|| "Unknown device".to_owned()),
            ip: s.session.ip.clone().unwrap_or_default(),
            started: when(s.session.created_at),
            last_seen: when(s.session.last_seen_at),
            current: s.current,
        })
        .collect();
    rows.sort_by_key(|s| !s.current);
    rows
}

struct HistoryRow {
    at: String,
    what: String,
    ok: bool,
    ip: String,
    device: String,
}

/// An identifier waiting for the code sent to it.
struct Pending {
    identifier: String,
    code: Field,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    page: Layout,
    profile: Vec<(&'static str, String)>,
    emails: Vec<IdentifierRow>,
    phones: Vec<IdentifierRow>,
    current_password: Field,
    new_password: Field,
    new_password_confirm: Field,
    sign_out_others: bool,
    sessions: Vec<SessionRow>,
    others: usize,
    add_identifier: Field,
    pending: Option<Pending>,
    history: Vec<HistoryRow>,
    /// The security page, and what it would say.
    security_href: String,
    factors: Factors,
}

/// What differs from the plain page when a form is shown again.
struct Again {
    status: StatusCode,
    errors: FormErrors,
    notice: Option<String>,
    pending: Option<String>,
    add_value: String,
    sign_out_others: bool,
}

impl Default for Again {
    fn default() -> Self {
        Self {
            status: StatusCode::OK,
            errors: FormErrors::default(),
            notice: None,
            pending: None,
            add_value: String::new(),
            sign_out_others: true,
        }
    }
}

pub(crate) fn when(at: OffsetDateTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(format)
        .unwrap_or_default()
}

/// How the header names the signed-in person.
pub(crate) fn display_name(me: &SignedIn) -> String {
    let p = &me.user.profile;
    let name: Vec<&str> = [p.given_name.as_deref(), p.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !name.is_empty() {
        return name.join(" ");
    }
    if let Some(u) = &me.user.username {
        return u.to_string();
    }
    if let Some(e) = me.user.primary_email() {
        return e.to_string();
    }
    "your account".to_owned()
}

fn describe_event(e: &AuditEvent) -> String {
    let reason = e
        .changes
        .iter()
        .find(|c| c.field == "reason")
        .and_then(|c| c.after.as_str());
    match (e.action.as_str(), reason) {
        ("auth.login.succeeded", _) => "Signed in".to_owned(),
        ("auth.login.failed", Some("wrong_password")) => {
            "Sign-in refused: wrong password".to_owned()
        }
        ("auth.login.failed", Some("throttled")) => "Sign-in refused: too many attempts".to_owned(),
        ("auth.login.failed", _) => "Sign-in refused".to_owned(),
        ("auth.logout", _) => "Signed out".to_owned(),
        ("auth.session_replaced", _) => "Session renewed".to_owned(),
        ("auth.recovery_requested", _) => "Recovery code requested".to_owned(),
        ("auth.recovery_verified", _) => "Recovery code confirmed".to_owned(),
        ("auth.login.second_factor_required", _) => {
            "Password accepted, second step asked".to_owned()
        }
        ("auth.login.enrolment_required", _) => {
            "Password accepted, second factor set-up asked".to_owned()
        }
        ("auth.mfa.failed", _) => "Second step refused".to_owned(),
        ("auth.step_up", _) => "Identity confirmed again".to_owned(),
        ("auth.step_up.failed", _) => "Identity confirmation refused".to_owned(),
        ("auth.passkey_refused", _) => "Passkey refused".to_owned(),
        ("mfa.totp_enrolled", _) => "Authenticator app set up".to_owned(),
        ("mfa.totp_removed", _) => "Authenticator app removed".to_owned(),
        ("mfa.passkey_added", _) => "Passkey added".to_owned(),
        ("mfa.passkey_removed", _) => "Passkey removed".to_owned(),
        ("mfa.backup_codes_generated", _) => "New backup codes".to_owned(),
        ("mfa.backup_code_used", _) => "Backup code used".to_owned(),
        (other, _) => other.to_owned(),
    }
}

/// The signed-in user of the request, or the redirect to the sign-in page (or to the second
/// step of an unfinished sign-in).
async fn signed_in(
    state: &WebState,
    visit: &Visit,
    slug: &str,
) -> Result<(Tenant, SignedIn), Response> {
    super::auth::signed_in(state, visit, slug, &format!("/t/{slug}/account")).await
}

async fn render(
    state: &WebState,
    visit: &Visit,
    tenant: &Tenant,
    me: &SignedIn,
    again: Again,
) -> Response {
    let sessions = match state.app.my_sessions(me).await {
        Ok(s) => s,
        Err(e) => return failure_page(visit, Some(tenant), e),
    };
    let history = match state
        .app
        .my_login_history(me, None, Some(HISTORY_SHOWN))
        .await
    {
        Ok(page) => page.items,
        Err(e) => return failure_page(visit, Some(tenant), e),
    };
    let factors = match state.app.my_factors(me).await {
        Ok((f, _)) => f,
        Err(e) => return failure_page(visit, Some(tenant), e),
    };
    let status = again.status;
    let page = build(visit, tenant, me, sessions, &history, factors, again);
    visit.finish(view::render(status, &page))
}

fn build(
    visit: &Visit,
    tenant: &Tenant,
    me: &SignedIn,
    sessions: Vec<SessionInfo>,
    history: &[AuditEvent],
    factors: Factors,
    again: Again,
) -> AccountPage {
    let errors = &again.errors;
    let user = &me.user;
    let mut profile = Vec::new();
    let p = &user.profile;
    let name: Vec<&str> = [p.given_name.as_deref(), p.family_name.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !name.is_empty() {
        profile.push(("Name", name.join(" ")));
    }
    if let Some(u) = &user.username {
        profile.push(("Username", u.to_string()));
    }
    profile.push(("Member since", when(user.created_at)));
    let sessions = session_rows(sessions);
    let others = sessions.iter().filter(|s| !s.current).count();
    let mut page = AccountPage {
        page: Layout {
            signed_in: Some(display_name(me)),
            notice: again.notice.clone(),
            ..Layout::new(tenant, visit, "Your account")
        }
        .errors(again.errors.clone()),
        profile,
        emails: user
            .emails
            .iter()
            .map(|e| IdentifierRow {
                value: e.address.to_string(),
                verified: e.verified,
                primary: e.primary,
            })
            .collect(),
        phones: user
            .phones
            .iter()
            .map(|p| IdentifierRow {
                value: p.number.to_string(),
                verified: p.verified,
                primary: p.primary,
            })
            .collect(),
        current_password: Field::password(
            "cp-current",
            "current_password",
            "Current password",
            "current-password",
        )
        .errors(errors),
        new_password: Field::password("cp-new", "new_password", "New password", "new-password")
            .hint(format!(
                "At least {} characters, different from your recent passwords.",
                tenant.settings.auth.password.min_length
            ))
            .errors(errors),
        new_password_confirm: Field::password(
            "cp-confirm",
            "new_password_confirm",
            "Confirm new password",
            "new-password",
        )
        .errors(errors),
        sign_out_others: again.sign_out_others,
        sessions,
        others,
        add_identifier: Field::new(
            "add-identifier",
            "identifier",
            "Email address or phone number",
        )
        .value(&again.add_value)
        .hint("A phone number starts with + and the country code.")
        .errors(errors),
        pending: again
            .pending
            .clone()
            .filter(|p| !p.is_empty())
            .map(|identifier| Pending {
                identifier,
                code: super::verify::code_field("verify-new-code", errors),
            }),
        history: history
            .iter()
            .map(|e| HistoryRow {
                at: when(e.at),
                what: describe_event(e),
                ok: e.outcome == Outcome::Success,
                ip: e.origin.ip.clone().unwrap_or_default(),
                device: describe_device(e.origin.user_agent.as_deref()).unwrap_or_default(),
            })
            .collect(),
        security_href: href(tenant, "account/security"),
        factors,
    };
    // After a failed action, the first field in error takes the focus.
    let mut fields: Vec<&mut Field> = vec![
        &mut page.add_identifier,
        &mut page.current_password,
        &mut page.new_password,
        &mut page.new_password_confirm,
    ];
    if let Some(p) = page.pending.as_mut() {
        fields.insert(0, &mut p.code);
    }
    if let Some(first) = fields.into_iter().find(|f| f.error.is_some()) {
        first.autofocus = true;
    }
    page
}

/// Shows the account page again with the errors of `e`.
async fn again_with(
    state: &WebState,
    visit: &Visit,
    tenant: &Tenant,
    me: &SignedIn,
    e: Error,
    fields: &[(&str, &str)],
    mut again: Again,
) -> Response {
    match explain(e, fields) {
        Failure::Form {
            status,
            errors,
            retry_after,
        } => {
            again.status = status;
            again.errors = errors;
            view::retry_after(render(state, visit, tenant, me, again).await, retry_after)
        }
        Failure::Page {
            status,
            title,
            message,
        } => error_page(visit, Some(tenant), status, title, &message),
    }
}

fn back(tenant: &Tenant, notice: &str) -> Response {
    see_other(&with_query(&href(tenant, "account"), &[("notice", notice)]))
}

pub(crate) async fn show(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    visit: Visit,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let q: AccountQuery = visit.query();
    let again = Again {
        notice: crate::notice::message(Some(&q.notice)).map(str::to_owned),
        pending: Some(q.verify),
        ..Again::default()
    };
    render(&state, &visit, &tenant, &me, again).await
}

pub(crate) async fn change_password(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<PasswordForm>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let sign_out_others = form.sign_out_others.is_some();
    let mut errors = FormErrors::default();
    if form.current_password.is_empty() {
        errors.field("cp-current", "Enter your current password.");
    }
    if form.new_password.is_empty() {
        errors.field("cp-new", "Choose a new password.");
    } else if form.new_password != form.new_password_confirm {
        errors.field("cp-confirm", "The two passwords are not the same.");
    }
    if !errors.is_empty() {
        let again = Again {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            sign_out_others,
            ..Again::default()
        };
        return render(&state, &visit, &tenant, &me, again).await;
    }
    match state
        .app
        .change_password(
            &me,
            visit.origin.clone(),
            &form.current_password,
            &form.new_password,
            sign_out_others,
        )
        .await
    {
        Ok(()) => visit.finish(back(&tenant, "password_changed")),
        Err(e) => {
            let again = Again {
                sign_out_others,
                ..Again::default()
            };
            again_with(
                &state,
                &visit,
                &tenant,
                &me,
                e,
                &[
                    ("current_password", "cp-current"),
                    ("new_password", "cp-new"),
                    ("password", "cp-new"),
                ],
                again,
            )
            .await
        }
    }
}

pub(crate) async fn end_session(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<SessionForm>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let Ok(id) = form.session.parse::<SessionId>() else {
        return again_with(
            &state,
            &visit,
            &tenant,
            &me,
            Error::NotFound("session"),
            &[],
            Again::default(),
        )
        .await;
    };
    match state
        .app
        .end_my_session(&me, visit.origin.clone(), id)
        .await
    {
        Ok(()) if id == me.session.id => visit.finish(set_cookie(
            see_other(&with_query(
                &href(&tenant, "login"),
                &[("notice", "signed_out")],
            )),
            &state.cookies.clear_session(),
        )),
        Ok(()) if form.back == "security" => visit.finish(see_other(&with_query(
            &href(&tenant, "account/security"),
            &[("notice", "session_ended")],
        ))),
        Ok(()) => visit.finish(back(&tenant, "session_ended")),
        Err(e) => again_with(&state, &visit, &tenant, &me, e, &[], Again::default()).await,
    }
}

pub(crate) async fn end_others(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, .. }: Posted<Nothing>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    match state
        .app
        .end_my_sessions(&me, visit.origin.clone(), true)
        .await
    {
        Ok(_) => visit.finish(back(&tenant, "sessions_ended")),
        Err(e) => again_with(&state, &visit, &tenant, &me, e, &[], Again::default()).await,
    }
}

pub(crate) async fn end_all(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, .. }: Posted<Nothing>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    match state
        .app
        .end_my_sessions(&me, visit.origin.clone(), false)
        .await
    {
        Ok(_) => visit.finish(set_cookie(
            see_other(&with_query(
                &href(&tenant, "login"),
                &[("notice", "signed_out_everywhere")],
            )),
            &state.cookies.clear_session(),
        )),
        Err(e) => again_with(&state, &visit, &tenant, &me, e, &[], Again::default()).await,
    }
}

pub(crate) async fn add_identifier(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<IdentifierForm>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let identifier = form.identifier.trim();
    match state
        .app
        .add_identifier(&me, visit.origin.clone(), identifier)
        .await
    {
        Ok(_masked) => visit.finish(see_other(&format!(
            "{}#verify-new",
            with_query(
                &href(&tenant, "account"),
                &[("verify", identifier), ("notice", "identifier_code_sent")],
            )
        ))),
        Err(e) => {
            let again = Again {
                add_value: identifier.to_owned(),
                ..Again::default()
            };
            again_with(
                &state,
                &visit,
                &tenant,
                &me,
                e,
                &[
                    ("identifier", "add-identifier"),
                    ("email", "add-identifier"),
                    ("phone", "add-identifier"),
                ],
                again,
            )
            .await
        }
    }
}

pub(crate) async fn verify_identifier(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<VerifyForm>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    let pending = Again {
        pending: Some(form.identifier.trim().to_owned()),
        ..Again::default()
    };
    if form.code.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.field(
            "verify-new-code",
            "Enter the code from the message we sent.",
        );
        let again = Again {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            errors,
            ..pending
        };
        return render(&state, &visit, &tenant, &me, again).await;
    }
    let ctx = me.context(visit.origin.clone());
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
        Ok(_) => visit.finish(back(&tenant, "identifier_verified")),
        Err(e) => {
            again_with(
                &state,
                &visit,
                &tenant,
                &me,
                e,
                &[("code", "verify-new-code")],
                pending,
            )
            .await
        }
    }
}

pub(crate) async fn remove_identifier(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    Posted { visit, form }: Posted<IdentifierForm>,
) -> Response {
    let (tenant, me) = match signed_in(&state, &visit, &slug).await {
        Ok(x) => x,
        Err(page) => return page,
    };
    match state
        .app
        .remove_identifier(&me, visit.origin.clone(), &form.identifier)
        .await
    {
        Ok(_) => visit.finish(back(&tenant, "identifier_removed")),
        Err(e) => again_with(&state, &visit, &tenant, &me, e, &[], Again::default()).await,
    }
}

#[cfg(test)]
pub(crate) fn samples(
    t: &Tenant,
    v: &Visit,
    me: &SignedIn,
    sessions: Vec<SessionInfo>,
    history: &[AuditEvent],
) -> Vec<(&'static str, String)> {
    use askama::Template;
    let mut errors = FormErrors::default();
    errors.field("cp-current", "The current password is wrong.");
    let again = Again {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        errors,
        pending: Some("+447700900123".to_owned()),
        notice: Some("Your password was changed.".to_owned()),
        ..Again::default()
    };
    vec![
        (
            "account",
            build(
                v,
                t,
                me,
                sessions.clone(),
                history,
                Factors::default(),
                Again::default(),
            )
            .render()
            .unwrap_or_default(),
        ),
        (
            "account-errors",
            build(
                v,
                t,
                me,
                sessions,
                history,
                Factors {
                    totp: true,
                    passkeys: 2,
                    backup_codes_remaining: 9,
                },
                again,
            )
            .render()
            .unwrap_or_default(),
        ),
    ]
}
