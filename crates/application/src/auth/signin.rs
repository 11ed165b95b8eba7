//! Sign-in with an identifier and a password. Unknown identifiers cost a dummy hash, so
//! that answers and timing are the same as for a wrong password; failures are throttled per
//! (account, address) and per address; every attempt is audited and forms the login history.

use super::codes::Identifier;
use super::secrets::sha256_hex;
use super::sessions::SignedIn;
use super::throttle::ThrottleKeys;
use super::tokens::TokenPair;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_domain::SessionId;
use tessera_domain::audit::{FieldChange, Outcome};
use tessera_domain::credential::Password;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::{Journal, SessionSelector};
use tessera_domain::session::Session;
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;

/// A new session: the secret for the cookie (shown once) and tokens for API clients.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub signed_in: SignedIn,
    /// The session cookie's value.
    pub session_secret: String,
    pub tokens: TokenPair,
}

/// "Firefox on Linux" from a user agent, for people reading their session list.
pub fn describe_device(user_agent: Option<&str>) -> Option<String> {
    let ua = user_agent?;
    let browser = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python", "Python"),
        ("node", "Node.js"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map_or("Unknown browser", |(_, name)| name);
    let os = [
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iPadOS"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| *name);
    Some(match os {
        Some(os) => format!("{browser} on {os}"),
        None => browser.to_owned(),
    })
}

impl App {
    /// Records a failed attempt (throttle counters and the audit trail) and returns the
    /// refusal.
    async fn failed_sign_in(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        user: Option<&User>,
        keys: &ThrottleKeys,
        reason: &str,
        refusal: Error,
    ) -> Error {
        if !matches!(refusal, Error::Throttled { .. }) {
            self.record_failure(keys).await;
        }
        let subject = match user {
            Some(u) => ("user", u.id.to_string()),
            None => ("tenant", tenant.id.to_string()),
        };
        let mut draft = self.draft(
            ctx,
            tenant,
            "auth.login.failed",
            subject,
            vec![FieldChange {
                field: "reason".into(),
                before: serde_json::Value::Null,
                after: reason.into(),
            }],
        );
        draft.outcome = Outcome::Failure;
        if let Err(e) = self.store().append(&Journal::one(draft)).await {
            tracing::warn!(error = %e, "could not record a failed sign-in in the audit trail");
        }
        refusal
    }

    /// Signs in with an identifier (verified email or phone, or the username when the tenant
    /// allows it) and a password. A session cookie presented with the request (`previous`)
    /// ends: the session id always changes at sign-in.
    pub async fn sign_in(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
        password: &str,
        previous: Option<&str>,
    ) -> Result<NewSession, Error> {
        let tenant = self.active_tenant(slug).await?;
        let bad = Self::unauthenticated;
        let password = Password::parse(password)?;
        let identifier = Identifier::parse(identifier).map_err(|_| bad())?;
        let keys = ThrottleKeys::new(tenant.id, &identifier.target(), ctx.origin.ip.as_deref());
        if let Err(e) = self.check_throttle(&keys).await {
            return Err(self
                .failed_sign_in(ctx, &tenant, None, &keys, "throttled", e)
                .await);
        }
        let allowed =
            !matches!(identifier, Identifier::Username(_)) || tenant.settings.auth.username_login;
        let user = if allowed {
            self.user_holding(&tenant, &identifier).await?
        } else {
            None
        };
        let cred = match &user {
            Some(u) => self.password_of(&tenant, u.id).await?,
            None => None,
        };
        let (Some(user), Some(cred)) = (user, cred) else {
            self.ports.hasher.verify_dummy(&password).await;
            return Err(self
                .failed_sign_in(ctx, &tenant, None, &keys, "unknown_identifier", bad())
                .await);
        };
        if !self.verify_password(&tenant, &cred, &password).await? {
            return Err(self
                .failed_sign_in(ctx, &tenant, Some(&user), &keys, "wrong_password", bad())
                .await);
        }
        // The password is right: from here on the answer may say why the account cannot
        // sign in, since only its holder gets this far.
        let verified_needed = tenant.settings.auth.require_verified_identifier;
        let refusal = match user.state {
            LifecycleState::Active => None,
            LifecycleState::Unverified => Some((
                "verification_required",
                "verify your email address or phone number first: enter the code we sent you, or ask for a new one",
            )),
            LifecycleState::PasswordResetRequired => Some((
                "password_reset_required",
                "your password must be changed: use \"Forgot password\" to set a new one",
            )),
            _ => Some(("account_disabled", "this account is disabled")),
        };
        if let Some((code, message)) = refusal {
            return Err(self
                .failed_sign_in(
                    ctx,
                    &tenant,
                    Some(&user),
                    &keys,
                    code,
                    Error::Refused {
                        code,
                        message: message.to_owned(),
                    },
                )
                .await);
        }
        if verified_needed
            && !matches!(identifier, Identifier::Username(_))
            && !identifier.is_verified_for(&user)
        {
            return Err(self
                .failed_sign_in(
                    ctx,
                    &tenant,
                    Some(&user),
                    &keys,
                    "identifier_not_verified",
                    bad(),
                )
                .await);
        }
        self.clear_failures(&keys).await;
        if let Some(previous) = previous
            && let Ok(Some(old)) = self
                .store()
                .session_by_hash(tenant.id, &sha256_hex(previous))
                .await
            && old.user_id == user.id
            && old.revoked_at.is_none()
        {
            let journal = Journal::one(self.draft(
                ctx,
                &tenant,
                "auth.session_replaced",
                ("user", user.id.to_string()),
                vec![],
            ));
            // Best effort: the old session would expire on its own.
            let _ = self
                .store()
                .end_sessions(
                    tenant.id,
                    user.id,
                    SessionSelector::One(old.id),
                    self.now(),
                    &journal,
                )
                .await;
        }
        self.open_session(ctx, tenant, user, vec!["pwd".to_owned()])
            .await
    }

    /// Creates a session (and its first refresh token and access token) for a user who just
    /// authenticated with `amr`.
    pub(crate) async fn open_session(
        &self,
        ctx: &RequestContext,
        tenant: Tenant,
        user: User,
        amr: Vec<String>,
    ) -> Result<NewSession, Error> {
        let now = self.now();
        let policy = &tenant.settings.auth.sessions;
        let secret = self.new_secret(32);
        let session = Session {
            id: SessionId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant.id,
            user_id: user.id,
            secret_hash: sha256_hex(&secret),
            created_at: now,
            last_seen_at: now,
            expires_at: now + policy.absolute(),
            idle_timeout: policy.idle(),
            ip: ctx.origin.ip.clone(),
            user_agent: ctx.origin.user_agent.clone(),
            device: describe_device(ctx.origin.user_agent.as_deref()),
            amr: amr.clone(),
            auth_time: now,
            revoked_at: None,
        };
        let refresh = self.new_refresh(&tenant, user.id, session.id);
        let mut draft = self.draft(
            ctx,
            &tenant,
            "auth.login.succeeded",
            ("user", user.id.to_string()),
            vec![FieldChange {
                field: "amr".into(),
                before: serde_json::Value::Null,
                after: amr.into(),
            }],
        );
        draft.actor = crate::context::Principal::User {
            tenant_id: tenant.id,
            user_id: user.id,
            session_id: session.id,
        }
        .actor();
        let evicted = self
            .store()
            .create_session(
                &session,
                Some((&refresh.family, &refresh.hash)),
                policy.max_per_user,
                &Journal::one(draft),
            )
            .await
            .map_err(store_err("session"))?;
        if !evicted.is_empty() {
            tracing::info!(tenant = %tenant.slug, user = %user.id, evicted = evicted.len(), "session limit reached: oldest sessions ended");
        }
        let (access_token, expires_in) = self.issue_access_token(&tenant, &user, &session).await?;
        Ok(NewSession {
            signed_in: SignedIn {
                tenant,
                user,
                session,
            },
            session_secret: secret,
            tokens: TokenPair {
                access_token,
                expires_in,
                refresh_token: refresh.secret,
            },
        })
    }
}
