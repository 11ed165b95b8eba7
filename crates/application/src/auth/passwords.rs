//! Passwords: policy and history checks, hashing on the bounded pool, verification with the
//! transparent upgrade of imported bcrypt hashes, change by the user, reset by an admin.

use super::sessions::SignedIn;
use super::throttle::ThrottleKeys;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{AuthFailure, Error, store_err};
use tessera_domain::UserId;
use tessera_domain::ValidationError;
use tessera_domain::api_key::Scope;
use tessera_domain::audit::Origin;
use tessera_domain::credential::{Password, PasswordCredential};
use tessera_domain::ports::{HashError, Journal, MessageKind, SessionSelector, StoreError};
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;

fn hash_err(e: HashError) -> Error {
    match e {
        HashError::Busy => Error::Busy,
        other => Error::Unexpected(anyhow::anyhow!(other)),
    }
}

/// Values a password may not equal.
fn personal(user: &User) -> Vec<String> {
    let mut v: Vec<String> = user.emails.iter().map(|e| e.address.to_string()).collect();
    if let Some(u) = &user.username {
        v.push(u.as_str().to_owned());
    }
    for e in &user.emails {
        if let Some((local, _)) = e.address.to_string().split_once('@') {
            v.push(local.to_owned());
        }
    }
    v
}

impl App {
    pub(crate) async fn hash_password(&self, password: &Password) -> Result<String, Error> {
        self.ports.hasher.hash(password).await.map_err(hash_err)
    }

