//! Use cases on users: create, read, list, update, lifecycle transitions, soft delete,
//! restore, erase, settings.

use crate::app::App;
use crate::context::RequestContext;
use crate::error::{Error, store_err};
use serde_json::{Map, Value};
use tessera_domain::api_key::Scope;
use tessera_domain::identifiers::Username;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::paging::Page;
use tessera_domain::ports::UserQuery;
use tessera_domain::profile::{Locale, PictureUrl, Profile, ZoneInfo};
use tessera_domain::settings::UserSettings;
use tessera_domain::tenant::Tenant;
use tessera_domain::user::{
    EmailEntry, PhoneEntry, User, UserKind, validate_emails, validate_phones,
};
use tessera_domain::{OrgUnitId, UserId, ValidationError};
use time::Date;

/// A user to create (already parsed into domain values by the interface).
#[derive(Clone, Debug, Default)]
pub struct NewUser {
    pub username: Option<Username>,
    pub emails: Vec<EmailEntry>,
    pub phones: Vec<PhoneEntry>,
    pub profile: Profile,
    pub custom_attributes: Map<String, Value>,
    /// `created`, `unverified`, `active` or `password_reset_required`; by default `active`
    /// when an identifier is verified, `unverified` otherwise.
    pub initial_state: Option<LifecycleState>,
}

/// Changes to a user; `None` leaves a field as it is, `Some(None)` clears it. Lists
/// (emails, phones) and custom attributes are replaced as a whole.
#[derive(Clone, Debug, Default)]
pub struct UserPatch {
    pub username: Option<Option<Username>>,
    pub emails: Option<Vec<EmailEntry>>,
    pub phones: Option<Vec<PhoneEntry>>,
    pub given_name: Option<Option<String>>,
    pub family_name: Option<Option<String>>,
    pub birthday: Option<Option<Date>>,
    pub locale: Option<Option<Locale>>,
    pub zoneinfo: Option<Option<ZoneInfo>>,
    pub picture: Option<Option<PictureUrl>>,
    pub custom_attributes: Option<Map<String, Value>>,
}

/// A partial settings object merged into the current settings (unknown keys refused).
#[derive(Clone, Debug, Default)]
pub struct SettingsPatch(pub Map<String, Value>);

const INITIAL_STATES: [LifecycleState; 4] = [
    LifecycleState::Created,
    LifecycleState::Unverified,
    LifecycleState::Active,
    LifecycleState::PasswordResetRequired,
];

/// Validates custom attributes against the tenant's JSON Schema, when it has one.
pub(crate) fn check_custom_attributes(
    tenant: &Tenant,
    attrs: &Map<String, Value>,
) -> Result<(), Error> {
    let Some(schema) = &tenant.settings.custom_attributes_schema else {
        return Ok(());
    };
    let validator = jsonschema::validator_for(schema)
        .map_err(|e| Error::Unexpected(anyhow::anyhow!("stored schema does not compile: {e}")))?;
    let instance = Value::Object(attrs.clone());
    let errors: Vec<ValidationError> = validator
        .iter_errors(&instance)
        .map(|e| {
            let path = e.instance_path.to_string();
            ValidationError::new(
                format!("custom_attributes{}", path.replace('/', ".")),
                "schema_violation",
                e.to_string(),
            )
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Invalid(errors))
    }
}

fn check_identifiers(user: &mut User) -> Result<(), Error> {
    validate_emails(&mut user.emails)?;
    validate_phones(&mut user.phones)?;
    if user.kind == UserKind::User
        && user.username.is_none()
        && user.emails.is_empty()
        && user.phones.is_empty()
    {
        return Err(Error::invalid(ValidationError::new(
            "username",
            "identifier_required",
            "a user needs a username, an email address or a phone number",
        )));
    }
    Ok(())
}

