//! Import of users from another system, with their existing password hashes (bcrypt, or
//! Argon2id). A bcrypt hash is verified at the user's first sign-in and replaced by
//! Argon2id then. Items that cannot be imported are skipped with the reason; the rest are
//! written together.

use super::codes::Identifier;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use crate::users::NewUser;
use std::collections::HashSet;
use tessera_domain::ValidationError;
use tessera_domain::api_key::Scope;
use tessera_domain::credential::{HashScheme, PasswordCredential};
use tessera_domain::ports::Journal;
use tessera_domain::user::{User, UserKind};

/// One user to import: `index` is the caller's numbering (line or array position), used in
/// the report.
#[derive(Clone, Debug)]
pub struct ImportItem {
    pub index: usize,
    pub user: NewUser,
    /// `$2a$`/`$2b$`/`$2y$` bcrypt or `$argon2id$` PHC string.
    pub password_hash: Option<String>,
}

/// An item that was not imported, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    pub index: usize,
    pub reason: String,
}

#[derive(Clone, Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    pub with_password: usize,
    pub skipped: Vec<Skipped>,
}

/// The most users one import call takes.
pub const MAX_IMPORT_BATCH: usize = 1000;

fn identifiers_of(user: &User) -> Vec<Identifier> {
    let mut ids: Vec<Identifier> = user
        .emails
        .iter()
        .map(|e| Identifier::Email(e.address.clone()))
        .collect();
    ids.extend(
        user.phones
            .iter()
            .map(|p| Identifier::Phone(p.number.clone())),
    );
    ids.extend(
        user.username
            .iter()
            .map(|u| Identifier::Username(u.clone())),
    );
    ids
}

fn describe(e: &Error) -> String {
    match e {
        Error::Invalid(errors) => errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

impl App {
    pub async fn import_users(
        &self,
        ctx: &RequestContext,
        slug: &str,
        items: Vec<ImportItem>,
    ) -> Result<ImportReport, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "user.imported")
            .await?;
        if items.len() > MAX_IMPORT_BATCH {
            return Err(Error::invalid(ValidationError::new(
                "users",
                "invalid_batch_size",
                format!("an import call takes at most {MAX_IMPORT_BATCH} users"),
            )));
        }
        let mut report = ImportReport::default();
        let mut users = Vec::new();
        let mut passwords = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        'items: for item in items {
            let mut skip = |reason: String| {
                report.skipped.push(Skipped {
                    index: item.index,
                    reason,
                });
            };
            if let Some(hash) = &item.password_hash
                && HashScheme::of(hash) == HashScheme::Unknown
            {
                skip("password_hash: unsupported scheme (bcrypt $2a$/$2b$/$2y$ or $argon2id$ expected)".to_owned());
                continue;
            }
            let user = match self.new_user_record(&tenant, UserKind::User, item.user, None) {
                Ok(u) => u,
                Err(e) => {
                    skip(describe(&e));
                    continue;
                }
            };
            for id in identifiers_of(&user) {
                if !seen.insert(id.target()) {
                    skip(format!("{} appears earlier in this import", id.target()));
                    continue 'items;
                }
                if self.user_holding(&tenant, &id).await?.is_some() {
                    skip(format!("{} already belongs to a user", id.target()));
                    continue 'items;
                }
            }
            if let Some(hash) = item.password_hash {
                passwords.push(PasswordCredential {
                    tenant_id: tenant.id,
                    user_id: user.id,
                    hash,
                    history: vec![],
                    changed_at: user.created_at,
                });
            }
            users.push(user);
        }
        let mut journal = Journal::default();
        for user in &users {
            journal.events.extend(
                self.journal(
                    ctx,
                    &tenant,
                    "user.imported",
                    ("user", user.id.to_string()),
                    None,
                    Some(user),
                )
                .events,
            );
        }
        if !users.is_empty() {
            self.store()
                .import_users(&users, &passwords, &journal)
                .await
                .map_err(store_err("user"))?;
        }
        report.imported = users.len();
        report.with_password = passwords.len();
        Ok(report)
    }
}
