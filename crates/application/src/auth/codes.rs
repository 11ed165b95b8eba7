//! One-time codes: six random digits (or a long random ticket), single use, expiring,
//! attempt-limited and stored as a keyed hash; sent through the notifier.

use crate::app::App;
use crate::error::{Error, store_err};
use tessera_domain::code::{CodeCheck, CodePurpose, OneTimeCode};
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::ports::{Channel, Journal, Message, MessageKind};
use tessera_domain::tenant::Tenant;
use tessera_domain::user::User;
use tessera_domain::{CodeId, UserId, ValidationError};
use time::Duration;

/// Digits of a one-time code.
const CODE_DIGITS: u32 = 6;

/// What a person typed to identify themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Identifier {
    Email(Email),
    Phone(PhoneNumber),
    Username(Username),
}

impl Identifier {
    /// `a@b.c` is an email address, `+4930...` a phone number, anything else a username.
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ValidationError::new(
                "identifier",
                "identifier_required",
                "enter your email address, phone number or username",
            ));
        }
        if raw.len() > 320 {
            return Err(ValidationError::new(
                "identifier",
                "invalid_identifier",
                "this is not an email address, phone number or username",
            ));
        }
        let at = |e: ValidationError| e.at("identifier");
        if raw.contains('@')
            && !raw.starts_with('@')
            && let Ok(email) = Email::parse(raw)
        {
            return Ok(Self::Email(email));
        }
        if raw.starts_with('+') {
            return PhoneNumber::parse(raw).map(Self::Phone).map_err(at);
        }
        Username::parse(raw).map(Self::Username).map_err(at)
    }

    /// The normalised form codes and throttling are keyed on.
    pub fn target(&self) -> String {
        match self {
            Self::Email(e) => format!("email:{}", e.key()),
            Self::Phone(p) => format!("phone:{p}"),
            Self::Username(u) => format!("username:{}", u.key()),
        }
    }

    /// Where a code for this identifier goes (usernames receive nothing).
    pub fn channel(&self) -> Option<Channel> {
        match self {
            Self::Email(e) => Some(Channel::Email(e.clone())),
            Self::Phone(p) => Some(Channel::Sms(p.clone())),
            Self::Username(_) => None,
        }
    }

    /// Whether `user` holds this identifier, verified.
    pub fn is_verified_for(&self, user: &User) -> bool {
        match self {
            Self::Email(e) => user
                .emails
                .iter()
                .any(|x| x.verified && x.address.key() == e.key()),
            Self::Phone(p) => user.phones.iter().any(|x| x.verified && &x.number == p),
            Self::Username(u) => user.username.as_ref().is_some_and(|x| x.key() == u.key()),
        }
    }
}

pub(crate) fn invalid_code() -> Error {
    // One answer for wrong, expired, used up and never sent: the difference would tell
    // whether an account exists.
    Error::invalid(ValidationError::new(
        "code",
        "invalid_code",
        "the code is wrong, has expired or was already used; ask for a new one if needed",
    ))
}

pub(crate) fn kind_of(purpose: CodePurpose) -> MessageKind {
    match purpose {
        CodePurpose::VerifyIdentifier => MessageKind::VerifyCode,
        CodePurpose::RecoverPassword | CodePurpose::ResetTicket => MessageKind::RecoverCode,
        CodePurpose::SignIn => MessageKind::SignInCode,
    }
}

impl App {
    pub(crate) fn hash_code(&self, purpose: CodePurpose, target: &str, code: &str) -> String {
        let normalised: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        self.ports.keyed.keyed_hash(
            "one-time-code",
            format!("{}\n{target}\n{normalised}", purpose.as_str()).as_bytes(),
        )
    }

