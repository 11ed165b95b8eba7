//! How an application error is shown on a page: as errors of the submitted form (next to the
//! field it concerns, and in the summary) with a fitting status, or as a page of its own when
//! there is no form to show again (unknown tenant, failure of the service).

use crate::form::FormErrors;
use axum::http::StatusCode;
use tessera_application::{AuthFailure, Error};

pub(crate) enum Failure {
    /// Show the form again with these errors.
    Form {
        status: StatusCode,
        errors: FormErrors,
        /// Seconds, for `Retry-After` (throttling).
        retry_after: Option<u64>,
    },
    /// Show an error page.
    Page {
        status: StatusCode,
        title: &'static str,
        message: String,
    },
}

/// `the code is wrong` → `The code is wrong.`
pub(crate) fn sentence(message: &str) -> String {
    let message = message.trim();
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The message of a throttled request.
pub(crate) fn too_many_attempts(retry_after_secs: u64) -> String {
    let unit = if retry_after_secs == 1 {
        "second"
    } else {
        "seconds"
    };
    format!("Too many attempts. Try again in {retry_after_secs} {unit}.")
}

/// Explains `e` for a form whose application field names map to DOM ids by `fields`.
pub(crate) fn explain(e: Error, fields: &[(&str, &str)]) -> Failure {
    let id_of = |field: &str| {
        fields
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, id)| *id)
    };
    let mut errors = FormErrors::default();
    let form = |status, errors| Failure::Form {
        status,
        errors,
        retry_after: None,
    };
    match e {
        Error::Invalid(list) => {
            for v in list {
                match id_of(&v.field) {
                    Some(id) => errors.field(id, sentence(&v.message)),
                    None => errors.general(sentence(&v.message)),
                }
            }
            form(StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
        Error::Unauthenticated(AuthFailure::BadCredentials) => {
            errors.general("The identifier or the password is wrong.");
            form(StatusCode::UNAUTHORIZED, errors)
        }
        Error::Unauthenticated(other) => {
            errors.general(sentence(other.describe()));
            form(StatusCode::UNAUTHORIZED, errors)
        }
        Error::Refused {
            code: "tenant_disabled",
            message,
        } => Failure::Page {
            status: StatusCode::FORBIDDEN,
            title: "Directory disabled",
            message: sentence(&message),
        },
        Error::Refused { message, .. } | Error::Forbidden(message) => {
            errors.general(sentence(&message));
            form(StatusCode::FORBIDDEN, errors)
        }
        Error::StepUpRequired { .. } => {
            errors.general("For your security, confirm it is you first, then try again.");
            form(StatusCode::FORBIDDEN, errors)
        }
        Error::Throttled { retry_after_secs } => {
            errors.general(too_many_attempts(retry_after_secs));
            Failure::Form {
                status: StatusCode::TOO_MANY_REQUESTS,
                errors,
                retry_after: Some(retry_after_secs),
            }
        }
        Error::Busy => {
            errors.general("The service is busy. Try again in a moment.");
            form(StatusCode::SERVICE_UNAVAILABLE, errors)
        }
        Error::Unavailable => {
            errors.general("The service is temporarily unavailable. Try again in a moment.");
            form(StatusCode::SERVICE_UNAVAILABLE, errors)
        }
        Error::Conflict { message, .. } => {
            errors.general(sentence(&message));
            form(StatusCode::CONFLICT, errors)
        }
        Error::Duplicate { field, .. } => {
            let what = match field {
                "phone" => "This phone number is already in use.",
                "email" => "This email address is already in use.",
                "username" => "This username is already taken.",
                _ => "This value is already in use.",
            };
            match id_of(field).or_else(|| id_of("identifier")) {
                Some(id) => errors.field(id, what),
                None => errors.general(what),
            }
            form(StatusCode::CONFLICT, errors)
        }
        Error::NotFound("tenant") => Failure::Page {
            status: StatusCode::NOT_FOUND,
            title: "Page not found",
            message: "There is no directory at this address. Check the link you followed."
                .to_owned(),
        },
        Error::NotFound(what) => {
            errors.general(sentence(&format!("the {what} was not found")));
            form(StatusCode::NOT_FOUND, errors)
        }
        Error::IllegalTransition { .. } => {
            errors.general("This account cannot do that in its current state.");
            form(StatusCode::CONFLICT, errors)
        }
        Error::Unexpected(cause) => {
            tracing::error!(error = ?cause, "a page request failed");
            Failure::Page {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                title: "Something went wrong",
                message: "Your request could not be completed. Try again later.".to_owned(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tessera_domain::ValidationError;

    #[test]
    fn errors_land_on_their_field_or_in_the_summary() {
        let e = Error::Invalid(vec![
            ValidationError::new("password", "too_short", "at least 12 characters"),
            ValidationError::new("profile", "x", "something else!"),
        ]);
        let Failure::Form { status, errors, .. } = explain(e, &[("password", "reg-password")])
        else {
            panic!("a form failure");
        };
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(errors.get("reg-password"), Some("At least 12 characters."));
        assert_eq!(errors.items[1].target, None);
        assert_eq!(errors.items[1].message, "Something else!");
    }

    #[test]
    fn throttling_says_how_long_to_wait() {
        let Failure::Form {
            status,
            errors,
            retry_after,
        } = explain(
            Error::Throttled {
                retry_after_secs: 8,
            },
            &[],
        )
        else {
            panic!("a form failure");
        };
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(retry_after, Some(8));
        assert_eq!(
            errors.items[0].message,
            "Too many attempts. Try again in 8 seconds."
        );
        assert!(matches!(
            explain(Error::NotFound("tenant"), &[]),
            Failure::Page {
                status: StatusCode::NOT_FOUND,
                ..
            }
        ));
    }
}
