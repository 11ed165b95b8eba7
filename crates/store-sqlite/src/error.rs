//! Translation of sqlx / SQLite errors into [`StoreError`]: the only place that knows SQLite's
//! error codes and messages.

use sqlx::error::ErrorKind;
use tessera_domain::ports::StoreError;

/// SQLite primary result codes that mean "the database cannot be used right now": busy,
/// locked, I/O error, disk full, cannot open the file.
const SQLITE_BUSY: i64 = 5;
const SQLITE_LOCKED: i64 = 6;
const SQLITE_IOERR: i64 = 10;
const SQLITE_FULL: i64 = 13;
const SQLITE_CANTOPEN: i64 = 14;
/// `SQLITE_CONSTRAINT_TRIGGER`: how SQLite reports a foreign key whose action is
/// `ON DELETE RESTRICT` (with the message "FOREIGN KEY constraint failed"); sqlx does not
/// classify it as a foreign-key violation.
const SQLITE_CONSTRAINT_TRIGGER: &str = "1811";

/// Wraps anything as an opaque [`StoreError::Unexpected`].
pub(crate) fn unexpected(error: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::Unexpected(error.into())
}

/// A stored value that does not parse back into its domain type.
pub(crate) fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    unexpected(format!("corrupt {what} in the SQLite database: {error}"))
}

/// The general translation: unique violation → `Duplicate` (field named after the index),
/// foreign-key violation → `NotFound` (a missing parent), busy / I/O / pool errors →
/// `Unavailable`, the rest → `Unexpected`.
pub(crate) fn store_error(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Duplicate {
                field: unique_field(db.message()),
                value: None,
            },
            ErrorKind::ForeignKeyViolation => StoreError::NotFound,
            _ if db.code().as_deref() == Some(SQLITE_CONSTRAINT_TRIGGER)
                && db.message().contains("FOREIGN KEY constraint failed") =>
            {
                StoreError::NotFound
            }
            _ => {
                let primary = db
                    .code()
                    .and_then(|c| c.parse::<i64>().ok())
                    .map(|c| c & 0xff);
                if matches!(
                    primary,
                    Some(
                        SQLITE_BUSY | SQLITE_LOCKED | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN
                    )
                ) {
                    StoreError::Unavailable(format!(
                        "the SQLite database cannot be used: {}",
                        db.message()
                    ))
                } else {
                    StoreError::Unexpected(Box::new(error))
                }
            }
        },
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(format!("the SQLite database cannot be used: {error}"))
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

/// Names the rule from SQLite's message, e.g.
/// `UNIQUE constraint failed: user_emails.tenant_id, user_emails.email_key`.
fn unique_field(message: &str) -> &'static str {
    const RULES: &[(&str, &str)] = &[
        ("tenants.slug", "slug"),
        ("users.username_key", "username"),
        ("user_emails.email_key", "email"),
        ("user_phones.phone", "phone"),
        ("org_unit_assignments.", "assignment"),
        ("api_keys.secret_hash", "secret_hash"),
        ("setup_tokens.token_hash", "token_hash"),
        ("sessions.secret_hash", "secret_hash"),
        ("refresh_tokens.token_hash", "token_hash"),
        ("refresh_tokens.generation", "generation"),
        ("signing_keys.kid", "kid"),
        ("signing_keys.tenant_id", "current_key"),
        ("passwords.", "password"),
        ("one_time_codes.", "code"),
        ("passkeys.credential_id", "credential_id"),
        ("devices.secret_hash", "secret_hash"),
        ("challenges.secret_hash", "secret_hash"),
        ("custom_roles.role_key", "key"),
        ("templates.template_key", "key"),
    ];
    RULES
        .iter()
        .find(|(needle, _)| message.contains(needle))
        .map_or("id", |(_, field)| field)
}

#[cfg(test)]
mod tests {
    use super::unique_field;

    #[test]
    fn unique_rules_are_named() {
        assert_eq!(
            unique_field("UNIQUE constraint failed: user_emails.tenant_id, user_emails.email_key"),
            "email"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: tenants.slug"),
            "slug"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: users.tenant_id, users.id"),
            "id"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: signing_keys.tenant_id, signing_keys.kid"),
            "kid"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: signing_keys.tenant_id"),
            "current_key"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: passkeys.tenant_id, passkeys.credential_id"),
            "credential_id"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: devices.tenant_id, devices.secret_hash"),
            "secret_hash"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: custom_roles.tenant_id, custom_roles.role_key"),
            "key"
        );
        assert_eq!(
            unique_field("UNIQUE constraint failed: templates.tenant_id, templates.template_key"),
            "key"
        );
    }
}
