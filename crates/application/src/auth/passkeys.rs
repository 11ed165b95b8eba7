//! Passkeys (WebAuthn): registration, listing, renaming and removal by their user; and
//! authentication, as a second factor, for step-up, or passwordless with a discoverable
//! credential. Every ceremony's state stays server-side as a single-use, expiring challenge
//! bound to the session (or the browser's flow cookie) that started it.

use super::sessions::SignedIn;
use super::signin::{Browser, NewSession, change};
use super::throttle::ThrottleKeys;
use super::totp::Enrolled;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_domain::audit::{Origin, Outcome};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::mfa::{Challenge, ChallengeKind, Passkey, amr};
use tessera_domain::ports::{Journal, PasskeyError, PasskeyUser, RelyingParty, StoreError};
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;
use tessera_domain::{ChallengeId, PasskeyId, UserId, ValidationError};
use time::Duration;

/// How long a ceremony may take.
const CEREMONY_LIFETIME: Duration = Duration::minutes(5);
/// Longest passkey name.
const MAX_NAME: usize = 64;

/// A ceremony started: the id to send back with the browser's answer, and the options for
/// `navigator.credentials`.
#[derive(Clone, Debug)]
pub struct PasskeyCeremony {
    pub challenge_id: ChallengeId,
    pub options: serde_json::Value,
}

fn refused_passkey() -> Error {
    Error::Refused {
        code: "passkey_refused",
        message: "the passkey was not accepted; try again, or use another way to sign in"
            .to_owned(),
    }
}

fn passkey_name(raw: Option<&str>, fallback: &str) -> Result<String, Error> {
    let name = raw
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or(fallback);
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(Error::invalid(ValidationError::new(
            "name",
            "invalid_name",
            format!("a passkey name has at most {MAX_NAME} characters and no control characters"),
        )));
    }
    Ok(name.to_owned())
}

fn internal(e: PasskeyError) -> Error {
    Error::Unexpected(anyhow::anyhow!("{e}"))
}

impl App {
    /// The relying party of the tenant's pages: this server's host and origin.
    pub(crate) fn relying_party(&self, tenant: &Tenant) -> Result<RelyingParty, Error> {
        let url = self.public_url();
        let (scheme, rest) = url.split_once("://").unwrap_or(("https", url));
        let host_port = rest.split('/').next().unwrap_or(rest);
        let host = if host_port.starts_with('[') {
            host_port
                .split_once(']')
                .map_or(host_port, |(h, _)| h.trim_start_matches('['))
        } else {
            host_port.split(':').next().unwrap_or(host_port)
        };
        // WebAuthn scopes credentials to a domain: browsers refuse an IP address as RP ID.
        if host.parse::<std::net::IpAddr>().is_ok() {
            return Err(Error::Refused {
                code: "passkeys_unavailable",
                message: format!(
                    "passkeys need this server to be reached by a domain name, not the IP address {host}: set server.public_url (for development, http://localhost:<port>) and open that address"
                ),
            });
        }
        Ok(RelyingParty {
            id: host.to_owned(),
            origin: format!("{scheme}://{host_port}"),
            name: tenant.display_name.clone(),
        })
    }

    async fn new_challenge(
        &self,
        tenant: &Tenant,
        kind: ChallengeKind,
        user: Option<UserId>,
        binding_hash: &str,
        state: String,
    ) -> Result<ChallengeId, Error> {
        let now = self.now();
        let challenge = Challenge {
            id: ChallengeId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant.id,
            kind,
            user_id: user,
            binding_hash: binding_hash.to_owned(),
            secret_hash: None,
            state,
            created_at: now,
            expires_at: now + CEREMONY_LIFETIME,
            consumed_at: None,
        };
        self.store()
            .insert_challenge(&challenge)
            .await
            .map_err(store_err("challenge"))?;
        Ok(challenge.id)
    }

