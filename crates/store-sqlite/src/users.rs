//! Users and their identifiers: one row per user, one row per email and per phone (unique per
//! tenant on their normalised form), read back in a single query.

use crate::audit::append_journal;
use crate::codec::{
    format_date, from_json, from_micros, id, micros, opt_id, parse, parse_date, position, to_json,
    variant,
};
use crate::error::{duplicate_of, store_error};
use crate::pool::{SqliteStore, commit};
use crate::sessions::revoke_everything;
use async_trait::async_trait;
use sqlx::SqliteConnection;
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::paging::Page;
use tessera_domain::ports::{Journal, StoreError, UserQuery, UserStore};
use tessera_domain::profile::{Locale, PictureUrl, Profile, ZoneInfo};
use tessera_domain::user::{EmailEntry, PhoneEntry, User, UserKind};
use tessera_domain::{TenantId, UserId};

/// Selects a user with its emails and phones (JSON arrays of `[value, verified, primary]` in
/// position order). Callers append the `WHERE` clause on `u`.
pub(crate) const USER_SELECT: &str = "SELECT u.tenant_id, u.id, u.kind, u.username, \
    u.given_name, u.family_name, u.birthday, u.locale, u.zoneinfo, u.picture, \
    u.custom_attributes, u.settings, u.state, u.state_before_delete, u.org_unit_id, \
    u.created_at, u.updated_at, u.version, \
    (SELECT json_group_array(json_array(e.address, e.verified, e.is_primary) ORDER BY e.position) \
       FROM user_emails e WHERE e.tenant_id = u.tenant_id AND e.user_id = u.id) AS emails, \
    (SELECT json_group_array(json_array(p.phone, p.verified, p.is_primary) ORDER BY p.position) \
       FROM user_phones p WHERE p.tenant_id = u.tenant_id AND p.user_id = u.id) AS phones \
    FROM users u";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    tenant_id: String,
    id: String,
    kind: String,
    username: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    birthday: Option<String>,
    locale: Option<String>,
    zoneinfo: Option<String>,
    picture: Option<String>,
    custom_attributes: String,
    settings: String,
    state: String,
    state_before_delete: Option<String>,
    org_unit_id: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
    emails: String,
    phones: String,
}

