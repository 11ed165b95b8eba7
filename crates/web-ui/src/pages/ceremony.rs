//! What the passkey pages share: the JSON answer of an options endpoint (read by
//! `/assets/webauthn.js`) and the fields its form posts back.

use crate::errors::{Failure, explain};
use crate::request::Visit;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tessera_application::{Error, PasskeyCeremony};
use tessera_domain::{ChallengeId, ValidationError};

/// The hidden fields the script fills before submitting a passkey form.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct CeremonyFields {
    pub challenge_id: String,
    /// The credential as JSON (binary fields base64url).
    pub credential: String,
}

impl CeremonyFields {
    /// Whether the form carries a passkey's answer.
    pub(crate) fn present(&self) -> bool {
        !self.credential.trim().is_empty()
    }

    /// The challenge and the credential, or why they cannot be read.
    pub(crate) fn parse(&self) -> Result<(ChallengeId, serde_json::Value), Error> {
        let unreadable = || {
            Error::invalid(ValidationError::new(
                "credential",
                "invalid_credential",
                "the passkey's answer could not be read; try again",
            ))
        };
        let id = self
            .challenge_id
            .trim()
            .parse::<ChallengeId>()
            .map_err(|_| unreadable())?;
        if self.credential.len() > 64 * 1024 {
            return Err(unreadable());
        }
        let value: serde_json::Value =
            serde_json::from_str(&self.credential).map_err(|_| unreadable())?;
        if !value.is_object() {
            return Err(unreadable());
        }
        Ok((id, value))
    }
}

/// `{"challenge_id", "options"}`, or `{"error"}` with the status of the failure, or
/// `{"redirect"}` when the person must first confirm it is them (`step_up`: the step-up page
/// that comes back here) or sign in again (`login`).
pub(crate) fn options_json(
    visit: &Visit,
    result: Result<PasskeyCeremony, Error>,
    step_up: &str,
    login: &str,
) -> Response {
    let response = match result {
        Ok(c) => Json(json!({
            "challenge_id": c.challenge_id.to_string(),
            "options": c.options,
        }))
        .into_response(),
        Err(Error::StepUpRequired { .. }) => {
            (StatusCode::FORBIDDEN, Json(json!({ "redirect": step_up }))).into_response()
        }
        Err(Error::Unauthenticated(_)) => {
            (StatusCode::UNAUTHORIZED, Json(json!({ "redirect": login }))).into_response()
        }
        Err(e) => {
            let (status, message) = match explain(e, &[]) {
                Failure::Form { status, errors, .. } => (
                    status,
                    errors
                        .items
                        .iter()
                        .map(|e| e.message.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                Failure::Page {
                    status, message, ..
                } => (status, message),
            };
            (status, Json(json!({ "error": message }))).into_response()
        }
    };
    visit.finish(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credential_must_be_a_json_object_with_its_challenge() {
        let ok = CeremonyFields {
            challenge_id: "00000000-0000-0000-0000-000000000001".to_owned(),
            credential: r#"{"id":"x"}"#.to_owned(),
        };
        assert!(ok.present());
        assert!(ok.parse().is_ok());
        for (challenge, credential) in [
            ("not-a-uuid", r#"{"id":"x"}"#),
            ("00000000-0000-0000-0000-000000000001", "[1]"),
            ("00000000-0000-0000-0000-000000000001", "{"),
        ] {
            let f = CeremonyFields {
                challenge_id: challenge.to_owned(),
                credential: credential.to_owned(),
            };
            assert!(f.parse().is_err(), "{challenge} {credential}");
        }
        assert!(!CeremonyFields::default().present());
    }
}