    /// Takes a challenge for good: it must exist, be of `kind`, be bound to `binding_hash`
    /// (and to `user` when given), and be neither used nor expired. A challenge presented by
    /// another session is not consumed (its owner can still finish).
    async fn take_challenge(
        &self,
        tenant: &Tenant,
        id: ChallengeId,
        kind: ChallengeKind,
        binding_hash: &str,
        user: Option<UserId>,
    ) -> Result<Challenge, Error> {
        let invalid = || Error::Refused {
            code: "invalid_challenge",
            message: "this passkey request has expired or was already used; start again".to_owned(),
        };
        let challenge = self
            .store()
            .challenge(tenant.id, id)
            .await
            .map_err(store_err("challenge"))?
            .filter(|c| c.kind == kind && c.binding_hash == binding_hash)
            .filter(|c| user.is_none() || c.user_id == user)
            .ok_or_else(invalid)?;
        if !self
            .store()
            .consume_challenge(tenant.id, id, self.now())
            .await
            .map_err(store_err("challenge"))?
        {
            return Err(invalid());
        }
        Ok(challenge)
    }

    /// Audits a refused passkey response (with the verifier's reason).
    async fn passkey_refused(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        user: Option<UserId>,
        action: &str,
        reason: String,
    ) -> Error {
        let subject = match user {
            Some(u) => ("user", u.to_string()),
            None => ("tenant", tenant.id.to_string()),
        };
        let mut draft = self.draft(
            ctx,
            tenant,
            action,
            subject,
            vec![change("reason", reason.into())],
        );
        draft.outcome = Outcome::Failure;
        if let Err(e) = self.store().append(&Journal::one(draft)).await {
            tracing::warn!(error = %e, "could not record a refused passkey in the audit trail");
        }
        refused_passkey()
    }

    /// Deletes challenges that expired more than an hour ago (maintenance).
    pub async fn prune_challenges(&self) -> Result<u64, Error> {
        self.store()
            .prune_challenges(self.now() - Duration::hours(1))
            .await
            .map_err(store_err("challenge"))
    }

    /// Starts registering a passkey for the signed-in user (recent authentication needed,
    /// except while enrolling a first factor at sign-in).
    pub async fn start_passkey_registration(
        &self,
        me: &SignedIn,
    ) -> Result<PasskeyCeremony, Error> {
        Self::may_enrol(me)?;
        if !me.tenant.settings.auth.mfa.passkeys && !me.tenant.settings.auth.passwordless.passkeys {
            return Err(Error::Refused {
                code: "method_disabled",
                message: "passkeys are not enabled in this directory".to_owned(),
            });
        }
        self.require_recent_auth(me)?;
        let existing = self
            .store()
            .passkeys(me.tenant.id, me.user.id)
            .await
            .map_err(store_err("passkey"))?;
        let exclude: Vec<String> = existing.iter().map(|p| p.credential_id.clone()).collect();
        let name = me
            .user
            .username
            .as_ref()
            .map(|u| u.as_str().to_owned())
            .or_else(|| {
                me.user
                    .emails
                    .first()
                    .map(|e| e.address.as_str().to_owned())
            })
            .unwrap_or_else(|| me.user.id.to_string());
        let p = &me.user.profile;
        let display_name = match (&p.given_name, &p.family_name) {
            (Some(g), Some(f)) => format!("{g} {f}"),
            (Some(n), None) | (None, Some(n)) => n.clone(),
            (None, None) => name.clone(),
        };
        let start = self
            .ports
            .passkeys
            .start_registration(
                &self.relying_party(&me.tenant)?,
                &PasskeyUser {
                    handle: *me.user.id.as_uuid(),
                    name,
                    display_name,
                },
                &exclude,
            )
            .map_err(internal)?;
        let challenge_id = self
            .new_challenge(
                &me.tenant,
                ChallengeKind::PasskeyRegistration,
                Some(me.user.id),
                &me.session.secret_hash,
                start.state,
            )
            .await?;
        Ok(PasskeyCeremony {
            challenge_id,
            options: start.options,
        })
    }

