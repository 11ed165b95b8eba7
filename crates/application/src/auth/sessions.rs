//! Server-side sessions: authenticating the session cookie, listing and ending sessions (by
//! the user and by an admin), signing out.

use super::assurance::restricted;
use super::secrets::sha256_hex;
use crate::app::App;
use crate::context::{Principal, RequestContext};
use crate::error::{AuthFailure, Error, store_err};
use tessera_domain::api_key::Scope;
use tessera_domain::audit::Origin;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::{Journal, SessionSelector};
use tessera_domain::session::Session;
use tessera_domain::tenant::{Tenant, TenantState};
use tessera_domain::user::User;
use tessera_domain::{SessionId, UserId};
use time::Duration;

/// Activity is recorded at most this often per session (not on every request).
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// A signed-in user: the tenant, the user and the session the request belongs to.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub tenant: Tenant,
    pub user: User,
    pub session: Session,
}

impl SignedIn {
    /// The request context of this user's request from `origin`.
    pub fn context(&self, origin: Origin) -> RequestContext {
        RequestContext {
            principal: Principal::User {
                tenant_id: self.tenant.id,
                user_id: self.user.id,
                session_id: self.session.id,
            },
            origin,
        }
    }
}

/// A session as listed to its user or an admin.
#[derive(Clone, Debug)]
pub struct SessionInfo {
    pub session: Session,
    /// Whether it is the session of the request that lists them.
    pub current: bool,
}

impl App {
    /// A tenant that accepts its users' requests (`NotFound` when missing, refused when
    /// disabled).
    pub async fn active_tenant(&self, slug: &str) -> Result<Tenant, Error> {
        let tenant = self.tenant(slug).await?;
        if tenant.state == TenantState::Disabled {
            return Err(Error::Refused {
                code: "tenant_disabled",
                message: format!("the directory `{}` is disabled", tenant.slug),
            });
        }
        Ok(tenant)
    }

    /// The public view of a tenant for sign-in pages (display name, logo, what is enabled).
    pub async fn tenant_for_pages(&self, slug: &str) -> Result<Tenant, Error> {
        self.active_tenant(slug).await
    }

    /// The user of a session or token, who must still be active.
    pub(crate) async fn signed_in_user(
        &self,
        tenant: &Tenant,
        id: UserId,
        refuse: impl Fn() -> Error,
    ) -> Result<User, Error> {
        let user = self
            .store()
            .user(tenant.id, id)
            .await
            .map_err(store_err("user"))?
            .ok_or_else(&refuse)?;
        if user.state != LifecycleState::Active {
            return Err(refuse());
        }
        Ok(user)
    }

    /// Authenticates a session cookie's secret in the tenant of the URL (a cookie of another
    /// tenant is simply unknown here). A session that still has to pass or enrol a second
    /// factor is refused (`mfa_required`, `mfa_enrolment_required`).
    pub async fn authenticate_session(&self, slug: &str, secret: &str) -> Result<SignedIn, Error> {
        let me = self.authenticate_pending_session(slug, secret).await?;
        match me.session.restriction {
            Some(r) => Err(restricted(r)),
            None => Ok(me),
        }
    }

    /// Authenticates a session that may still have to pass or enrol a second factor (its
    /// effective restriction is in `session.restriction`). Only the second-factor and
    /// enrolment use cases accept such a session.
    pub async fn authenticate_pending_session(
        &self,
        slug: &str,
        secret: &str,
    ) -> Result<SignedIn, Error> {
        let refuse = || Error::Unauthenticated(AuthFailure::NoSession);
        let tenant = self.active_tenant(slug).await?;
        if secret.is_empty() || secret.len() > 128 {
            return Err(refuse());
        }
        let now = self.now();
        let mut session = self
            .store()
            .session_by_hash(tenant.id, &sha256_hex(secret))
            .await
            .map_err(store_err("session"))?
            .filter(|s| s.is_live(now))
            .ok_or_else(refuse)?;
        let user = self
            .signed_in_user(&tenant, session.user_id, refuse)
            .await?;
        session.restriction = self.effective_restriction(&tenant, &user, &session).await?;
        if now - session.last_seen_at >= TOUCH_EVERY {
            self.store()
                .touch_session(tenant.id, session.id, now)
                .await
                .map_err(store_err("session"))?;
            session.last_seen_at = now;
        }
        Ok(SignedIn {
            tenant,
            user,
            session,
        })
    }

