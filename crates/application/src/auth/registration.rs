//! Sign-up: profile, identifiers, default settings and password created together; the user
//! stays unverified until an identifier is verified when the tenant requires it. The answer
//! never reveals whether an email address or phone number already has an account: its
//! holder gets a message instead.

use super::codes::Identifier;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use crate::users::NewUser;
use tessera_domain::ValidationError;
use tessera_domain::code::CodePurpose;
use tessera_domain::credential::{Password, PasswordCredential};
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::{Journal, MessageKind, StoreError, UserQuery};
use tessera_domain::profile::Profile;
use tessera_domain::tenant::Tenant;
use tessera_domain::user::{EmailEntry, PhoneEntry, User, UserKind};

/// A sign-up request (already parsed by the interface).
#[derive(Clone, Debug, Default)]
pub struct Registration {
    pub username: Option<Username>,
    pub email: Option<Email>,
    pub phone: Option<PhoneNumber>,
    pub password: String,
    pub profile: Profile,
}

/// What a sign-up answers (the same whether or not the identifier had an account).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registered {
    /// Where a verification code was sent (masked), when one was.
    pub verification_sent_to: Option<String>,
    /// Whether the user must verify before signing in.
    pub verification_required: bool,
}

/// `a•••@example.com`, `+49•••••••12`.
pub fn mask(identifier: &Identifier) -> String {
    match identifier {
        Identifier::Email(e) => {
            let s = e.to_string();
            match s.split_once('@') {
                Some((local, domain)) => {
                    let first: String = local.chars().take(1).collect();
                    format!("{first}•••@{domain}")
                }
                None => "•••".to_owned(),
            }
        }
        Identifier::Phone(p) => {
            let s = p.to_string();
            let n = s.chars().count();
            s.chars()
                .enumerate()
                .map(|(i, c)| if i < 3 || i + 2 >= n { c } else { '•' })
                .collect()
        }
        Identifier::Username(u) => u.to_string(),
    }
}

impl App {
    /// The user holding `identifier` in the tenant (verified or not).
    pub(crate) async fn user_holding(
        &self,
        tenant: &Tenant,
        identifier: &Identifier,
    ) -> Result<Option<User>, Error> {
        let mut query = UserQuery {
            limit: 1,
            ..UserQuery::default()
        };
        match identifier {
            Identifier::Email(e) => {
                return self
                    .store()
                    .user_by_email(tenant.id, e.key())
                    .await
                    .map_err(store_err("user"));
            }
            Identifier::Phone(p) => query.phone = Some(p.clone()),
            Identifier::Username(u) => query.username = Some(u.key().to_owned()),
        }
        let page = self
            .store()
            .list_users(tenant.id, &query)
            .await
            .map_err(store_err("user"))?;
        Ok(page
            .items
            .into_iter()
            .find(|u| u.state != LifecycleState::Deleted))
    }