    /// A new code record for `target` (the caller stores it).
    pub(crate) fn new_code(
        &self,
        tenant: &Tenant,
        user: UserId,
        purpose: CodePurpose,
        target: &str,
    ) -> (OneTimeCode, String) {
        let code = self.new_numeric_code(CODE_DIGITS);
        let now = self.now();
        let settings = &tenant.settings.auth;
        (
            OneTimeCode {
                id: CodeId::from_uuid(self.ports.random.new_id()),
                tenant_id: tenant.id,
                user_id: user,
                purpose,
                target: target.to_owned(),
                code_hash: self.hash_code(purpose, target, &code),
                created_at: now,
                expires_at: now + Duration::seconds(i64::from(settings.code_ttl_secs)),
                attempts: 0,
                max_attempts: settings.code_max_attempts,
                consumed_at: None,
            },
            code,
        )
    }

    /// Delivers a message; failures are logged (without the content), never returned: the
    /// caller's answer must not depend on delivery.
    pub(crate) async fn deliver(
        &self,
        tenant: &Tenant,
        channel: Channel,
        kind: MessageKind,
        code: Option<String>,
    ) {
        self.deliver_with_link(tenant, channel, kind, code, None)
            .await;
    }

    /// [`Self::deliver`] with a link in the message (sign-in links, the security page).
    pub(crate) async fn deliver_with_link(
        &self,
        tenant: &Tenant,
        channel: Channel,
        kind: MessageKind,
        code: Option<String>,
        link: Option<String>,
    ) {
        let template = tenant
            .settings
            .auth
            .templates
            .get(&format!("{}.{}", kind.as_str(), channel.suffix()))
            .or_else(|| tenant.settings.auth.templates.get(kind.as_str()))
            .cloned();
        let message = Message {
            tenant_slug: tenant.slug.to_string(),
            tenant_name: tenant.display_name.clone(),
            channel,
            kind,
            code,
            link,
            minutes: Some(tenant.settings.auth.code_ttl_secs / 60),
            template,
        };
        if let Err(e) = self.ports.notifier.send(&message).await {
            tracing::warn!(tenant = %tenant.slug, kind = kind.as_str(), error = %e, "could not deliver a message");
        }
    }

    /// A security notice to the user's primary verified email (or phone).
    pub(crate) async fn notify_user(&self, tenant: &Tenant, user: &User, kind: MessageKind) {
        let channel = user
            .emails
            .iter()
            .find(|e| e.verified && e.primary)
            .or_else(|| user.emails.iter().find(|e| e.verified))
            .map(|e| Channel::Email(e.address.clone()))
            .or_else(|| {
                user.phones
                    .iter()
                    .find(|p| p.verified)
                    .map(|p| Channel::Sms(p.number.clone()))
            });
        if let Some(channel) = channel {
            self.deliver(tenant, channel, kind, None).await;
        }
    }

    /// Stores and sends a new code for `identifier` (silently skipped when too many were
    /// sent to it lately).
    pub(crate) async fn send_code(
        &self,
        tenant: &Tenant,
        user: UserId,
        purpose: CodePurpose,
        identifier: &Identifier,
        journal: Journal,
    ) -> Result<(), Error> {
        let Some(channel) = identifier.channel() else {
            return Ok(());
        };
        let target = identifier.target();
        if !self.may_send_code(tenant.id, &target).await {
            tracing::info!(tenant = %tenant.slug, purpose = purpose.as_str(), "one-time code not sent: too many sent to this identifier lately");
            return Ok(());
        }
        let (record, code) = self.new_code(tenant, user, purpose, &target);
        self.store()
            .insert_code(&record, &journal)
            .await
            .map_err(store_err("code"))?;
        self.deliver(tenant, channel, kind_of(purpose), Some(code))
            .await;
        Ok(())
    }

    /// Uses up the live code of `(purpose, target)` if `code` is it.
    pub(crate) async fn consume_code(
        &self,
        tenant: &Tenant,
        purpose: CodePurpose,
        target: &str,
        code: &str,
    ) -> Result<OneTimeCode, Error> {
        if code.is_empty() || code.len() > 128 {
            return Err(invalid_code());
        }
        let hash = self.hash_code(purpose, target, code);
        match self
            .store()
            .check_code(tenant.id, purpose, target, &hash, self.now())
            .await
            .map_err(store_err("code"))?
        {
            CodeCheck::Accepted(c) => Ok(c),
            CodeCheck::Wrong { .. } | CodeCheck::NoneLive => Err(invalid_code()),
        }
    }
}