    async fn end(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        user: UserId,
        which: SessionSelector,
        action: &str,
    ) -> Result<u64, Error> {
        let journal = Journal::one(self.draft(
            ctx,
            tenant,
            action,
            ("user", user.to_string()),
            vec![tessera_domain::audit::FieldChange {
                field: "sessions".into(),
                before: serde_json::Value::Null,
                after: match which {
                    SessionSelector::One(id) => id.to_string().into(),
                    SessionSelector::All => "all".into(),
                    SessionSelector::AllExcept(id) => format!("all except {id}").into(),
                },
            }],
        ));
        self.store()
            .end_sessions(tenant.id, user, which, self.now(), &journal)
            .await
            .map_err(store_err("session"))
    }

    /// Signs the user out of the session of the request.
    pub async fn sign_out(&self, me: &SignedIn, origin: Origin) -> Result<(), Error> {
        self.end(
            &me.context(origin),
            &me.tenant,
            me.user.id,
            SessionSelector::One(me.session.id),
            "auth.logout",
        )
        .await
        .map(|_| ())
    }

    pub async fn my_sessions(&self, me: &SignedIn) -> Result<Vec<SessionInfo>, Error> {
        let sessions = self
            .store()
            .list_sessions(me.tenant.id, me.user.id, self.now())
            .await
            .map_err(store_err("session"))?;
        Ok(sessions
            .into_iter()
            .filter(|s| s.is_live(self.now()))
            .map(|s| SessionInfo {
                current: s.id == me.session.id,
                session: s,
            })
            .collect())
    }

    /// Ends one of the user's own sessions (`NotFound` for a session that is not theirs).
    pub async fn end_my_session(
        &self,
        me: &SignedIn,
        origin: Origin,
        id: SessionId,
    ) -> Result<(), Error> {
        self.end(
            &me.context(origin),
            &me.tenant,
            me.user.id,
            SessionSelector::One(id),
            "session.revoked",
        )
        .await
        .map(|_| ())
    }

    /// Ends all the user's sessions, or all but the current one.
    pub async fn end_my_sessions(
        &self,
        me: &SignedIn,
        origin: Origin,
        keep_current: bool,
    ) -> Result<u64, Error> {
        let which = if keep_current {
            SessionSelector::AllExcept(me.session.id)
        } else {
            SessionSelector::All
        };
        self.end(
            &me.context(origin),
            &me.tenant,
            me.user.id,
            which,
            "session.revoked_all",
        )
        .await
    }

    /// Admin: a user's live sessions.
    pub async fn user_sessions(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
    ) -> Result<Vec<Session>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersRead, "session.listed")
            .await?;
        self.load_user(&tenant, user).await?;
        let now = self.now();
        Ok(self
            .store()
            .list_sessions(tenant.id, user, now)
            .await
            .map_err(store_err("session"))?
            .into_iter()
            .filter(|s| s.is_live(now))
            .collect())
    }

    /// Admin: ends one session (`Some(id)`) or all sessions of a user.
    pub async fn end_user_sessions(
        &self,
        ctx: &RequestContext,
        slug: &str,
        user: UserId,
        session: Option<SessionId>,
    ) -> Result<u64, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "session.revoked")
            .await?;
        self.load_user(&tenant, user).await?;
        let (which, action) = match session {
            Some(id) => (SessionSelector::One(id), "session.revoked"),
            None => (SessionSelector::All, "session.revoked_all"),
        };
        self.end(ctx, &tenant, user, which, action).await
    }
}
