//! Customers: records linked to an organization unit (merchant), created without credentials,
//! promotable to full users. A customer is a user of kind `customer`, so promotion keeps the
//! same id and with it the whole history.

use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use crate::users::NewUser;
use tessera_domain::api_key::Scope;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::paging::Page;
use tessera_domain::ports::UserQuery;
use tessera_domain::user::{User, UserKind};
use tessera_domain::{OrgUnitId, UserId, ValidationError};

/// A customer to create: identifiers and profile as for a user (none required), optionally
/// linked to a unit.
#[derive(Clone, Debug, Default)]
pub struct NewCustomer {
    pub details: NewUser,
    pub org_unit_id: Option<OrgUnitId>,
}

impl App {
    pub async fn create_customer(
        &self,
        ctx: &RequestContext,
        slug: &str,
        new: NewCustomer,
    ) -> Result<User, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "customer.created")
            .await?;
        if let Some(unit) = new.org_unit_id {
            self.store()
                .unit(tenant.id, unit)
                .await
                .map_err(store_err("organization unit"))?
                .ok_or(Error::NotFound("organization unit"))?;
        }
        if new.details.initial_state.is_some() {
            return Err(Error::invalid(ValidationError::new(
                "state",
                "invalid_initial_state",
                "customers always start in state created",
            )));
        }
        let mut details = new.details;
        details.initial_state = Some(LifecycleState::Created);
        let customer =
            self.new_user_record(&tenant, UserKind::Customer, details, new.org_unit_id)?;
        let journal = self.journal(
            ctx,
            &tenant,
            "customer.created",
            ("user", customer.id.to_string()),
            None,
            Some(&customer),
        );
        self.store()
            .insert_user(&customer, &journal)
            .await
            .map_err(store_err("customer"))?;
        Ok(customer)
    }

    pub async fn list_customers(
        &self,
        ctx: &RequestContext,
        slug: &str,
        mut query: UserQuery,
    ) -> Result<Page<User>, Error> {
        query.kind = Some(UserKind::Customer);
        self.list_users(ctx, slug, query).await
    }

    pub async fn get_customer(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
    ) -> Result<User, Error> {
        let user = self.get_user(ctx, slug, id).await?;
        if user.kind != UserKind::Customer {
            return Err(Error::NotFound("customer"));
        }
        Ok(user)
    }

    /// Turns a customer into a full user with the same id: active when an identifier is
    /// verified, unverified otherwise. The customer needs at least one identifier.
    pub async fn promote_customer(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
    ) -> Result<User, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "customer.promoted")
            .await?;
        let before = self.load_user(&tenant, id).await?;
        if before.kind != UserKind::Customer {
            return Err(Error::Conflict {
                code: "not_a_customer",
                message: "this record is already a full user".to_owned(),
            });
        }
        if before.state == LifecycleState::Deleted {
            return Err(Error::Conflict {
                code: "user_deleted",
                message: "the customer is deleted; restore it first".to_owned(),
            });
        }
        if before.username.is_none() && before.emails.is_empty() && before.phones.is_empty() {
            return Err(Error::invalid(ValidationError::new(
                "username",
                "identifier_required",
                "give the customer a username, an email address or a phone number before promoting",
            )));
        }
        let mut after = before.clone();
        after.kind = UserKind::User;
        if before.state == LifecycleState::Created {
            after.state = if before.has_verified_identifier() {
                LifecycleState::Active
            } else {
                LifecycleState::Unverified
            };
        }
        self.save_user(ctx, &tenant, &before, after, "customer.promoted")
            .await
    }
}
