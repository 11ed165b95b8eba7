//! Who a request is and where a sign-in goes on: the signed-in user of a page (or the way to
//! sign in, pass the second factor or enrol one first), the half signed-in user of the second
//! step and of the forced enrolment, the cookies of a new session, and step-up redirects.

use super::{failure_page, href, see_other, set_cookie, tenant, with_query};
use crate::request::Visit;
use crate::return_to::safe_return_to;
use crate::state::WebState;
use axum::response::Response;
use tessera_application::{Error, NewSession, SignedIn};
use tessera_domain::mfa::Restriction;
use tessera_domain::tenant::Tenant;

/// Where to go once signed in: `raw` when it is a path on this server, else the account page.
pub(crate) fn destination(tenant: &Tenant, raw: &str) -> String {
    safe_return_to(raw).map_or_else(|| href(tenant, "account"), str::to_owned)
}

/// The page that finishes a restricted sign-in, keeping where to go afterwards.
pub(crate) fn next_step(tenant: &Tenant, restriction: Restriction, return_to: &str) -> String {
    let page = match restriction {
        Restriction::SecondFactor => "login/mfa",
        Restriction::Enrolment => "login/enrol",
    };
    with_query(
        &href(tenant, page),
        &[("return_to", safe_return_to(return_to).unwrap_or_default())],
    )
}

/// The answer to a sign-in that opened a session (full or restricted): its cookie (and the
/// device cookie of a browser not seen before), then the second step, the enrolment or the
/// destination.
pub(crate) fn started(
    state: &WebState,
    visit: &Visit,
    tenant: &Tenant,
    new: &NewSession,
    return_to: &str,
) -> Response {
    let to = match new.restriction() {
        Some(r) => next_step(tenant, r, return_to),
        None => destination(tenant, return_to),
    };
    let mut response = set_cookie(
        see_other(&to),
        &state.cookies.set_session(&new.session_secret),
    );
    if let Some(device) = &new.device_secret {
        response = set_cookie(response, &state.cookies.set_device(device));
    }
    visit.finish(response)
}

/// `/t/{t}/step-up?return_to=…`: confirm it is you, then come back to `back`.
pub(crate) fn step_up_href(tenant: &Tenant, back: &str) -> String {
    with_query(&href(tenant, "step-up"), &[("return_to", back)])
}

/// The signed-in user of a page at `here` (a path of this server); otherwise the redirect to
/// the sign-in page (no session), to the second step or the enrolment (a sign-in not
/// finished), or the page explaining the failure.
pub(crate) async fn signed_in(
    state: &WebState,
    visit: &Visit,
    slug: &str,
    here: &str,
) -> Result<(Tenant, SignedIn), Response> {
    let tenant = tenant(state, visit, slug).await?;
    let here = safe_return_to(here).unwrap_or_default().to_owned();
    let to_login = |tenant: &Tenant| {
        visit.finish(see_other(&with_query(
            &href(tenant, "login"),
            &[("return_to", &here)],
        )))
    };
    let Some(secret) = visit.session.as_deref() else {
        return Err(to_login(&tenant));
    };
    match state
        .app
        .authenticate_session(tenant.slug.as_str(), secret)
        .await
    {
        Ok(me) => Ok((tenant, me)),
        Err(Error::Unauthenticated(_)) => Err(to_login(&tenant)),
        Err(Error::Refused {
            code: "mfa_required",
            ..
        }) => Err(visit.finish(see_other(&next_step(
            &tenant,
            Restriction::SecondFactor,
            &here,
        )))),
        Err(Error::Refused {
            code: "mfa_enrolment_required",
            ..
        }) => Err(visit.finish(see_other(&next_step(
            &tenant,
            Restriction::Enrolment,
            &here,
        )))),
        Err(e) => Err(failure_page(visit, Some(&tenant), e)),
    }
}

/// The half signed-in user of the second step or the enrolment (a full session is accepted
/// too: the caller sends it on). Without a live session: back to the sign-in page.
pub(crate) async fn pending(
    state: &WebState,
    visit: &Visit,
    slug: &str,
    return_to: &str,
) -> Result<(Tenant, SignedIn), Response> {
    let tenant = tenant(state, visit, slug).await?;
    let to_login = |tenant: &Tenant| {
        visit.finish(see_other(&with_query(
            &href(tenant, "login"),
            &[
                ("return_to", safe_return_to(return_to).unwrap_or_default()),
                ("notice", "sign_in_expired"),
            ],
        )))
    };
    let Some(secret) = visit.session.as_deref() else {
        return Err(to_login(&tenant));
    };
    match state
        .app
        .authenticate_pending_session(tenant.slug.as_str(), secret)
        .await
    {
        Ok(me) => Ok((tenant, me)),
        Err(Error::Unauthenticated(_)) => Err(to_login(&tenant)),
        Err(e) => Err(failure_page(visit, Some(&tenant), e)),
    }
}

/// Sends a half signed-in user to the step their session is at, when it is not `expected`
/// (`None` when it is).
pub(crate) fn elsewhere(
    visit: &Visit,
    tenant: &Tenant,
    me: &SignedIn,
    expected: Restriction,
    return_to: &str,
) -> Option<Response> {
    match me.session.restriction {
        Some(r) if r == expected => None,
        Some(r) => Some(visit.finish(see_other(&next_step(tenant, r, return_to)))),
        None => Some(visit.finish(see_other(&destination(tenant, return_to)))),
    }
}