impl UserRow {
    pub(crate) fn into_user(self) -> Result<User, StoreError> {
        let emails: Vec<(String, i64, i64)> = from_json("user emails", &self.emails)?;
        let phones: Vec<(String, i64, i64)> = from_json("user phones", &self.phones)?;
        Ok(User {
            id: id(&self.id)?,
            tenant_id: id(&self.tenant_id)?,
            kind: variant("user kind", &self.kind, UserKind::parse)?,
            username: self
                .username
                .map(|u| parse("username", &u, Username::parse))
                .transpose()?,
            emails: emails
                .into_iter()
                .map(|(address, verified, primary)| {
                    Ok(EmailEntry {
                        address: parse("email", &address, Email::parse)?,
                        verified: verified != 0,
                        primary: primary != 0,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            phones: phones
                .into_iter()
                .map(|(number, verified, primary)| {
                    Ok(PhoneEntry {
                        number: parse("phone", &number, PhoneNumber::parse)?,
                        verified: verified != 0,
                        primary: primary != 0,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            profile: Profile {
                given_name: self.given_name,
                family_name: self.family_name,
                birthday: self.birthday.as_deref().map(parse_date).transpose()?,
                locale: self
                    .locale
                    .map(|l| parse("locale", &l, Locale::parse))
                    .transpose()?,
                zoneinfo: self
                    .zoneinfo
                    .map(|z| parse("zoneinfo", &z, ZoneInfo::parse))
                    .transpose()?,
                picture: self
                    .picture
                    .map(|p| parse("picture", &p, PictureUrl::parse))
                    .transpose()?,
            },
            custom_attributes: from_json("custom attributes", &self.custom_attributes)?,
            settings: from_json("user settings", &self.settings)?,
            state: variant("user state", &self.state, LifecycleState::parse)?,
            state_before_delete: self
                .state_before_delete
                .map(|s| variant("user state", &s, LifecycleState::parse))
                .transpose()?,
            org_unit_id: opt_id(self.org_unit_id.as_deref())?,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
            version: self.version,
        })
    }
}

/// The column values of a user row.
struct UserValues<'a> {
    username: Option<&'a str>,
    username_key: &'a str,
    birthday: Option<String>,
    custom_attributes: String,
    settings: String,
    org_unit_id: Option<String>,
    updated_at: i64,
}

impl<'a> UserValues<'a> {
    fn of(user: &'a User) -> Result<Self, StoreError> {
        Ok(Self {
            username: user.username.as_ref().map(Username::as_str),
            // '' stands for "no username": see the migration.
            username_key: user.username.as_ref().map_or("", Username::key),
            birthday: user.profile.birthday.map(format_date).transpose()?,
            custom_attributes: to_json(&user.custom_attributes)?,
            settings: to_json(&user.settings)?,
            org_unit_id: user.org_unit_id.map(|u| u.to_string()),
            updated_at: micros(user.updated_at)?,
        })
    }
}

/// Inserts the user row and its identifiers. `Duplicate` names the identifier already taken.
pub(crate) async fn insert_user_rows(
    conn: &mut SqliteConnection,
    user: &User,
) -> Result<(), StoreError> {
    let v = UserValues::of(user)?;
    let p = &user.profile;
    sqlx::query(
        "INSERT INTO users (tenant_id, id, kind, username, username_key, given_name, \
         family_name, birthday, locale, zoneinfo, picture, custom_attributes, settings, state, \
         state_before_delete, org_unit_id, created_at, updated_at, version) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(user.tenant_id.to_string())
    .bind(user.id.to_string())
    .bind(user.kind.as_str())
    .bind(v.username)
    .bind(v.username_key)
    .bind(p.given_name.as_deref())
    .bind(p.family_name.as_deref())
    .bind(v.birthday)
    .bind(p.locale.as_ref().map(Locale::as_str))
    .bind(p.zoneinfo.as_ref().map(ZoneInfo::as_str))
    .bind(p.picture.as_ref().map(PictureUrl::as_str))
    .bind(v.custom_attributes)
    .bind(v.settings)
    .bind(user.state.as_str())
    .bind(user.state_before_delete.map(LifecycleState::as_str))
    .bind(v.org_unit_id)
    .bind(micros(user.created_at)?)
    .bind(v.updated_at)
    .bind(user.version)
    .execute(&mut *conn)
    .await
    .map_err(duplicate_of("username", v.username.unwrap_or_default()))?;
    insert_identifiers(conn, user).await
}

async fn insert_identifiers(conn: &mut SqliteConnection, user: &User) -> Result<(), StoreError> {
    let (tenant, id) = (user.tenant_id.to_string(), user.id.to_string());
    for (i, email) in user.emails.iter().enumerate() {
        sqlx::query(
            "INSERT INTO user_emails (tenant_id, user_id, position, address, email_key, \
             verified, is_primary) VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&tenant)
        .bind(&id)
        .bind(position(i)?)
        .bind(email.address.as_str())
        .bind(email.address.key())
        .bind(email.verified)
        .bind(email.primary)
        .execute(&mut *conn)
        .await
        .map_err(duplicate_of("email", email.address.as_str()))?;
    }
    for (i, phone) in user.phones.iter().enumerate() {
        sqlx::query(
            "INSERT INTO user_phones (tenant_id, user_id, position, phone, verified, is_primary) \
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&tenant)
        .bind(&id)
        .bind(position(i)?)
        .bind(phone.number.as_str())
        .bind(phone.verified)
        .bind(phone.primary)
        .execute(&mut *conn)
        .await
        .map_err(duplicate_of("phone", phone.number.as_str()))?;
    }
    Ok(())
}

async fn delete_identifiers(
    conn: &mut SqliteConnection,
    tenant: &str,
    user: &str,
) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM user_emails WHERE tenant_id = ? AND user_id = ?",
        "DELETE FROM user_phones WHERE tenant_id = ? AND user_id = ?",
    ] {
        sqlx::query(sql)
            .bind(tenant)
            .bind(user)
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// A bulk insert takes the users of one tenant (`Unexpected` otherwise).
pub(crate) fn one_tenant(users: &[User]) -> Result<(), StoreError> {
    match users.first() {
        Some(first) if users.iter().any(|u| u.tenant_id != first.tenant_id) => Err(
            crate::error::unexpected("a bulk insert takes the users of one tenant"),
        ),
        _ => Ok(()),
    }
}

/// Whether a user entering this state loses every session and refresh token.
fn ends_sessions(state: LifecycleState) -> bool {
    matches!(
        state,
        LifecycleState::Suspended | LifecycleState::Deactivated | LifecycleState::Deleted
    )
}

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_user(&self, user: &User, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        insert_user_rows(&mut tx, user).await?;
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    /// One `BEGIN IMMEDIATE` transaction; the rows go through the same prepared statements
    /// as `insert_user`, in a loop (an identifier repeated within the batch meets the unique
    /// index like one taken before).
    async fn insert_users(&self, users: &[User], journal: &Journal) -> Result<(), StoreError> {
        one_tenant(users)?;
        let mut tx = self.write().await?;
        for user in users {
            insert_user_rows(&mut tx, user).await?;
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("{USER_SELECT} WHERE u.tenant_id = ? AND u.id = ?");
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(UserRow::into_user).transpose()
    }

    async fn user_by_email(
        &self,
        tenant: TenantId,
        email_key: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "{USER_SELECT} WHERE u.tenant_id = ?1 AND u.id = \
             (SELECT e.user_id FROM user_emails e WHERE e.tenant_id = ?1 AND e.email_key = ?2)"
        );
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(tenant.to_string())
            .bind(email_key)
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(UserRow::into_user).transpose()
    }

    async fn list_users(
        &self,
        tenant: TenantId,
        query: &UserQuery,
    ) -> Result<Page<User>, StoreError> {
        crate::user_list::list_users(self.pool(), tenant, query).await
    }

    async fn update_user(
        &self,
        user: &User,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let (tenant, id) = (user.tenant_id.to_string(), user.id.to_string());
        let v = UserValues::of(user)?;
        let p = &user.profile;
        let mut tx = self.write().await?;
        let done = sqlx::query(
            "UPDATE users SET kind = ?, username = ?, username_key = ?, given_name = ?, \
             family_name = ?, birthday = ?, locale = ?, zoneinfo = ?, picture = ?, \
             custom_attributes = ?, settings = ?, state = ?, state_before_delete = ?, \
             org_unit_id = ?, updated_at = ?, version = ? \
             WHERE tenant_id = ? AND id = ? AND version = ?",
        )
        .bind(user.kind.as_str())
        .bind(v.username)
        .bind(v.username_key)
        .bind(p.given_name.as_deref())
        .bind(p.family_name.as_deref())
        .bind(v.birthday)
        .bind(p.locale.as_ref().map(Locale::as_str))
        .bind(p.zoneinfo.as_ref().map(ZoneInfo::as_str))
        .bind(p.picture.as_ref().map(PictureUrl::as_str))
        .bind(v.custom_attributes)
        .bind(v.settings)
        .bind(user.state.as_str())
        .bind(user.state_before_delete.map(LifecycleState::as_str))
        .bind(v.org_unit_id)
        .bind(v.updated_at)
        .bind(user.version)
        .bind(&tenant)
        .bind(&id)
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_of("username", v.username.unwrap_or_default()))?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT version FROM users WHERE tenant_id = ? AND id = ?")
                    .bind(&tenant)
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
            return Err(if exists.is_some() {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            });
        }
        delete_identifiers(&mut tx, &tenant, &id).await?;
        insert_identifiers(&mut tx, user).await?;
        if ends_sessions(user.state) {
            // Revoked at the instant of the change.
            revoke_everything(&mut tx, &tenant, &id, v.updated_at).await?;
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }

    async fn erase_user(
        &self,
        tenant: TenantId,
        id: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let (tenant, id) = (tenant.to_string(), id.to_string());
        let mut tx = self.write().await?;
        delete_identifiers(&mut tx, &tenant, &id).await?;
        // Children first: refresh tokens belong to families, families to sessions.
        for sql in [
            "DELETE FROM setup_tokens WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM org_unit_assignments WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM refresh_tokens WHERE tenant_id = ?1 AND family_id IN \
             (SELECT id FROM refresh_families WHERE tenant_id = ?1 AND user_id = ?2)",
            "DELETE FROM refresh_families WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM sessions WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM one_time_codes WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM passwords WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM totp_factors WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM backup_codes WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM passkeys WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM challenges WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM devices WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM known_networks WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM role_assignments WHERE tenant_id = ? AND user_id = ?",
            "DELETE FROM template_grants WHERE tenant_id = ? AND user_id = ?",
        ] {
            sqlx::query(sql)
                .bind(&tenant)
                .bind(&id)
                .execute(&mut *tx)
                .await
                .map_err(store_error)?;
        }
        let done = sqlx::query("DELETE FROM users WHERE tenant_id = ? AND id = ?")
            .bind(&tenant)
            .bind(&id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal).await?;
        commit(tx).await
    }
}
