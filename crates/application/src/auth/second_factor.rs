//! The second step of a sign-in (TOTP, backup code or passkey), and step-up: a further
//! authentication of a signed-in user before a sensitive action ("sudo mode").

use super::assurance::restricted;
use super::secrets::sha256_hex;
use super::sessions::SignedIn;
use super::signin::{Browser, NewSession, change};
use super::throttle::ThrottleKeys;
use super::tokens::TokenPair;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_domain::ChallengeId;
use tessera_domain::ValidationError;
use tessera_domain::audit::{Origin, Outcome};
use tessera_domain::credential::Password;
use tessera_domain::mfa::{ACR_MFA, Restriction, amr};
use tessera_domain::ports::Journal;
use tessera_domain::session::Session;

/// What a user presents to prove it is them (again).
#[derive(Clone, Debug)]
pub enum Proof {
    Password(String),
    Totp(String),
    BackupCode(String),
    Passkey {
        challenge: ChallengeId,
        response: serde_json::Value,
    },
}

impl Proof {
    fn name(&self) -> &'static str {
        match self {
            Self::Password(_) => "password",
            Self::Totp(_) => "totp",
            Self::BackupCode(_) => "backup_code",
            Self::Passkey { .. } => "passkey",
        }
    }
}

/// The result of an elevation: the session as it is now, and what the client needs.
pub(crate) struct Elevated {
    pub signed_in: SignedIn,
    pub tokens: Option<TokenPair>,
    pub device_secret: Option<String>,
    /// The session's new secret, when it was rotated.
    pub secret: Option<String>,
}

fn wrong_proof() -> Error {
    Error::invalid(ValidationError::new(
        "code",
        "invalid_code",
        "this did not confirm it is you: the code is wrong or was already used, or the passkey was refused",
    ))
}

fn with(mut methods: Vec<String>, more: &[&str]) -> Vec<String> {
    for m in more {
        if !methods.iter().any(|x| x == m) {
            methods.push((*m).to_owned());
        }
    }
    methods
}

