//! Signing in without a password: a one-time code sent to a verified email address or phone
//! number, or a link sent by email. Each method is switched on or off per tenant. Codes and
//! links are single use, short-lived, attempt-limited and bound to the browser that asked
//! (its flow cookie): a code typed in another browser is unknown there, and a link opened in
//! another browser asks for confirmation instead of signing in.

use super::codes::{Identifier, invalid_code};
use super::registration::mask;
use super::secrets::sha256_hex;
use super::signin::{Browser, NewSession};
use super::throttle::ThrottleKeys;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use tessera_domain::ChallengeId;
use tessera_domain::code::CodePurpose;
use tessera_domain::mfa::{Challenge, ChallengeKind, amr};
use tessera_domain::ports::{Channel, Journal, MessageKind};
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;
use time::Duration;

/// What opening a sign-in link will do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkCheck {
    /// The browser that asked for the link: it signs in.
    SameBrowser,
    /// Another browser: it signs in only after the person confirms. `account` (masked) says
    /// whose account it would sign into, so that nobody is signed into someone else's
    /// account by a link they were sent.
    OtherBrowser { account: String },
}

fn disabled(what: &str) -> Error {
    Error::Refused {
        code: "method_disabled",
        message: format!("signing in with {what} is not enabled in this directory"),
    }
}

fn invalid_link() -> Error {
    Error::Refused {
        code: "invalid_link",
        message: "this sign-in link has expired or was already used; ask for a new one".to_owned(),
    }
}

impl App {
    /// The identifier, its tenant's permission for the method, and the active user holding it
    /// verified (`None` when nobody does: the caller answers the same either way).
    async fn passwordless_target(
        &self,
        tenant: &Tenant,
        identifier: &str,
        link: bool,
    ) -> Result<(Identifier, Option<User>), Error> {
        let identifier = Identifier::parse(identifier)?;
        let policy = &tenant.settings.auth.passwordless;
        match (&identifier, link) {
            (Identifier::Email(_), true) if !policy.email_link => {
                return Err(disabled("an email link"));
            }
            (Identifier::Email(_), false) if !policy.email_code => {
                return Err(disabled("an email code"));
            }
            (Identifier::Phone(_), false) if !policy.sms_code => {
                return Err(disabled("an SMS code"));
            }
            (Identifier::Phone(_), true) | (Identifier::Username(_), _) => {
                return Err(Error::invalid(tessera_domain::ValidationError::new(
                    "identifier",
                    "invalid_identifier",
                    if link {
                        "enter your email address"
                    } else {
                        "enter your email address or phone number"
                    },
                )));
            }
            _ => {}
        }
        let user = self
            .user_holding(tenant, &identifier)
            .await?
            .filter(|u| identifier.is_verified_for(u) && self.refuse_inactive(tenant, u).is_ok());
        Ok((identifier, user))
    }

    /// Sends a sign-in code to a verified email address or phone number. The answer is the
    /// same whether an account holds it or not.
    pub async fn send_sign_in_code(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
        browser: &Browser,
    ) -> Result<String, Error> {
        let tenant = self.active_tenant(slug).await?;
        let (identifier, user) = self.passwordless_target(&tenant, identifier, false).await?;
        let sent_to = mask(&identifier);
        let (Some(user), Some(channel)) = (user, identifier.channel()) else {
            return Ok(sent_to);
        };
        if !self.may_send_code(tenant.id, &identifier.target()).await {
            tracing::info!(tenant = %tenant.slug, "sign-in code not sent: too many sent to this identifier lately");
            return Ok(sent_to);
        }
        let target = format!("{}#{}", identifier.target(), browser.binding());
        let (record, code) = self.new_code(&tenant, user.id, CodePurpose::SignIn, &target);
        let journal = Journal::one(self.draft(
            ctx,
            &tenant,
            "auth.sign_in_code_sent",
            ("user", user.id.to_string()),
            vec![],
        ));
        self.store()
            .insert_code(&record, &journal)
            .await
            .map_err(store_err("code"))?;
        self.deliver(&tenant, channel, MessageKind::SignInCode, Some(code))
            .await;
        Ok(sent_to)
    }

    /// Signs in with a code sent by [`Self::send_sign_in_code`] to this browser.
    pub async fn sign_in_with_code(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
        code: &str,
        browser: &Browser,
    ) -> Result<NewSession, Error> {
        let tenant = self.active_tenant(slug).await?;
        let (identifier, _) = self.passwordless_target(&tenant, identifier, false).await?;
        let keys = ThrottleKeys::new(tenant.id, &identifier.target(), ctx.origin.ip.as_deref());
        if let Err(e) = self.check_throttle(&keys).await {
            return Err(self
                .failed_sign_in(ctx, &tenant, None, &keys, "throttled", e)
                .await);
        }
        let target = format!("{}#{}", identifier.target(), browser.binding());
        let record = match self
            .consume_code(&tenant, CodePurpose::SignIn, &target, code)
            .await
        {
            Ok(r) => r,
            Err(_) => {
                return Err(self
                    .failed_sign_in(ctx, &tenant, None, &keys, "wrong_code", invalid_code())
                    .await);
            }
        };
        self.clear_failures(&keys).await;
        let user = self.load_user(&tenant, record.user_id).await?;
        self.refuse_inactive(&tenant, &user)?;
        self.primary_done(ctx, tenant, user, vec![amr::OTP.to_owned()], browser)
            .await
    }

