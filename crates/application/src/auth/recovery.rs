//! Forgotten password: request a code for a verified email or phone → verify it (which
//! returns a single-use reset ticket) → set a new password with the ticket. Every step
//! answers the same whether or not the identifier has an account; a reset never signs the
//! user in and ends every session.

use super::codes::Identifier;
use crate::app::App;
use crate::context::RequestContext;
use crate::error::Error;
use tessera_domain::code::CodePurpose;
use tessera_domain::credential::Password;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::{Journal, MessageKind, SessionSelector};
use tessera_domain::tenant::Tenant;
use tessera_domain::{UserId, ValidationError};
use time::Duration;

/// How long a reset ticket is good for.
const TICKET_TTL: Duration = Duration::minutes(15);

fn invalid_ticket() -> Error {
    Error::invalid(ValidationError::new(
        "ticket",
        "invalid_ticket",
        "this reset link has expired or was already used; start the recovery again",
    ))
}

fn parse_ticket(raw: &str) -> Result<(UserId, &str), Error> {
    let (user, secret) = raw.split_once('.').ok_or_else(invalid_ticket)?;
    let user: UserId = user.parse().map_err(|_| invalid_ticket())?;
    if secret.len() != 43 {
        return Err(invalid_ticket());
    }
    Ok((user, secret))
}

fn ticket_target(user: UserId) -> String {
    format!("user:{user}")
}

impl App {
    /// Step 1: sends a recovery code to the identifier if it is a verified email or phone of
    /// an account that may recover. Always answers `Ok`.
    pub async fn request_recovery(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
    ) -> Result<(), Error> {
        let tenant = self.active_tenant(slug).await?;
        let Ok(identifier) = Identifier::parse(identifier) else {
            return Ok(());
        };
        if matches!(identifier, Identifier::Username(_)) {
            return Ok(());
        }
        let user = self.user_holding(&tenant, &identifier).await?;
        let Some(user) = user.filter(|u| {
            identifier.is_verified_for(u)
                && matches!(
                    u.state,
                    LifecycleState::Active | LifecycleState::PasswordResetRequired
                )
        }) else {
            return Ok(());
        };
        let journal = Journal::one(self.draft(
            ctx,
            &tenant,
            "auth.recovery_requested",
            ("user", user.id.to_string()),
            vec![],
        ));
        self.send_code(
            &tenant,
            user.id,
            CodePurpose::RecoverPassword,
            &identifier,
            journal,
        )
        .await
    }

    /// Step 2: checks the code and returns a reset ticket (single use, 15 minutes).
    pub async fn verify_recovery(
        &self,
        ctx: &RequestContext,
        slug: &str,
        identifier: &str,
        code: &str,
    ) -> Result<String, Error> {
        let tenant = self.active_tenant(slug).await?;
        let identifier = Identifier::parse(identifier)?;
        let record = self
            .consume_code(
                &tenant,
                CodePurpose::RecoverPassword,
                &identifier.target(),
                code,
            )
            .await?;
        let secret = self.new_secret(32);
        let target = ticket_target(record.user_id);
        let (mut ticket, _) =
            self.new_code(&tenant, record.user_id, CodePurpose::ResetTicket, &target);
        ticket.code_hash = self.hash_code(CodePurpose::ResetTicket, &target, &secret);
        ticket.expires_at = ticket.created_at + TICKET_TTL;
        ticket.max_attempts = 1;
        let journal = Journal::one(self.draft(
            ctx,
            &tenant,
            "auth.recovery_verified",
            ("user", record.user_id.to_string()),
            vec![],
        ));
        self.store()
            .insert_code(&ticket, &journal)
            .await
            .map_err(crate::error::store_err("code"))?;
        Ok(format!("{}.{secret}", record.user_id))
    }

    /// Step 3: sets the new password with the ticket. Every session of the user ends; the
    /// user is not signed in. A user who had to change their password becomes active.
    pub async fn reset_password(
        &self,
        ctx: &RequestContext,
        slug: &str,
        ticket: &str,
        new: &str,
    ) -> Result<(), Error> {
        let tenant: Tenant = self.active_tenant(slug).await?;
        let (user_id, secret) = parse_ticket(ticket)?;
        let new = Password::parse(new)?;
        // Check the password before using the ticket up, so that a refused password can be
        // corrected without starting over.
        let user = self
            .store()
            .user(tenant.id, user_id)
            .await
            .map_err(crate::error::store_err("user"))?
            .ok_or_else(invalid_ticket)?;
        let cred = self.password_of(&tenant, user.id).await?;
        self.check_new_password(&tenant, &user, &new, cred.as_ref())
            .await?;
        self.consume_code(
            &tenant,
            CodePurpose::ResetTicket,
            &ticket_target(user_id),
            secret,
        )
        .await
        .map_err(|_| invalid_ticket())?;
        let hash = self.hash_password(&new).await?;
        self.store_new_password(
            ctx,
            &tenant,
            &user,
            cred.as_ref(),
            hash,
            Some(SessionSelector::All),
            "credential.password_recovered",
        )
        .await?;
        if user.state == LifecycleState::PasswordResetRequired {
            let mut after = user.clone();
            after.state = LifecycleState::Active;
            self.save_user(ctx, &tenant, &user, after, "user.state_changed")
                .await?;
        }
        self.notify_user(&tenant, &user, MessageKind::PasswordChanged)
            .await;
        Ok(())
    }
}
