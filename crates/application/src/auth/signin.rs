//! Sign-in with an identifier and a password. Unknown identifiers cost a dummy hash, so
//! that answers and timing are the same as for a wrong password; failures are throttled per
//! (account, address) and per address; every attempt is audited and forms the login history.

use super::assurance::Factors;
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
use tessera_domain::mfa::{ACR_MFA, ACR_ONE_FACTOR, Device, Restriction, amr, network_prefix};
use tessera_domain::ports::{Journal, SessionSelector};
use tessera_domain::session::Session;
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;

/// A new (or newly elevated) session: the secret for the cookie (shown once) and, once the
/// sign-in is complete, tokens for API clients.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub signed_in: SignedIn,
    /// The session cookie's value.
    pub session_secret: String,
    /// `None` while the session is restricted (a second factor to pass or enrol).
    pub tokens: Option<TokenPair>,
    /// A new device cookie to set (a device not recognised before).
    pub device_secret: Option<String>,
    /// The second factors the user can use at the next step (restricted sessions).
    pub factors: Factors,
}

impl NewSession {
    /// What the session must still do (`None`: signed in).
    pub fn restriction(&self) -> Option<Restriction> {
        self.signed_in.session.restriction
    }
}

/// What a browser (or app) presents with a sign-in request: its current session cookie (which
/// ends: the session id changes at every sign-in), its device cookie, and its flow cookie
/// (which binds passwordless ceremonies to the browser that started them).
#[derive(Clone, Debug, Default)]
pub struct Browser {
    pub session: Option<String>,
    pub device: Option<String>,
    pub flow: Option<String>,
}

impl Browser {
    /// The hash a challenge started by this browser is bound to (a browser without a flow
    /// cookie binds to the empty string: it can only finish what it started without one).
    pub(crate) fn binding(&self) -> String {
        sha256_hex(self.flow.as_deref().unwrap_or(""))
    }
}