    pub async fn register(
        &self,
        ctx: &RequestContext,
        slug: &str,
        reg: Registration,
    ) -> Result<Registered, Error> {
        let tenant = self.active_tenant(slug).await?;
        let settings = &tenant.settings.auth;
        if !settings.self_registration {
            return Err(Error::Refused {
                code: "registration_closed",
                message: format!(
                    "{} does not accept new sign-ups; ask an administrator for an account",
                    tenant.display_name
                ),
            });
        }
        let contact = match (&reg.email, &reg.phone) {
            (Some(e), _) => Some(Identifier::Email(e.clone())),
            (None, Some(p)) => Some(Identifier::Phone(p.clone())),
            (None, None) => None,
        };
        if settings.require_verified_identifier && contact.is_none() {
            return Err(Error::invalid(ValidationError::new(
                "email",
                "identifier_required",
                "an email address or a phone number is required to verify the account",
            )));
        }
        if reg.username.is_none() && contact.is_none() {
            return Err(Error::invalid(ValidationError::new(
                "username",
                "identifier_required",
                "choose a username, or give an email address or phone number",
            )));
        }
        let password = Password::parse(&reg.password)?;
        let new = NewUser {
            username: reg.username.clone(),
            emails: reg
                .email
                .iter()
                .map(|e| EmailEntry {
                    address: e.clone(),
                    verified: false,
                    primary: true,
                })
                .collect(),
            phones: reg
                .phone
                .iter()
                .map(|p| PhoneEntry {
                    number: p.clone(),
                    verified: false,
                    primary: true,
                })
                .collect(),
            profile: reg.profile.clone(),
            custom_attributes: serde_json::Map::new(),
            initial_state: Some(if settings.require_verified_identifier {
                LifecycleState::Unverified
            } else {
                LifecycleState::Active
            }),
        };
        let mut user = self.new_user_record(&tenant, UserKind::User, new, None)?;
        self.check_new_password(&tenant, &user, &password, None)
            .await?;
        let answer = Registered {
            verification_sent_to: contact.as_ref().map(mask),
            verification_required: settings.require_verified_identifier,
        };
        // An identifier that already has an account: tell its holder, answer as usual.
        for id in [
            reg.email.clone().map(Identifier::Email),
            reg.phone.clone().map(Identifier::Phone),
        ]
        .into_iter()
        .flatten()
        {
            if self.user_holding(&tenant, &id).await?.is_some() {
                self.ports.hasher.verify_dummy(&password).await;
                if let Some(channel) = id.channel() {
                    self.deliver(&tenant, channel, MessageKind::AccountExists, None)
                        .await;
                }
                return Ok(answer);
            }
        }
        let hash = self.hash_password(&password).await?;
        let credential = PasswordCredential {
            tenant_id: tenant.id,
            user_id: user.id,
            hash,
            history: vec![],
            changed_at: user.created_at,
        };
        let code = contact
            .as_ref()
            .map(|c| self.new_code(&tenant, user.id, CodePurpose::VerifyIdentifier, &c.target()));
        user.version = 1;
        let journal = self.journal(
            ctx,
            &tenant,
            "user.registered",
            ("user", user.id.to_string()),
            None,
            Some(&user),
        );
        match self
            .store()
            .register_user(&user, &credential, code.as_ref().map(|c| &c.0), &journal)
            .await
        {
            Ok(()) => {}
            // Taken meanwhile by a concurrent sign-up: same answer as above.
            Err(StoreError::Duplicate { field, .. }) if field == "email" || field == "phone" => {
                return Ok(answer);
            }
            Err(e) => return Err(Error::from_store(e, "user")),
        }
        if let (Some(contact), Some((_, code))) = (&contact, code)
            && self.may_send_code(tenant.id, &contact.target()).await
            && let Some(channel) = contact.channel()
        {
            self.deliver(&tenant, channel, MessageKind::VerifyCode, Some(code))
                .await;
        }
        Ok(answer)
    }

    /// Sends a new verification code to an identifier of an unverified account (always
    /// answers the same).
    pub async fn resend_verification(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
    ) -> Result<(), Error> {
        let tenant = self.active_tenant(slug).await?;
        let Ok(identifier) = Identifier::parse(identifier) else {
            return Ok(());
        };
        if let Some(user) = self.user_holding(&tenant, &identifier).await?
            && !identifier.is_verified_for(&user)
            && !matches!(identifier, Identifier::Username(_))
        {
            let journal = Journal::one(self.draft(
                ctx,
                &tenant,
                "code.sent",
                ("user", user.id.to_string()),
                vec![],
            ));
            self.send_code(
                &tenant,
                user.id,
                CodePurpose::VerifyIdentifier,
                &identifier,
                journal,
            )
            .await?;
        }
        Ok(())
    }

    /// Verifies an identifier with the code sent to it. An unverified user becomes active.
    /// For a signed-in user adding an identifier, the identifier is linked now.
    pub async fn verify_identifier(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
        code: &str,
    ) -> Result<User, Error> {
        let tenant = self.active_tenant(slug).await?;
        let identifier = Identifier::parse(identifier)?;
        let record = self
            .consume_code(
                &tenant,
                CodePurpose::VerifyIdentifier,
                &identifier.target(),
                code,
            )
            .await?;
        if let crate::context::Principal::User { user_id, .. } = &ctx.principal
            && *user_id != record.user_id
        {
            return Err(Error::NotFound("code"));
        }
        let before = self.load_user(&tenant, record.user_id).await?;
        let mut user = before.clone();
        match &identifier {
            Identifier::Email(e) => {
                match user.emails.iter_mut().find(|x| x.address.key() == e.key()) {
                    Some(entry) => entry.verified = true,
                    None => user.emails.push(EmailEntry {
                        address: e.clone(),
                        verified: true,
                        primary: user.emails.is_empty(),
                    }),
                }
            }
            Identifier::Phone(p) => match user.phones.iter_mut().find(|x| &x.number == p) {
                Some(entry) => entry.verified = true,
                None => user.phones.push(PhoneEntry {
                    number: p.clone(),
                    verified: true,
                    primary: user.phones.is_empty(),
                }),
            },
            Identifier::Username(_) => return Err(Error::NotFound("code")),
        }
        if user.state == LifecycleState::Unverified {
            user.state = LifecycleState::Active;
        }
        self.save_user(ctx, &tenant, &before, user, "user.identifier_verified")
            .await
    }
}
