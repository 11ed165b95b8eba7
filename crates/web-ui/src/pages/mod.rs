//! The page handlers, one file per journey, and what they share.

pub(crate) mod account;
pub(crate) mod auth;
pub(crate) mod ceremony;
pub(crate) mod enrol;
pub(crate) mod login;
pub(crate) mod passwordless;
pub(crate) mod recover;
pub(crate) mod register;
pub(crate) mod second_step;
pub(crate) mod security;
pub(crate) mod step_up;
pub(crate) mod verify;

#[cfg(test)]
mod checks;

use crate::errors::{Failure, explain};
use crate::form::FormErrors;
use crate::request::Visit;
use crate::state::WebState;
use crate::view::{self, ErrorPage, Layout};
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tessera_application::Error;
use tessera_domain::tenant::Tenant;

/// The tenant of the URL, or the page explaining why there is none.
pub(crate) async fn tenant(
    state: &WebState,
    visit: &Visit,
    slug: &str,
) -> Result<Tenant, Response> {
    state
        .app
        .tenant_for_pages(slug)
        .await
        .map_err(|e| failure_page(visit, None, e))
}

/// A page that explains a failure, in the tenant's frame when it is known.
pub(crate) fn error_page(
    visit: &Visit,
    tenant: Option<&Tenant>,
    status: StatusCode,
    title: &str,
    message: &str,
) -> Response {
    let page = match tenant {
        Some(t) => ErrorPage {
            page: Layout::new(t, visit, title),
            message: message.to_owned(),
            back: format!("/t/{}/login", t.slug.as_str()),
            back_label: "Back to sign-in",
        },
        None => ErrorPage {
            page: Layout::bare(visit, title),
            message: message.to_owned(),
            back: String::new(),
            back_label: "",
        },
    };
    visit.finish(view::render(status, &page))
}

/// An error where no form is shown again.
pub(crate) fn failure_page(visit: &Visit, tenant: Option<&Tenant>, e: Error) -> Response {
    match explain(e, &[]) {
        Failure::Page {
            status,
            title,
            message,
        } => error_page(visit, tenant, status, title, &message),
        Failure::Form {
            status,
            errors,
            retry_after,
        } => {
            let message: Vec<&str> = errors.items.iter().map(|e| e.message.as_str()).collect();
            let title = if status == StatusCode::TOO_MANY_REQUESTS {
                "Too many attempts"
            } else {
                "Request refused"
            };
            view::retry_after(
                error_page(visit, tenant, status, title, &message.join(" ")),
                retry_after,
            )
        }
    }
}

/// Shows a form again with the errors of `e` (a page of its own when there is no form to
/// show again).
pub(crate) fn form_failure<T: Template>(
    visit: &Visit,
    tenant: &Tenant,
    e: Error,
    fields: &[(&str, &str)],
    form: impl FnOnce(FormErrors) -> T,
) -> Response {
    match explain(e, fields) {
        Failure::Form {
            status,
            errors,
            retry_after,
        } => visit.finish(view::retry_after(
            view::render(status, &form(errors)),
            retry_after,
        )),
        Failure::Page {
            status,
            title,
            message,
        } => error_page(visit, Some(tenant), status, title, &message),
    }
}

/// A form shown again with errors found before asking the application.
pub(crate) fn form_refused<T: Template>(visit: &Visit, page: &T) -> Response {
    visit.finish(view::render(StatusCode::UNPROCESSABLE_ENTITY, page))
}

/// `303 See Other` to `to` (Post/Redirect/Get).
pub(crate) fn see_other(to: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    match HeaderValue::from_str(to) {
        Ok(v) => {
            response.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => {
            response
                .headers_mut()
                .insert(header::LOCATION, HeaderValue::from_static("/"));
        }
    }
    response
}

/// Appends a `Set-Cookie`.
pub(crate) fn set_cookie(mut response: Response, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `path?k=v&...` with the values form-encoded (empty values are left out).
pub(crate) fn with_query(path: &str, pairs: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        query.append_pair(k, v);
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// `/t/{slug}/{rest}` of a tenant.
pub(crate) fn href(tenant: &Tenant, rest: &str) -> String {
    format!("/t/{}/{rest}", tenant.slug.as_str())
}

#[cfg(test)]
mod tests {
    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            super::with_query("/t/a/verify", &[("identifier", "a+b@x.io"), ("notice", "")]),
            "/t/a/verify?identifier=a%2Bb%40x.io"
        );
        assert_eq!(super::with_query("/p", &[]), "/p");
    }
}