impl App {
    /// Checks a proof for `me`'s user; `Ok(Some(amr))` with the method reference when it
    /// holds. Passkeys must answer a challenge bound to this session.
    async fn check_proof(
        &self,
        me: &SignedIn,
        ctx: &RequestContext,
        proof: &Proof,
        allow_password: bool,
    ) -> Result<Option<&'static str>, Error> {
        let use_journal = |action: &str| {
            Journal::one(self.draft(
                ctx,
                &me.tenant,
                action,
                ("user", me.user.id.to_string()),
                vec![],
            ))
        };
        Ok(match proof {
            Proof::Password(raw) if allow_password => {
                let password = Password::parse(raw)?;
                let ok = match self.password_of(&me.tenant, me.user.id).await? {
                    Some(cred) => self.verify_password(&me.tenant, &cred, &password).await?,
                    None => {
                        self.ports.hasher.verify_dummy(&password).await;
                        false
                    }
                };
                ok.then_some(amr::PASSWORD)
            }
            Proof::Password(_) => None,
            Proof::Totp(code) => self
                .check_totp(&me.tenant, &me.user, code, &use_journal("mfa.totp_used"))
                .await?
                .then_some(amr::OTP),
            Proof::BackupCode(code) => self
                .check_backup_code(
                    &me.tenant,
                    &me.user,
                    code,
                    &use_journal("mfa.backup_code_used"),
                )
                .await?
                .then_some(amr::BACKUP_CODE),
            Proof::Passkey {
                challenge,
                response,
            } => {
                let verified = self
                    .verify_passkey(
                        ctx,
                        &me.tenant,
                        *challenge,
                        &me.session.secret_hash,
                        Some(me.user.id),
                        response,
                    )
                    .await?;
                verified.map(|(_, method)| method)
            }
        })
    }

    /// Counts and audits a failed proof, then refuses.
    async fn failed_proof(
        &self,
        ctx: &RequestContext,
        me: &SignedIn,
        keys: &ThrottleKeys,
        action: &str,
        method: &str,
    ) -> Error {
        self.record_failure(keys).await;
        let mut draft = self.draft(
            ctx,
            &me.tenant,
            action,
            ("user", me.user.id.to_string()),
            vec![change("method", method.into())],
        );
        draft.outcome = Outcome::Failure;
        if let Err(e) = self.store().append(&Journal::one(draft)).await {
            tracing::warn!(error = %e, "could not record a failed second factor in the audit trail");
        }
        wrong_proof()
    }

    /// Completes a sign-in that waits for its second factor (`secret`: the restricted
    /// session's cookie or `mfa_token`). `remember` remembers this device (when the tenant
    /// allows it) so that the factor is skipped here next time.
    pub async fn complete_second_factor(
        &self,
        origin: Origin,
        slug: &str,
        secret: &str,
        proof: Proof,
        remember: bool,
        browser: &Browser,
    ) -> Result<NewSession, Error> {
        let me = self.authenticate_pending_session(slug, secret).await?;
        match me.session.restriction {
            Some(Restriction::SecondFactor) => {}
            Some(Restriction::Enrolment) => return Err(restricted(Restriction::Enrolment)),
            None => {
                return Err(Error::Conflict {
                    code: "already_signed_in",
                    message: "this sign-in is already complete".to_owned(),
                });
            }
        }
        let ctx = me.context(origin.clone());
        let keys = ThrottleKeys::new(
            me.tenant.id,
            &format!("mfa:{}", me.user.id),
            ctx.origin.ip.as_deref(),
        );
        // Six-digit codes fall to many addresses one attempt at a time: failures are also
        // counted for the account whatever the address.
        let account = ThrottleKeys::account_wide(me.tenant.id, &format!("mfa:{}", me.user.id));
        self.check_throttle(&keys).await?;
        self.check_throttle(&account).await?;
        if matches!(proof, Proof::Password(_)) {
            return Err(wrong_proof());
        }
        let Some(method) = self.check_proof(&me, &ctx, &proof, false).await? else {
            self.record_failure(&account).await;
            return Err(self
                .failed_proof(&ctx, &me, &keys, "auth.mfa.failed", proof.name())
                .await);
        };
        self.clear_failures(&keys).await;
        self.clear_failures(&account).await;
        let factors = self.factors(&me.tenant, &me.user).await?;
        let elevated = self
            .elevate(&me, origin, method, remember, Some(browser), true)
            .await?;
        Ok(NewSession {
            signed_in: elevated.signed_in,
            session_secret: elevated.secret.unwrap_or_else(|| secret.to_owned()),
            tokens: elevated.tokens,
            device_secret: elevated.device_secret,
            factors,
        })
    }

    /// Lifts the session's restriction after a second factor (`method`): `acr` becomes MFA,
    /// the authentication time is now, and a session that had no tokens gets them.
    pub(crate) async fn elevate(
        &self,
        me: &SignedIn,
        origin: Origin,
        method: &str,
        remember: bool,
        browser: Option<&Browser>,
        rotate: bool,
    ) -> Result<Elevated, Error> {
        let now = self.now();
        let policy = &me.tenant.settings.auth.sessions;
        let was_restricted_in_store = self
            .store()
            .session(me.tenant.id, me.session.id)
            .await
            .map_err(store_err("session"))?
            .is_some_and(|s| s.restriction.is_some());
        let mut session: Session = me.session.clone();
        session.amr = with(session.amr, &[method, amr::MFA]);
        session.acr = ACR_MFA.to_owned();
        session.auth_time = now;
        session.restriction = None;
        // The secret that reached the client before the second factor (the `mfa_token` of
        // an API answer) does not become the full session's: a new one replaces it.
        let secret = rotate.then(|| self.new_secret(32));
        if let Some(secret) = &secret {
            session.secret_hash = sha256_hex(secret);
        }
        if was_restricted_in_store {
            session.expires_at = now + policy.absolute();
            session.idle_timeout = policy.idle();
        }
        let refresh = self.new_refresh(&me.tenant, me.user.id, session.id);
        let ctx = me.context(origin);
        let remember = remember && me.tenant.settings.auth.mfa.remember_device_days > 0;
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "auth.login.succeeded",
            ("user", me.user.id.to_string()),
            vec![
                change("amr", session.amr.clone().into()),
                change("acr", session.acr.clone().into()),
                change("second_factor", method.into()),
                change("remember_device", remember.into()),
            ],
        ));
        self.store()
            .elevate_session(&session, Some((&refresh.family, &refresh.hash)), &journal)
            .await
            .map_err(store_err("session"))?;
        let signals = self
            .signals(
                &ctx,
                &me.tenant,
                &me.user,
                browser.unwrap_or(&Browser::default()),
            )
            .await?;
        let device_secret = self
            .after_full_sign_in(&me.tenant, &me.user, &signals, remember)
            .await?;
        let (access_token, expires_in) = self
            .issue_access_token(&me.tenant, &me.user, &session)
            .await?;
        Ok(Elevated {
            signed_in: SignedIn {
                tenant: me.tenant.clone(),
                user: me.user.clone(),
                session,
            },
            tokens: Some(TokenPair {
                access_token,
                expires_in,
                refresh_token: refresh.secret,
            }),
            device_secret,
            secret,
        })
    }

    /// Step-up: the signed-in user proves it is them again (password, TOTP, backup code or
    /// passkey) and sensitive actions are allowed for the tenant's step-up window. A user
    /// with a second factor steps up with it (a password alone does not do).
    pub async fn step_up(
        &self,
        me: &SignedIn,
        origin: Origin,
        proof: Proof,
    ) -> Result<SignedIn, Error> {
        if let Some(r) = me.session.restriction {
            return Err(restricted(r));
        }
        let ctx = me.context(origin);
        let keys = ThrottleKeys::new(
            me.tenant.id,
            &format!("step-up:{}", me.user.id),
            ctx.origin.ip.as_deref(),
        );
        self.check_throttle(&keys).await?;
        let factors = self.factors(&me.tenant, &me.user).await?;
        // Whoever has a second factor confirms with it: a session that passed one factor only
        // (opened before the factor existed, or let through by risk signals) must not turn a
        // password into the right to change factors.
        let allow_password = !factors.any();
        let Some(method) = self.check_proof(me, &ctx, &proof, allow_password).await? else {
            return Err(self
                .failed_proof(&ctx, me, &keys, "auth.step_up.failed", proof.name())
                .await);
        };
        self.clear_failures(&keys).await;
        let mut session = me.session.clone();
        session.amr = with(session.amr, &[method]);
        session.auth_time = self.now();
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "auth.step_up",
            ("user", me.user.id.to_string()),
            vec![change("method", method.into())],
        ));
        self.store()
            .elevate_session(&session, None, &journal)
            .await
            .map_err(store_err("session"))?;
        Ok(SignedIn {
            tenant: me.tenant.clone(),
            user: me.user.clone(),
            session,
        })
    }
}
