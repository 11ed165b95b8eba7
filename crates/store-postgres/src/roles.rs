//! The application role: its name (an SQL identifier, so validated), its creation and grants,
//! and the check that it cannot bypass row-level security.

use crate::error::{store_error, unexpected};
use sqlx::{Executor, PgConnection};
use std::fmt;
use tessera_domain::ports::StoreError;

/// A validated role name: `[a-z_][a-z0-9_]{0,62}`, not `pg_*` (reserved by PostgreSQL). Safe
/// to put in SQL text as is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppRole(String);

impl AppRole {
    pub(crate) fn parse(raw: &str) -> Result<Self, StoreError> {
        let mut bytes = raw.bytes();
        let first_ok = bytes
            .next()
            .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
        let rest_ok = bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !first_ok || !rest_ok || raw.len() > 63 || raw.starts_with("pg_") || raw == "public" {
            return Err(unexpected(format!(
                "invalid PostgreSQL application role `{raw}`: use 1-63 characters of a-z, 0-9 \
                 and _, not starting with a digit or pg_"
            )));
        }
        Ok(Self(raw.to_owned()))
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AppRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Makes sure the role exists (NOLOGIN, NOSUPERUSER, NOBYPASSRLS), may use every table of the
/// schema the migrations ran in (but not change or remove audit events, nor see the migration
/// bookkeeping), and that `login_user` (the user of the application URL) may `SET ROLE` to it.
pub(crate) async fn ensure_app_role(
    conn: &mut PgConnection,
    role: &AppRole,
    login_user: Option<&str>,
) -> Result<(), StoreError> {
    let existing: Option<(bool, bool)> =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = $1")
            .bind(role.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
    match existing {
        None => {
            let create = format!("CREATE ROLE {role} NOLOGIN NOSUPERUSER NOBYPASSRLS");
            // Roles are cluster-wide: a concurrent migration may have created it first.
            if let Err(error) = conn.execute(create.as_str()).await
                && !is_duplicate(&error)
            {
                return Err(store_error(error));
            }
        }
        Some((false, false)) => {}
        Some(_) => {
            let alter = format!("ALTER ROLE {role} NOSUPERUSER NOBYPASSRLS");
            conn.execute(alter.as_str()).await.map_err(store_error)?;
        }
    }

    let schema: String = sqlx::query_scalar("SELECT quote_ident(current_schema())")
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    for grant in [
        format!("GRANT USAGE ON SCHEMA {schema} TO {role}"),
        format!("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role}"),
        format!("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role}"),
        format!("REVOKE UPDATE, DELETE ON {schema}.audit_events FROM {role}"),
        format!("REVOKE ALL ON {schema}._sqlx_migrations FROM {role}"),
    ] {
        conn.execute(grant.as_str()).await.map_err(store_error)?;
    }

    if let Some(login) = login_user {
        let row: Option<(bool, bool, String)> = sqlx::query_as(
            "SELECT u.rolsuper, pg_has_role(u.oid, a.oid, 'MEMBER'), quote_ident(u.rolname) \
             FROM pg_roles u, pg_roles a WHERE u.rolname = $1 AND a.rolname = $2",
        )
        .bind(login)
        .bind(role.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
        if let Some((false, false, quoted_login)) = row {
            let grant = format!("GRANT {role} TO {quoted_login}");
            if let Err(error) = conn.execute(grant.as_str()).await
                && !is_duplicate(&error)
            {
                return Err(store_error(error));
            }
        }
    }
    Ok(())
}

/// duplicate_object (42710) or unique_violation (23505): someone else created it first.
fn is_duplicate(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|db| db.code())
        .is_some_and(|code| code == "42710" || code == "23505")
}

/// Checks, on a connection that has `SET ROLE` to the application role, that row-level
/// security applies to it.
pub(crate) async fn verify_restricted(
    conn: &mut PgConnection,
    role: &AppRole,
) -> Result<(), StoreError> {
    let (user, superuser, bypass): (String, bool, bool) = sqlx::query_as(
        "SELECT current_user::text, r.rolsuper, r.rolbypassrls \
         FROM pg_roles r WHERE r.rolname = current_user",
    )
    .fetch_one(&mut *conn)
    .await
    .map_err(store_error)?;
    if user != role.as_str() {
        return Err(unexpected(format!(
            "PostgreSQL runs the application's queries as `{user}`, not as the role `{role}`"
        )));
    }
    if superuser || bypass {
        return Err(unexpected(format!(
            "the PostgreSQL role `{user}` is a superuser or has BYPASSRLS: row-level security \
             would not isolate tenants; run `tessera migrate` (it resets the role to \
             NOSUPERUSER NOBYPASSRLS) or choose another application role"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::AppRole;

    #[test]
    fn role_names_are_identifiers() {
        for good in ["tessera_app", "_x", "a1", &"a".repeat(63)] {
            assert!(AppRole::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "1app",
            "App",
            "app-role",
            "app;drop",
            "\"app\"",
            "pg_read",
            "public",
            &"a".repeat(64),
        ] {
            assert!(AppRole::parse(bad).is_err(), "{bad}");
        }
    }
}
