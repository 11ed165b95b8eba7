//! Translation of sqlx / PostgreSQL errors into [`StoreError`]: the only place that knows
//! PostgreSQL's SQLSTATEs and this schema's constraint names.

use sqlx::error::ErrorKind;
use tessera_domain::ports::StoreError;

/// Wraps anything as an opaque [`StoreError::Unexpected`].
pub(crate) fn unexpected(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::Unexpected(error.into())
}

/// A stored value that does not parse back into its domain type.
pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    unexpected(format!(
        "corrupt {what} in the PostgreSQL database: {error}"
    ))
}

/// Whether a SQLSTATE means the server cannot serve us right now: connection exceptions
/// (class 08), shutting down / starting up (57P01-57P03), too many connections (53300).
pub(crate) fn is_unavailable_state(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300")
}

/// The general translation: unique violation → `Duplicate` (field named after the
/// constraint), foreign-key violation → `NotFound` (a missing parent), connection / pool /
/// I/O errors → `Unavailable`, the rest → `Unexpected`.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Duplicate {
                field: unique_field(db.constraint().unwrap_or_default()),
                value: None,
            },
            ErrorKind::ForeignKeyViolation => StoreError::NotFound,
            _ if db.code().is_some_and(|c| is_unavailable_state(&c)) => {
                StoreError::Unavailable(format!("PostgreSQL cannot serve the request: {db}"))
            }
            _ => StoreError::Unexpected(Box::new(error)),
        },
        // A broken conversation with the server (a connection dropped during the TLS
        // negotiation answers "unexpected response from SSLRequest") is a transport failure.
        sqlx::Error::Io(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(format!("PostgreSQL cannot be reached: {error}"))
        }
        _ => StoreError::Unexpected(Box::new(error)),
    }
}

/// Like [`store_error`], but a foreign-key violation means the row is still referenced
/// (`InUse`): for deletes.
pub(crate) fn delete_error(error: sqlx::Error) -> StoreError {
    match store_error(error) {
        StoreError::NotFound => StoreError::InUse,
        other => other,
    }
}

/// Like [`store_error`], and a duplicate of `field` carries the offending `value`.
pub(crate) fn duplicate_of(field: &'static str, value: &str) -> impl Fn(sqlx::Error) -> StoreError {
    let value = value.to_owned();
    move |error| match store_error(error) {
        StoreError::Duplicate { field: f, .. } if f == field => StoreError::Duplicate {
            field,
            value: Some(value.clone()),
        },
        other => other,
    }
}

/// Names the rule from the constraint (or unique index) name of the migration.
fn unique_field(constraint: &str) -> &'static str {
    match constraint {
        "tenants_slug_unique" => "slug",
        "users_username_unique" => "username",
        "user_emails_email_unique" => "email",
        "user_phones_phone_unique" => "phone",
        "org_unit_assignments_pkey" => "assignment",
        "api_keys_secret_hash_unique" => "secret_hash",
        "setup_tokens_hash_unique" => "token_hash",
        "organizations_pkey" => "organization",
        "passwords_pkey" => "password",
        "sessions_secret_hash_unique" => "secret_hash",
        "refresh_tokens_pkey" => "token_hash",
        "signing_keys_pkey" => "kid",
        "passkeys_credential_id_unique" => "credential_id",
        "devices_secret_hash_unique" | "challenges_secret_hash_unique" => "secret_hash",
        "custom_roles_pkey" | "templates_pkey" => "key",
        _ => "id",
    }
}
