//! A signed-in user's identifiers: link another email or phone (after verifying it with a
//! code), remove one (never the last verified one).

use super::codes::Identifier;
use super::sessions::SignedIn;
use crate::app::App;
use crate::error::Error;
use tessera_domain::ValidationError;
use tessera_domain::audit::Origin;
use tessera_domain::code::CodePurpose;
use tessera_domain::ports::Journal;
use tessera_domain::user::User;

impl App {
    /// Sends a code to a new email or phone; it is linked once the code is verified
    /// (`verify_identifier`). Until then nobody else is blocked from using it.
    pub async fn add_identifier(
        &self,
        me: &SignedIn,
        origin: Origin,
        identifier: &str,
    ) -> Result<String, Error> {
        self.require_recent_auth(me)?;
        let identifier = Identifier::parse(identifier)?;
        if matches!(identifier, Identifier::Username(_)) {
            return Err(Error::invalid(ValidationError::new(
                "identifier",
                "invalid_identifier",
                "enter an email address or a phone number (+ and country code)",
            )));
        }
        if identifier.is_verified_for(&me.user) {
            return Err(Error::Conflict {
                code: "already_verified",
                message: "this identifier is already linked and verified".to_owned(),
            });
        }
        if let Some(holder) = self.user_holding(&me.tenant, &identifier).await?
            && holder.id != me.user.id
        {
            return Err(Error::Duplicate {
                field: match identifier {
                    Identifier::Phone(_) => "phone",
                    _ => "email",
                },
                value: None,
            });
        }
        let ctx = me.context(origin);
        let journal = Journal::one(self.draft(
            &ctx,
            &me.tenant,
            "code.sent",
            ("user", me.user.id.to_string()),
            vec![],
        ));
        self.send_code(
            &me.tenant,
            me.user.id,
            CodePurpose::VerifyIdentifier,
            &identifier,
            journal,
        )
        .await?;
        Ok(super::registration::mask(&identifier))
    }

    /// Removes an email or phone; the last verified identifier stays.
    pub async fn remove_identifier(
        &self,
        me: &SignedIn,
        origin: Origin,
        identifier: &str,
    ) -> Result<User, Error> {
        self.require_recent_auth(me)?;
        let identifier = Identifier::parse(identifier)?;
        let before = self.load_user(&me.tenant, me.user.id).await?;
        let mut after = before.clone();
        match &identifier {
            Identifier::Email(e) => after.emails.retain(|x| x.address.key() != e.key()),
            Identifier::Phone(p) => after.phones.retain(|x| &x.number != p),
            Identifier::Username(_) => {}
        }
        if after.emails.len() == before.emails.len() && after.phones.len() == before.phones.len() {
            return Err(Error::NotFound("identifier"));
        }
        if before.has_verified_identifier() && !after.has_verified_identifier() {
            return Err(Error::Conflict {
                code: "last_verified_identifier",
                message:
                    "this is your last verified email or phone; add and verify another one first"
                        .to_owned(),
            });
        }
        if !after.emails.is_empty() && !after.emails.iter().any(|e| e.primary) {
            if let Some(first) = after.emails.iter_mut().find(|e| e.verified) {
                first.primary = true;
            } else if let Some(first) = after.emails.first_mut() {
                first.primary = true;
            }
        }
        if !after.phones.iter().any(|p| p.primary)
            && let Some(first) = after.phones.first_mut()
        {
            first.primary = true;
        }
        let ctx = me.context(origin);
        self.save_user(&ctx, &me.tenant, &before, after, "user.identifier_removed")
            .await
    }
}