    /// Finishes registering a passkey with the browser's answer.
    pub async fn finish_passkey_registration(
        &self,
        me: &SignedIn,
        origin: Origin,
        challenge: ChallengeId,
        response: &serde_json::Value,
        name: Option<&str>,
    ) -> Result<(Passkey, Enrolled), Error> {
        Self::may_enrol(me)?;
        let ctx = me.context(origin.clone());
        let challenge = self
            .take_challenge(
                &me.tenant,
                challenge,
                ChallengeKind::PasskeyRegistration,
                &me.session.secret_hash,
                Some(me.user.id),
            )
            .await?;
        let rp = self.relying_party(&me.tenant)?;
        let registered =
            match self
                .ports
                .passkeys
                .finish_registration(&rp, &challenge.state, response)
            {
                Ok(r) => r,
                Err(PasskeyError::Refused(reason)) => {
                    return Err(self
                        .passkey_refused(
                            &ctx,
                            &me.tenant,
                            Some(me.user.id),
                            "mfa.passkey_refused",
                            reason,
                        )
                        .await);
                }
                Err(e) => return Err(internal(e)),
            };
        let allowed = &me.tenant.settings.auth.mfa.passkey_aaguids;
        if !allowed.is_empty() && !registered.aaguid.is_some_and(|a| allowed.contains(&a)) {
            let reason = format!(
                "authenticator model {} is not on the tenant's allow-list",
                registered
                    .aaguid
                    .map_or_else(|| "unknown".to_owned(), |a| a.to_string())
            );
            let _ = self
                .passkey_refused(
                    &ctx,
                    &me.tenant,
                    Some(me.user.id),
                    "mfa.passkey_refused",
                    reason,
                )
                .await;
            return Err(Error::Refused {
                code: "authenticator_not_allowed",
                message:
                    "this directory does not accept this model of security key or passkey provider"
                        .to_owned(),
            });
        }
        let had_factor = self.factors(&me.tenant, &me.user).await?.any();
        let fallback = format!("Passkey {}", self.now().date());
        let passkey = Passkey {
            id: PasskeyId::from_uuid(self.ports.random.new_id()),
            tenant_id: me.tenant.id,
            user_id: me.user.id,
            credential_id: registered.credential_id,
            name: passkey_name(name, &fallback)?,
            aaguid: registered.aaguid,
            credential: registered.credential,
            sign_count: registered.sign_count,
            backup_eligible: registered.backup_eligible,
            created_at: self.now(),
            last_used_at: None,
        };
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "mfa.passkey_added",
            ("user", me.user.id.to_string()),
            vec![
                change("passkey", passkey.id.to_string().into()),
                change("name", passkey.name.clone().into()),
            ],
        ));
        self.store()
            .insert_passkey(&passkey, &journal)
            .await
            .map_err(|e| match e {
                StoreError::Duplicate { .. } => Error::Conflict {
                    code: "passkey_exists",
                    message: "this passkey is already registered".to_owned(),
                },
                other => Error::from_store(other, "user"),
            })?;
        let method = if passkey.backup_eligible {
            amr::SOFTWARE_KEY
        } else {
            amr::HARDWARE_KEY
        };
        let enrolled = self.after_enrolment(me, origin, had_factor, method).await?;
        Ok((passkey, enrolled))
    }

    pub async fn my_passkeys(&self, me: &SignedIn) -> Result<Vec<Passkey>, Error> {
        self.store()
            .passkeys(me.tenant.id, me.user.id)
            .await
            .map_err(store_err("passkey"))
    }

    pub async fn rename_my_passkey(
        &self,
        me: &SignedIn,
        origin: Origin,
        id: PasskeyId,
        name: &str,
    ) -> Result<(), Error> {
        self.require_recent_auth(me)?;
        let name = passkey_name(Some(name), "")?;
        if name.is_empty() {
            return Err(Error::invalid(ValidationError::new(
                "name",
                "name_required",
                "give the passkey a name",
            )));
        }
        let journal = Journal::one(self.draft(
            &me.context(origin),
            &me.tenant,
            "mfa.passkey_renamed",
            ("user", me.user.id.to_string()),
            vec![
                change("passkey", id.to_string().into()),
                change("name", name.clone().into()),
            ],
        ));
        self.store()
            .rename_passkey(me.tenant.id, me.user.id, id, &name, &journal)
            .await
            .map_err(store_err("passkey"))
    }

    /// Removes a passkey (recent authentication needed; never the last factor of a user who
    /// must have one).
    pub async fn remove_my_passkey(
        &self,
        me: &SignedIn,
        origin: Origin,
        id: PasskeyId,
    ) -> Result<(), Error> {
        self.require_recent_auth(me)?;
        let factors = self.factors(&me.tenant, &me.user).await?;
        if !factors.totp && factors.passkeys == 1 {
            self.refuse_last_factor(me).await?;
        }
        let journal = Journal::one(self.draft(
            &me.context(origin.clone()),
            &me.tenant,
            "mfa.passkey_removed",
            ("user", me.user.id.to_string()),
            vec![change("passkey", id.to_string().into())],
        ));
        self.store()
            .delete_passkey(me.tenant.id, me.user.id, id, &journal)
            .await
            .map_err(store_err("passkey"))?;
        self.drop_backup_codes_if_no_factor(me, origin).await
    }

    /// Starts a passkey authentication for the signed-in (or half signed-in) user: the second
    /// step of a sign-in, or a step-up. Bound to the session.
    pub async fn start_passkey_check(&self, me: &SignedIn) -> Result<PasskeyCeremony, Error> {
        let credentials: Vec<String> = self
            .store()
            .passkeys(me.tenant.id, me.user.id)
            .await
            .map_err(store_err("passkey"))?
            .into_iter()
            .map(|p| p.credential)
            .collect();
        if credentials.is_empty() {
            return Err(Error::Conflict {
                code: "no_passkey",
                message: "you have no passkey: use another way".to_owned(),
            });
        }
        let start = self
            .ports
            .passkeys
            .start_authentication(&self.relying_party(&me.tenant)?, &credentials)
            .map_err(internal)?;
        let challenge_id = self
            .new_challenge(
                &me.tenant,
                ChallengeKind::PasskeyAuthentication,
                Some(me.user.id),
                &me.session.secret_hash,
                start.state,
            )
            .await?;
        Ok(PasskeyCeremony {
            challenge_id,
            options: start.options,
        })
    }

    /// Starts a passwordless passkey sign-in (any discoverable credential; the page may offer
    /// it through autofill). Bound to the browser's flow cookie.
    pub async fn start_passkey_sign_in(
        &self,
        slug: &str,
        browser: &Browser,
    ) -> Result<PasskeyCeremony, Error> {
        let tenant = self.active_tenant(slug).await?;
        if !tenant.settings.auth.passwordless.passkeys {
            return Err(Error::Refused {
                code: "method_disabled",
                message: "signing in with a passkey is not enabled in this directory".to_owned(),
            });
        }
        let start = self
            .ports
            .passkeys
            .start_authentication(&self.relying_party(&tenant)?, &[])
            .map_err(internal)?;
        let challenge_id = self
            .new_challenge(
                &tenant,
                ChallengeKind::PasskeyAuthentication,
                None,
                &browser.binding(),
                start.state,
            )
            .await?;
        Ok(PasskeyCeremony {
            challenge_id,
            options: start.options,
        })
    }

    /// Verifies a passkey assertion against its challenge; `Some((user, amr))` when it holds.
    /// `user`: the user the challenge was started for (`None`: passwordless, the credential
    /// says whose it is). A counter that went backwards is flagged in the audit trail.
    pub(crate) async fn verify_passkey(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        challenge: ChallengeId,
        binding_hash: &str,
        user: Option<UserId>,
        response: &serde_json::Value,
    ) -> Result<Option<(UserId, &'static str)>, Error> {
        let challenge = self
            .take_challenge(
                tenant,
                challenge,
                ChallengeKind::PasskeyAuthentication,
                binding_hash,
                user,
            )
            .await?;
        let claim = match self.ports.passkeys.claim(response) {
            Ok(c) => c,
            Err(PasskeyError::Refused(reason)) => {
                let _ = self
                    .passkey_refused(ctx, tenant, user, "auth.passkey_refused", reason)
                    .await;
                return Ok(None);
            }
            Err(e) => return Err(internal(e)),
        };
        let Some(passkey) = self
            .store()
            .passkey_by_credential_id(tenant.id, &claim.credential_id)
            .await
            .map_err(store_err("passkey"))?
        else {
            let _ = self
                .passkey_refused(
                    ctx,
                    tenant,
                    user,
                    "auth.passkey_refused",
                    "unknown credential".to_owned(),
                )
                .await;
            return Ok(None);
        };
        let owner_matches = user.is_none_or(|u| u == passkey.user_id)
            && claim
                .user_handle
                .is_none_or(|h| h == *passkey.user_id.as_uuid());
        if !owner_matches {
            let _ = self
                .passkey_refused(
                    ctx,
                    tenant,
                    Some(passkey.user_id),
                    "auth.passkey_refused",
                    "the credential belongs to another user".to_owned(),
                )
                .await;
            return Ok(None);
        }
        let rp = self.relying_party(tenant)?;
        let verified = match self.ports.passkeys.finish_authentication(
            &rp,
            &challenge.state,
            response,
            &passkey.credential,
        ) {
            Ok(v) => v,
            Err(PasskeyError::Refused(reason)) => {
                let _ = self
                    .passkey_refused(
                        ctx,
                        tenant,
                        Some(passkey.user_id),
                        "auth.passkey_refused",
                        reason,
                    )
                    .await;
                return Ok(None);
            }
            Err(e) => return Err(internal(e)),
        };
        if !verified.user_verified {
            let _ = self
                .passkey_refused(
                    ctx,
                    tenant,
                    Some(passkey.user_id),
                    "auth.passkey_refused",
                    "user verification missing".to_owned(),
                )
                .await;
            return Ok(None);
        }
        if verified.counter_regressed {
            let mut draft = self.draft(
                ctx,
                tenant,
                "mfa.passkey_counter_regressed",
                ("user", passkey.user_id.to_string()),
                vec![
                    change("passkey", passkey.id.to_string().into()),
                    change("stored_count", passkey.sign_count.into()),
                    change("presented_count", verified.sign_count.into()),
                ],
            );
            draft.outcome = Outcome::Failure;
            if let Err(e) = self.store().append(&Journal::one(draft)).await {
                tracing::warn!(error = %e, "could not record a passkey counter regression");
            }
            tracing::warn!(tenant = %tenant.slug, user = %passkey.user_id, passkey = %passkey.id, "passkey sign count went backwards: possibly a cloned authenticator");
        }
        // A clone's lower count is evidence, not progress: the stored count never goes back.
        self.store()
            .record_passkey_use(
                tenant.id,
                passkey.id,
                verified.sign_count.max(passkey.sign_count),
                &verified.credential,
                self.now(),
            )
            .await
            .map_err(store_err("passkey"))?;
        let method = if passkey.backup_eligible || verified.backup_eligible {
            amr::SOFTWARE_KEY
        } else {
            amr::HARDWARE_KEY
        };
        Ok(Some((passkey.user_id, method)))
    }

    /// Finishes a passwordless passkey sign-in: the passkey (with user verification) is both
    /// factors, so the session passes MFA.
    pub async fn finish_passkey_sign_in(
        &self,
        ctx: &RequestContext,
        slug: &str,
        challenge: ChallengeId,
        response: &serde_json::Value,
        browser: &Browser,
    ) -> Result<NewSession, Error> {
        let tenant = self.active_tenant(slug).await?;
        let keys = ThrottleKeys::new(tenant.id, "passkey", ctx.origin.ip.as_deref());
        self.check_throttle(&keys).await?;
        let verified = self
            .verify_passkey(ctx, &tenant, challenge, &browser.binding(), None, response)
            .await?;
        let Some((user_id, method)) = verified else {
            self.record_failure(&keys).await;
            return Err(refused_passkey());
        };
        self.clear_failures(&keys).await;
        let user = self.load_user(&tenant, user_id).await?;
        self.refuse_inactive(&tenant, &user)?;
        self.primary_done(
            ctx,
            tenant,
            user,
            vec![method.to_owned(), amr::USER.to_owned(), amr::MFA.to_owned()],
            browser,
        )
        .await
    }

    /// Refuses a user whose state does not allow signing in (after a first factor that was
    /// not a password: the password path says why in more words).
    pub(crate) fn refuse_inactive(&self, _tenant: &Tenant, user: &User) -> Result<(), Error> {
        match user.state {
            LifecycleState::Active => Ok(()),
            LifecycleState::PasswordResetRequired => Err(Error::Refused {
                code: "password_reset_required",
                message: "your password must be changed: use \"Forgot password\" to set a new one"
                    .to_owned(),
            }),
            LifecycleState::Unverified => Err(Error::Refused {
                code: "verification_required",
                message: "verify your email address or phone number first".to_owned(),
            }),
            _ => Err(Error::Refused {
                code: "account_disabled",
                message: "this account is disabled".to_owned(),
            }),
        }
    }
}