    /// Sends a sign-in link to a verified email address, bound to this browser.
    pub async fn send_sign_in_link(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
        browser: &Browser,
    ) -> Result<String, Error> {
        let tenant = self.active_tenant(slug).await?;
        let (identifier, user) = self.passwordless_target(&tenant, identifier, true).await?;
        let sent_to = mask(&identifier);
        let (Some(user), Some(channel @ Channel::Email(_))) = (user, identifier.channel()) else {
            return Ok(sent_to);
        };
        if !self
            .may_send_code(tenant.id, &format!("link:{}", identifier.target()))
            .await
        {
            tracing::info!(tenant = %tenant.slug, "sign-in link not sent: too many sent to this identifier lately");
            return Ok(sent_to);
        }
        let token = self.new_secret(32);
        let now = self.now();
        let challenge = Challenge {
            id: ChallengeId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant.id,
            kind: ChallengeKind::SignInLink,
            user_id: Some(user.id),
            binding_hash: browser.binding(),
            secret_hash: Some(sha256_hex(&token)),
            state: identifier.target(),
            created_at: now,
            expires_at: now + Duration::seconds(i64::from(tenant.settings.auth.code_ttl_secs)),
            consumed_at: None,
        };
        self.store()
            .insert_challenge(&challenge)
            .await
            .map_err(store_err("challenge"))?;
        let journal = Journal::one(self.draft(
            ctx,
            &tenant,
            "auth.sign_in_link_sent",
            ("user", user.id.to_string()),
            vec![],
        ));
        self.store()
            .append(&journal)
            .await
            .map_err(store_err("audit event"))?;
        let link = format!(
            "{}/t/{}/login/link?token={token}",
            self.public_url(),
            tenant.slug
        );
        self.deliver_with_link(&tenant, channel, MessageKind::SignInLink, None, Some(link))
            .await;
        Ok(sent_to)
    }

    async fn live_link(&self, tenant: &Tenant, token: &str) -> Result<Challenge, Error> {
        if token.is_empty() || token.len() > 128 {
            return Err(invalid_link());
        }
        let now = self.now();
        self.store()
            .challenge_by_secret(tenant.id, &sha256_hex(token))
            .await
            .map_err(store_err("challenge"))?
            .filter(|c| {
                c.kind == ChallengeKind::SignInLink && c.consumed_at.is_none() && now < c.expires_at
            })
            .ok_or_else(invalid_link)
    }

    /// What opening a sign-in link in this browser does (nothing is used up: mail scanners
    /// open links too).
    pub async fn check_sign_in_link(
        &self,
        slug: &str,
        token: &str,
        browser: &Browser,
    ) -> Result<LinkCheck, Error> {
        let tenant = self.active_tenant(slug).await?;
        let link = self.live_link(&tenant, token).await?;
        Ok(if link.binding_hash == browser.binding() {
            LinkCheck::SameBrowser
        } else {
            let account = link
                .state
                .strip_prefix("email:")
                .and_then(|e| tessera_domain::identifiers::Email::parse(e).ok())
                .map_or_else(|| "•••".to_owned(), |e| mask(&Identifier::Email(e)));
            LinkCheck::OtherBrowser { account }
        })
    }

    /// Signs in with a link: at once in the browser that asked for it, after confirmation
    /// (`confirmed`) in another one.
    pub async fn sign_in_with_link(
        &self,
        ctx: &RequestContext,
        slug: &str,
        token: &str,
        browser: &Browser,
        confirmed: bool,
    ) -> Result<NewSession, Error> {
        let tenant = self.active_tenant(slug).await?;
        let keys = ThrottleKeys::new(tenant.id, "link", ctx.origin.ip.as_deref());
        self.check_throttle(&keys).await?;
        let link = match self.live_link(&tenant, token).await {
            Ok(l) => l,
            Err(e) => {
                return Err(self
                    .failed_sign_in(ctx, &tenant, None, &keys, "invalid_link", e)
                    .await);
            }
        };
        if link.binding_hash != browser.binding() && !confirmed {
            return Err(Error::Refused {
                code: "confirmation_required",
                message: "this link was asked for in another browser: confirm that you want to sign in here".to_owned(),
            });
        }
        if !self
            .store()
            .consume_challenge(tenant.id, link.id, self.now())
            .await
            .map_err(store_err("challenge"))?
        {
            return Err(invalid_link());
        }
        let user_id = link.user_id.ok_or_else(invalid_link)?;
        let user = self.load_user(&tenant, user_id).await?;
        self.refuse_inactive(&tenant, &user)?;
        self.primary_done(ctx, tenant, user, vec![amr::OTP.to_owned()], browser)
            .await
    }
}