impl App {
    /// Builds a new user record of `kind` with the tenant's default settings.
    pub(crate) fn new_user_record(
        &self,
        tenant: &Tenant,
        kind: UserKind,
        new: NewUser,
        org_unit_id: Option<OrgUnitId>,
    ) -> Result<User, Error> {
        let now = self.now();
        let mut user = User {
            id: UserId::from_uuid(self.ports.random.new_id()),
            tenant_id: tenant.id,
            kind,
            username: new.username,
            emails: new.emails,
            phones: new.phones,
            profile: new.profile,
            custom_attributes: new.custom_attributes,
            settings: tenant.settings.default_user_settings.clone(),
            state: LifecycleState::Created,
            state_before_delete: None,
            org_unit_id,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        check_identifiers(&mut user)?;
        check_custom_attributes(tenant, &user.custom_attributes)?;
        user.state = match new.initial_state {
            Some(s) if INITIAL_STATES.contains(&s) => s,
            Some(s) => {
                return Err(Error::invalid(ValidationError::new(
                    "state",
                    "invalid_initial_state",
                    format!(
                        "a new user cannot start in state {s}; use created, unverified, active or password_reset_required"
                    ),
                )));
            }
            None if user.has_verified_identifier() => LifecycleState::Active,
            None => LifecycleState::Unverified,
        };
        Ok(user)
    }

    pub async fn create_user(
        &self,
        ctx: &RequestContext,
        slug: &str,
        new: NewUser,
    ) -> Result<User, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "user.created")
            .await?;
        let user = self.new_user_record(&tenant, UserKind::User, new, None)?;
        let journal = self.journal(
            ctx,
            &tenant,
            "user.created",
            ("user", user.id.to_string()),
            None,
            Some(&user),
        );
        self.store()
            .insert_user(&user, &journal)
            .await
            .map_err(store_err("user"))?;
        Ok(user)
    }

    /// The most users [`create_users_bulk`](Self::create_users_bulk) takes in one call.
    pub const MAX_BULK_USERS: usize = 1000;

    /// Creates up to [`MAX_BULK_USERS`](Self::MAX_BULK_USERS) users at once, all or nothing,
    /// with one `user.created` event each. Every item is validated like `create_user`; the
    /// errors of all items are reported together, their fields prefixed with the item's
    /// index (`users[3].emails[0].address`). `Duplicate` when an identifier is taken or
    /// repeated within the batch; nothing is written then.
    pub async fn create_users_bulk(
        &self,
        ctx: &RequestContext,
        slug: &str,
        news: Vec<NewUser>,
    ) -> Result<Vec<User>, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "user.created")
            .await?;
        if news.is_empty() || news.len() > Self::MAX_BULK_USERS {
            return Err(Error::invalid(ValidationError::new(
                "users",
                "invalid_batch_size",
                format!(
                    "send between 1 and {} users per call (got {})",
                    Self::MAX_BULK_USERS,
                    news.len()
                ),
            )));
        }
        let mut users = Vec::with_capacity(news.len());
        let mut errors = Vec::new();
        for (i, new) in news.into_iter().enumerate() {
            match self.new_user_record(&tenant, UserKind::User, new, None) {
                Ok(user) => users.push(user),
                Err(Error::Invalid(found)) => errors.extend(found.into_iter().map(|e| {
                    let field = format!("users[{i}].{}", e.field);
                    e.at(field)
                })),
                Err(other) => return Err(other),
            }
        }
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let mask = tenant.settings.mask_pii_in_audit;
        let journal = tessera_domain::ports::Journal {
            events: users
                .iter()
                .map(|user| {
                    let changes = crate::changes::diff(None, Some(user), mask);
                    self.draft(
                        ctx,
                        &tenant,
                        "user.created",
                        ("user", user.id.to_string()),
                        changes,
                    )
                })
                .collect(),
            authz_changed: false,
        };
        self.store()
            .insert_users(&users, &journal)
            .await
            .map_err(store_err("user"))?;
        Ok(users)
    }

    pub(crate) async fn load_user(&self, tenant: &Tenant, id: UserId) -> Result<User, Error> {
        self.store()
            .user(tenant.id, id)
            .await
            .map_err(store_err("user"))?
            .ok_or(Error::NotFound("user"))
    }

    pub async fn get_user(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
    ) -> Result<User, Error> {
        let scoped = self
            .authorize_scoped(ctx, slug, Scope::UsersRead, "user.read")
            .await?;
        let user = self.load_user(&scoped.tenant, id).await?;
        self.require_user_in_scope(&scoped, &user).await?;
        Ok(user)
    }

    pub async fn list_users(
        &self,
        ctx: &RequestContext,
        slug: &str,
        mut query: UserQuery,
    ) -> Result<Page<User>, Error> {
        // A caller holding `users:read` only within some units (or for themself) lists only
        // the users there.
        let scoped = self
            .authorize_scoped(ctx, slug, Scope::UsersRead, "user.listed")
            .await?;
        query.within = scoped.within();
        self.store()
            .list_users(scoped.tenant.id, &query)
            .await
            .map_err(store_err("user"))
    }

    /// Writes `after` over `before` with its audit event.
    pub(crate) async fn save_user(
        &self,
        ctx: &RequestContext,
        tenant: &Tenant,
        before: &User,
        mut after: User,
        action: &str,
    ) -> Result<User, Error> {
        after.updated_at = self.now();
        after.version = before.version + 1;
        let mut journal = self.journal(
            ctx,
            tenant,
            action,
            ("user", after.id.to_string()),
            Some(before),
            Some(&after),
        );
        // The state gates every decision: compiled graphs carry it.
        let state_changed = after.state != before.state;
        journal.authz_changed = state_changed;
        self.store()
            .update_user(&after, before.version, &journal)
            .await
            .map_err(store_err("user"))?;
        if state_changed {
            self.authz_changed(tenant.id).await;
        }
        Ok(after)
    }

    fn check_version(user: &User, if_match: Option<i64>) -> Result<(), Error> {
        match if_match {
            Some(v) if v != user.version => Err(Error::Conflict {
                code: "precondition_failed",
                message: format!("the user is at version {}, not {v}", user.version),
            }),
            _ => Ok(()),
        }
    }

    fn refuse_if_deleted(user: &User) -> Result<(), Error> {
        if user.state == LifecycleState::Deleted {
            return Err(Error::Conflict {
                code: "user_deleted",
                message: "the user is deleted; restore it before changing it".to_owned(),
            });
        }
        Ok(())
    }

    pub async fn update_user(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
        patch: UserPatch,
        if_match: Option<i64>,
    ) -> Result<User, Error> {
        let scoped = self
            .authorize_scoped(ctx, slug, Scope::UsersWrite, "user.updated")
            .await?;
        let tenant = scoped.tenant.clone();
        let before = self.load_user(&tenant, id).await?;
        self.require_user_in_scope(&scoped, &before).await?;
        Self::check_version(&before, if_match)?;
        Self::refuse_if_deleted(&before)?;
        let mut after = before.clone();
        if let Some(v) = patch.username {
            after.username = v;
        }
        if let Some(v) = patch.emails {
            after.emails = v;
        }
        if let Some(v) = patch.phones {
            after.phones = v;
        }
        if let Some(v) = patch.given_name {
            after.profile.given_name = v;
        }
        if let Some(v) = patch.family_name {
            after.profile.family_name = v;
        }
        if let Some(v) = patch.birthday {
            after.profile.birthday = v;
        }
        if let Some(v) = patch.locale {
            after.profile.locale = v;
        }
        if let Some(v) = patch.zoneinfo {
            after.profile.zoneinfo = v;
        }
        if let Some(v) = patch.picture {
            after.profile.picture = v;
        }
        if let Some(v) = patch.custom_attributes {
            check_custom_attributes(&tenant, &v)?;
            after.custom_attributes = v;
        }
        check_identifiers(&mut after)?;
        if after == before {
            return Ok(before);
        }
        self.save_user(ctx, &tenant, &before, after, "user.updated")
            .await
    }

    /// Moves a user to another lifecycle state (409 with the allowed moves when illegal).
    pub async fn transition_user(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
        to: LifecycleState,
    ) -> Result<User, Error> {
        let scoped = self
            .authorize_scoped(ctx, slug, Scope::UsersWrite, "user.state_changed")
            .await?;
        let tenant = scoped.tenant.clone();
        let before = self.load_user(&tenant, id).await?;
        self.require_user_in_scope(&scoped, &before).await?;
        let state = before
            .state
            .transition(to)
            .map_err(|e| Error::IllegalTransition {
                from: e.from,
                to: e.to,
                allowed: e.from.allowed_transitions().to_vec(),
            })?;
        let mut after = before.clone();
        after.state = state;
        let action = if state == LifecycleState::Deleted {
            after.state_before_delete = Some(before.state);
            "user.deleted"
        } else {
            "user.state_changed"
        };
        self.save_user(ctx, &tenant, &before, after, action).await
    }

    /// Brings a soft-deleted user back to the state they had before deletion.
    pub async fn restore_user(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
    ) -> Result<User, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "user.restored")
            .await?;
        let before = self.load_user(&tenant, id).await?;
        if before.state != LifecycleState::Deleted {
            return Err(Error::Conflict {
                code: "not_deleted",
                message: format!(
                    "only deleted users are restored; this user is {}",
                    before.state
                ),
            });
        }
        let mut after = before.clone();
        after.state = before
            .state_before_delete
            .unwrap_or(LifecycleState::Deactivated);
        after.state_before_delete = None;
        self.save_user(ctx, &tenant, &before, after, "user.restored")
            .await
    }

    /// Purges a soft-deleted user for good (identifiers are freed). The erase event records
    /// which fields went, never their values; earlier events keep what they recorded.
    pub async fn erase_user(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
    ) -> Result<(), Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "user.erased")
            .await?;
        let before = self.load_user(&tenant, id).await?;
        if before.state != LifecycleState::Deleted {
            return Err(Error::Conflict {
                code: "not_deleted",
                message: "a user is erased only after being deleted (DELETE the user first)"
                    .to_owned(),
            });
        }
        // Erasure must not copy personal data into the trail: record only which fields went.
        let mut draft = self.draft(
            ctx,
            &tenant,
            "user.erased",
            ("user", id.to_string()),
            vec![],
        );
        draft.changes = crate::changes::diff(Some(&before), None::<&User>, true);
        let journal = tessera_domain::ports::Journal::one(draft).changing_authz();
        self.store()
            .erase_user(tenant.id, id, &journal)
            .await
            .map_err(store_err("user"))?;
        self.authz_changed(tenant.id).await;
        Ok(())
    }

    pub async fn user_settings(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
    ) -> Result<UserSettings, Error> {
        Ok(self.get_user(ctx, slug, id).await?.settings)
    }

    pub async fn update_user_settings(
        &self,
        ctx: &RequestContext,
        slug: &str,
        id: UserId,
        patch: SettingsPatch,
    ) -> Result<UserSettings, Error> {
        let tenant = self
            .authorize(ctx, slug, Scope::UsersWrite, "user.settings_updated")
            .await?;
        let before = self.load_user(&tenant, id).await?;
        Self::refuse_if_deleted(&before)?;
        let mut merged = match serde_json::to_value(&before.settings) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        merged.extend(patch.0);
        let settings: UserSettings =
            serde_json::from_value(Value::Object(merged)).map_err(|e| {
                Error::invalid(ValidationError::new(
                    "settings",
                    "invalid_settings",
                    e.to_string(),
                ))
            })?;
        let mut after = before.clone();
        after.settings = settings;
        if after == before {
            return Ok(before.settings);
        }
        Ok(self
            .save_user(ctx, &tenant, &before, after, "user.settings_updated")
            .await?
            .settings)
    }
}