    /// Checks a new password against the tenant's policy and the user's history.
    pub(crate) async fn check_new_password(
        &self,
        tenant: &Tenant,
        user: &User,
        password: &Password,
        current: Option<&PasswordCredential>,
    ) -> Result<(), Error> {
        let policy = &tenant.settings.auth.password;
        let personal = personal(user);
        let refs: Vec<&str> = personal.iter().map(String::as_str).collect();
        policy.check(password, &refs)?;
        if let Some(cred) = current
            && policy.history > 0
        {
            let recent = std::iter::once(&cred.hash)
                .chain(cred.history.iter())
                .take(policy.history as usize);
            for hash in recent {
                if self
                    .ports
                    .hasher
                    .verify(password, hash)
                    .await
                    .map_err(hash_err)?
                {
                    return Err(Error::invalid(ValidationError::new(
                        "password",
                        "password_reused",
                        format!(
                            "the new password must differ from your last {} passwords",
                            policy.history
                        ),
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether `password` is the user's; an imported bcrypt hash (or Argon2id with older
    /// parameters) that verifies is replaced by a fresh Argon2id hash.
    pub(crate) async fn verify_password(
        &self,
        tenant: &Tenant,
        cred: &PasswordCredential,
        password: &Password,
    ) -> Result<bool, Error> {
        let ok = self
            .ports
            .hasher
            .verify(password, &cred.hash)
            .await
            .map_err(hash_err)?;
        if ok && self.ports.hasher.needs_rehash(&cred.hash) {
            let upgraded = PasswordCredential {
                hash: self.hash_password(password).await?,
                ..cred.clone()
            };
            let journal = Journal::one(self.draft(
                &RequestContext::system(),
                tenant,
                "credential.password_rehashed",
                ("user", cred.user_id.to_string()),
                vec![],
            ));
            match self
                .store()
                .set_password(&upgraded, Some(&cred.hash), None, self.now(), &journal)
                .await
            {
                // A concurrent change or upgrade won: theirs stands.
                Ok(()) | Err(StoreError::Conflict) => {}
                Err(e) => tracing::warn!(error = %e, "could not upgrade a password hash"),
            }
        }
        Ok(ok)
    }

    pub(crate) async fn password_of(
        &self,
        tenant: &Tenant,
        user: UserId,
    ) -> Result<Option<PasswordCredential>, Error> {
        self.store()
            .password(tenant.id, user)
            .await
            .map_err(store_err("password"))
    }

    /// Stores a new password (checked by the caller) and ends the selected sessions.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn store_new_password(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        user: &User,
        current: Option<&PasswordCredential>,
        new_hash: String,
        end_sessions: Option<SessionSelector>,
        action: &str,
    ) -> Result<(), Error> {
        let now = self.now();
        let keep = tenant.settings.auth.password.history;
        let cred = match current {
            Some(c) => c.changed(new_hash, keep, now),
            None => PasswordCredential {
                tenant_id: tenant.id,
                user_id: user.id,
                hash: new_hash,
                history: vec![],
                changed_at: now,
            },
        };
        let journal =
            Journal::one(self.draft(ctx, tenant, action, ("user", user.id.to_string()), vec![]));
        self.store()
            .set_password(
                &cred,
                current.map(|c| c.hash.as_str()),
                end_sessions,
                now,
                &journal,
            )
            .await
            .map_err(|e| match e {
                StoreError::Conflict => Error::Conflict {
                    code: "concurrent_update",
                    message: "the password was changed by another request; try again".to_owned(),
                },
                other => Error::from_store(other, "user"),
            })
    }

    /// The signed-in user changes their password; the current one is required. With
    /// `sign_out_others`, every other session ends.
    pub async fn change_password(
        &self,
        me: &SignedIn,
        origin: Origin,
        current: &str,
        new: &str,
        sign_out_others: bool,
    ) -> Result<(), Error> {
        self.require_recent_auth(me)?;
        let tenant = &me.tenant;
        let keys = ThrottleKeys::new(
            tenant.id,
            &format!("user:{}", me.user.id),
            origin.ip.as_deref(),
        );
        self.check_throttle(&keys).await?;
        let current = Password::parse(current).map_err(|e| e.at("current_password"))?;
        let new = Password::parse(new).map_err(|e| e.at("new_password"))?;
        let cred = self.password_of(tenant, me.user.id).await?;
        let Some(cred) = cred else {
            return Err(Error::Refused {
                code: "no_password",
                message: "this account has no password yet; use account recovery to set one"
                    .to_owned(),
            });
        };
        if !self.verify_password(tenant, &cred, &current).await? {
            self.record_failure(&keys).await;
            return Err(Error::invalid(ValidationError::new(
                "current_password",
                "wrong_password",
                "the current password is wrong",
            )));
        }
        self.clear_failures(&keys).await;
        // Re-read: a bcrypt hash may just have been upgraded.
        let cred = self.password_of(tenant, me.user.id).await?.unwrap_or(cred);
        self.check_new_password(tenant, &me.user, &new, Some(&cred))
            .await
            .map_err(|e| match e {
                Error::Invalid(v) => Error::Invalid(
                    v.into_iter()
                        .map(|e| {
                            if e.field == "password" {
                                e.at("new_password")
                            } else {
                                e
                            }
                        })
                        .collect(),
                ),
                other => other,
            })?;
        let hash = self.hash_password(&new).await?;
        let ctx = me.context(origin);
        self.store_new_password(
            &ctx,
            tenant,
            &me.user,
            Some(&cred),
            hash,
            sign_out_others.then_some(SessionSelector::AllExcept(me.session.id)),
            "credential.password_changed",
        )
        .await?;
        self.notify_user(tenant, &me.user, MessageKind::PasswordChanged)
            .await;
        Ok(())
    }

    /// Admin: sets a user's password (policy-checked, including the common list); every
    /// session of the user ends unless `keep_sessions`.
    pub async fn set_user_password(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
        new: &str,
        keep_sessions: bool,
    ) -> Result<(), Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "credential.password_reset")
            .await?;
        let user = self.load_user(&tenant, user).await?;
        let new = Password::parse(new)?;
        let cred = self.password_of(&tenant, user.id).await?;
        self.check_new_password(&tenant, &user, &new, cred.as_ref())
            .await?;
        let hash = self.hash_password(&new).await?;
        self.store_new_password(
            ctx,
            &tenant,
            &user,
            cred.as_ref(),
            hash,
            (!keep_sessions).then_some(SessionSelector::All),
            "credential.password_reset",
        )
        .await
    }

    /// Whether the tenant's sign-in rejects this user (for messages after a right password).
    pub(crate) fn unauthenticated() -> Error {
        Error::Unauthenticated(AuthFailure::BadCredentials)
    }
}