/// What is known about the context of a sign-in.
#[derive(Clone, Debug, Default)]
pub(crate) struct Signals {
    pub device: Option<Device>,
    pub new_device: bool,
    pub network: Option<String>,
    pub new_network: bool,
    /// "Firefox on Linux", for the device list.
    pub description: Option<String>,
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
    pub(crate) async fn failed_sign_in(
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
    /// allows it) and a password. A session cookie presented with the request ends: the
    /// session id always changes at sign-in. The answer may be a restricted session that
    /// still has to pass (or enrol) a second factor.
    pub async fn sign_in(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
        password: &str,
        browser: &Browser,
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
        self.primary_done(ctx, tenant, user, vec![amr::PASSWORD.to_owned()], browser)
            .await
    }
}

/// How long a restricted session (second factor or enrolment pending) lives.
const RESTRICTED_LIFETIME: time::Duration = time::Duration::minutes(15);

impl App {
    /// Ends the session the browser presented, if it is this user's (best effort).
    async fn end_previous(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        user: &User,
        browser: &Browser,
    ) {
        if let Some(previous) = browser.session.as_deref()
            && let Ok(Some(old)) = self
                .store()
                .session_by_hash(tenant.id, &sha256_hex(previous))
                .await
            && old.user_id == user.id
            && old.revoked_at.is_none()
        {
            let journal = Journal::one(self.draft(
                ctx,
                tenant,
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
    }

    /// The device and network signals of a sign-in by `user`.
    pub(crate) async fn signals(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        user: &User,
        browser: &Browser,
    ) -> Result<Signals, Error> {
        let device = match browser.device.as_deref() {
            Some(secret) if !secret.is_empty() && secret.len() <= 128 => self
                .store()
                .device_by_hash(tenant.id, &sha256_hex(secret))
                .await
                .map_err(store_err("device"))?
                .filter(|d| d.user_id == user.id && d.revoked_at.is_none()),
            _ => None,
        };
        let network = ctx.origin.ip.as_deref().and_then(network_prefix);
        let new_network = match &network {
            Some(prefix) => !self
                .store()
                .network_known(tenant.id, user.id, prefix)
                .await
                .map_err(store_err("network"))?,
            None => false,
        };
        Ok(Signals {
            description: describe_device(ctx.origin.user_agent.as_deref()),
            new_device: device.is_none(),
            device,
            network,
            new_network,
        })
    }

    /// After a first factor (password, code, link, passkey): decides whether a second factor
    /// is needed and opens a full or a restricted session.
    ///
    /// A second factor is needed when MFA is mandatory for the user (an administrative role,
    /// or the tenant requires it), or when the user has one and the tenant does not use risk
    /// signals, or when it does and the device or the network is new. A device remembered
    /// after a second factor skips it. Mandatory MFA without a factor means enrolment first.
    pub(crate) async fn primary_done(
        &self,
        ctx: &RequestContext,
        tenant: Tenant,
        user: User,
        methods: Vec<String>,
        browser: &Browser,
    ) -> Result<NewSession, Error> {
        self.end_previous(ctx, &tenant, &user, browser).await;
        let signals = self.signals(ctx, &tenant, &user, browser).await?;
        let factors = self.factors(&tenant, &user).await?;
        let policy = &tenant.settings.auth.mfa;
        let now = self.now();
        let passed_two = methods.iter().any(|m| m == amr::MFA);
        let mandatory = self.mfa_mandatory(&tenant, &user).await?;
        let risky = signals.new_device || signals.new_network;
        let wanted = mandatory || (factors.any() && (!policy.risk_based || risky));
        let remembered = signals.device.as_ref().is_some_and(|d| d.remembered(now));
        let (decision, restriction, acr) = if passed_two {
            ("passed_mfa", None, ACR_MFA)
        } else if !wanted {
            ("second_factor_not_required", None, ACR_ONE_FACTOR)
        } else if remembered {
            ("remembered_device", None, ACR_MFA)
        } else if factors.any() {
            (
                "second_factor_required",
                Some(Restriction::SecondFactor),
                ACR_ONE_FACTOR,
            )
        } else if mandatory {
            (
                "enrolment_required",
                Some(Restriction::Enrolment),
                ACR_ONE_FACTOR,
            )
        } else {
            ("second_factor_not_required", None, ACR_ONE_FACTOR)
        };
        let signal_changes = vec![
            change("new_device", signals.new_device.into()),
            change("new_network", signals.new_network.into()),
            change("decision", decision.into()),
        ];
        self.open_session(
            ctx,
            tenant,
            user,
            SessionStart {
                amr: methods,
                acr: acr.to_owned(),
                restriction,
                changes: signal_changes,
                remember_device: false,
            },
            signals,
            factors,
        )
        .await
    }

    /// Creates a session for a user who just authenticated. A full session gets its first
    /// refresh token and an access token, and its device and network are recorded; a
    /// restricted one gets neither and lives [`RESTRICTED_LIFETIME`] at most.
    pub(crate) async fn open_session(
        &self,
        ctx: &RequestContext,
        tenant: Tenant,
        user: User,
        start: SessionStart,
        signals: Signals,
        factors: Factors,
    ) -> Result<NewSession, Error> {
        let now = self.now();
        let policy = &tenant.settings.auth.sessions;
        let secret = self.new_secret(32);
        let (expires_at, idle) = match start.restriction {
            None => (now + policy.absolute(), policy.idle()),
            Some(_) => (
                now + RESTRICTED_LIFETIME.min(policy.absolute()),
                RESTRICTED_LIFETIME.min(policy.idle()),
            ),
        };
        let session = Session {
            id: SessionId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant.id,
            user_id: user.id,
            secret_hash: sha256_hex(&secret),
            created_at: now,
            last_seen_at: now,
            expires_at,
            idle_timeout: idle,
            ip: ctx.origin.ip.clone(),
            user_agent: ctx.origin.user_agent.clone(),
            device: describe_device(ctx.origin.user_agent.as_deref()),
            amr: start.amr.clone(),
            auth_time: now,
            acr: start.acr.clone(),
            restriction: start.restriction,
            revoked_at: None,
        };
        let refresh = start
            .restriction
            .is_none()
            .then(|| self.new_refresh(&tenant, user.id, session.id));
        let action = match start.restriction {
            None => "auth.login.succeeded",
            Some(Restriction::SecondFactor) => "auth.login.second_factor_required",
            Some(Restriction::Enrolment) => "auth.login.enrolment_required",
        };
        let mut changes = vec![
            change("amr", start.amr.clone().into()),
            change("acr", start.acr.clone().into()),
        ];
        changes.extend(start.changes);
        let mut draft = self.draft(ctx, &tenant, action, ("user", user.id.to_string()), changes);
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
                refresh.as_ref().map(|r| (&r.family, r.hash.as_str())),
                // A sign-in that has not passed its second factor ends nobody's session: a
                // password alone must not push the user's real sessions out.
                if start.restriction.is_some() {
                    u32::MAX
                } else {
                    policy.max_per_user
                },
                &Journal::one(draft),
            )
            .await
            .map_err(store_err("session"))?;
        if !evicted.is_empty() {
            tracing::info!(tenant = %tenant.slug, user = %user.id, evicted = evicted.len(), "session limit reached: oldest sessions ended");
        }
        let (tokens, device_secret) = match refresh {
            Some(refresh) => {
                let device_secret = self
                    .after_full_sign_in(&tenant, &user, &signals, start.remember_device)
                    .await?;
                let (access_token, expires_in) =
                    self.issue_access_token(&tenant, &user, &session).await?;
                (
                    Some(TokenPair {
                        access_token,
                        expires_in,
                        refresh_token: refresh.secret,
                    }),
                    device_secret,
                )
            }
            None => (None, None),
        };
        Ok(NewSession {
            signed_in: SignedIn {
                tenant,
                user,
                session,
            },
            session_secret: secret,
            tokens,
            device_secret,
            factors,
        })
    }
}

/// How a session starts.
pub(crate) struct SessionStart {
    pub amr: Vec<String>,
    pub acr: String,
    pub restriction: Option<Restriction>,
    /// More details for the audit record (signals, decision).
    pub changes: Vec<FieldChange>,
    pub remember_device: bool,
}

pub(crate) fn change(field: &str, after: serde_json::Value) -> FieldChange {
    FieldChange {
        field: field.to_owned(),
        before: serde_json::Value::Null,
        after,
    }
}
