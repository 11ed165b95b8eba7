//! The one mapping from application errors to REST answers.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tessera_application::{AuthFailure, Error};
use tessera_http_kit::Problem;

/// An application error on its way to becoming a problem+json answer.
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<tessera_domain::ValidationError> for ApiError {
    fn from(e: tessera_domain::ValidationError) -> Self {
        Self(Error::invalid(e))
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn www_authenticate(failure: AuthFailure) -> HeaderValue {
    let value = match failure {
        AuthFailure::Missing => "Bearer realm=\"tessera\"".to_owned(),
        other => format!(
            "Bearer realm=\"tessera\", error=\"invalid_token\", error_description=\"{}\"",
            other.describe()
        ),
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("Bearer realm=\"tessera\""))
}

pub fn problem(error: Error) -> Problem {
    match error {
        Error::Invalid(errors) => {
            let detail = errors
                .first()
                .map_or_else(String::new, |e| e.message.clone());
            let list: Vec<_> = errors
                .iter()
                .map(|e| json!({"field": e.field, "code": e.code, "message": e.message}))
                .collect();
            Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Validation failed",
            )
            .detail(detail)
            .with("errors", json!(list))
        }
        Error::NotFound(what) => Problem::not_found(what),
        Error::Duplicate { field, value } => {
            Problem::new(StatusCode::CONFLICT, "duplicate", "Already exists")
                .detail(format!("this {field} is already in use"))
                .with("field", json!(field))
                .with("value", json!(value))
        }
        Error::IllegalTransition { from, to, allowed } => Problem::new(
            StatusCode::CONFLICT,
            "illegal_transition",
            "Illegal state transition",
        )
        .detail(format!("a user in state {from} cannot move to {to}"))
        .with("current_state", json!(from.as_str()))
        .with("requested_state", json!(to.as_str()))
        .with(
            "allowed_transitions",
            json!(allowed.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        ),
        Error::Conflict {
            code: "precondition_failed",
            message,
        } => Problem::new(
            StatusCode::PRECONDITION_FAILED,
            "precondition_failed",
            "Precondition failed",
        )
        .detail(message),
        Error::Conflict { code, message } => {
            Problem::new(StatusCode::CONFLICT, code, "Conflict").detail(message)
        }
        Error::Forbidden(message) => {
            Problem::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden").detail(message)
        }
        Error::Unauthenticated(
            failure @ (AuthFailure::BadCredentials
            | AuthFailure::InvalidRefreshToken
            | AuthFailure::RefreshTokenReused),
        ) => Problem::new(
            StatusCode::UNAUTHORIZED,
            failure.code(),
            "Authentication failed",
        )
        .detail(failure.describe()),
        Error::Unauthenticated(failure) => Problem::new(
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
            "Authentication required",
        )
        .detail(failure.describe())
        .with("reason", json!(failure.code()))
        .header(header::WWW_AUTHENTICATE, www_authenticate(failure)),
        Error::Refused { code, message } => {
            Problem::new(StatusCode::FORBIDDEN, code, "Refused").detail(message)
        }
        Error::StepUpRequired { max_age_secs } => Problem::new(
            StatusCode::UNAUTHORIZED,
            "step_up_required",
            "Recent authentication required",
        )
        .detail(format!(
            "this action needs an authentication from the last {} minutes: confirm it is you with POST /t/{{t}}/api/v1/me/step-up, then retry",
            max_age_secs / 60
        ))
        .with("max_age", max_age_secs.into())
        .header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_str(&format!(
                "Bearer error=\"insufficient_user_authentication\", error_description=\"a more recent authentication is required\", max_age={max_age_secs}"
            ))
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"insufficient_user_authentication\"")),
        ),
        Error::Throttled { retry_after_secs } => Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_attempts",
            "Too many attempts",
        )
        .detail(format!(
            "too many failed attempts; try again in {retry_after_secs} seconds"
        ))
        .header(
            header::RETRY_AFTER,
            HeaderValue::from_str(&retry_after_secs.to_string())
                .unwrap_or(HeaderValue::from_static("60")),
        ),
        Error::Busy => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "busy", "Busy")
            .detail("the server is busy; try again in a moment")
            .header(header::RETRY_AFTER, HeaderValue::from_static("1")),
        Error::Unavailable => Problem::unavailable(),
        Error::Unexpected(cause) => {
            tracing::error!(error = ?cause, "unexpected error");
            Problem::internal()
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        problem(self.0).into_response()
    }
}
