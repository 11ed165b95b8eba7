//! Users and their identifiers: one row per user, one row per email and per phone (unique per
//! tenant on their normalised form), read back in a single query.

use crate::audit::append_journal;
use crate::codec::{from_json, parse, position, to_json, variant};
use crate::error::{duplicate_of, store_error};
use crate::pool::{PostgresStore, commit};
use crate::sessions::revoke_all_of_user;
use async_trait::async_trait;
use sqlx::PgConnection;
use tessera_domain::identifiers::{Email, PhoneNumber, Username};
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::paging::Page;
use tessera_domain::ports::{Journal, StoreError, UserQuery, UserStore};
use tessera_domain::profile::{Locale, PictureUrl, Profile, ZoneInfo};
use tessera_domain::user::{EmailEntry, PhoneEntry, User, UserKind};
use tessera_domain::{OrgUnitId, TenantId, UserId};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// Selects a user with its emails and phones (JSON arrays of `[value, verified, primary]` in
/// position order, as text). Callers append the `WHERE` clause on `u`.
pub(crate) const USER_SELECT: &str = "SELECT u.tenant_id, u.id, u.kind, u.username, \
    u.given_name, u.family_name, u.birthday, u.locale, u.zoneinfo, u.picture, \
    u.custom_attributes, u.settings, u.state, u.state_before_delete, u.org_unit_id, \
    u.created_at, u.updated_at, u.version, \
    COALESCE((SELECT json_agg(json_build_array(e.address, e.verified, e.is_primary) \
                              ORDER BY e.position) \
              FROM user_emails e WHERE e.tenant_id = u.tenant_id AND e.user_id = u.id)::text, \
             '[]') AS emails, \
    COALESCE((SELECT json_agg(json_build_array(p.phone, p.verified, p.is_primary) \
                              ORDER BY p.position) \
              FROM user_phones p WHERE p.tenant_id = u.tenant_id AND p.user_id = u.id)::text, \
             '[]') AS phones \
    FROM users u";

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    tenant_id: Uuid,
    id: Uuid,
    kind: String,
    username: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    birthday: Option<Date>,
    locale: Option<String>,
    zoneinfo: Option<String>,
    picture: Option<String>,
    custom_attributes: String,
    settings: String,
    state: String,
    state_before_delete: Option<String>,
    org_unit_id: Option<Uuid>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
    version: i64,
    emails: String,
    phones: String,
}

impl UserRow {
    pub(crate) fn into_user(self) -> Result<User, StoreError> {
        let emails: Vec<(String, bool, bool)> = from_json("user emails", &self.emails)?;
        let phones: Vec<(String, bool, bool)> = from_json("user phones", &self.phones)?;
        Ok(User {
            id: UserId::from_uuid(self.id),
            tenant_id: TenantId::from_uuid(self.tenant_id),
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
                        verified,
                        primary,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            phones: phones
                .into_iter()
                .map(|(number, verified, primary)| {
                    Ok(PhoneEntry {
                        number: parse("phone", &number, PhoneNumber::parse)?,
                        verified,
                        primary,
                    })
                })
                .collect::<Result<_, StoreError>>()?,
            profile: Profile {
                given_name: self.given_name,
                family_name: self.family_name,
                birthday: self.birthday,
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
            org_unit_id: self.org_unit_id.map(OrgUnitId::from_uuid),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        })
    }
}

/// Inserts the user row and its identifiers. `Duplicate` names the identifier already taken.
pub(crate) async fn insert_user_rows(
    conn: &mut PgConnection,
    user: &User,
) -> Result<(), StoreError> {
    let username = user.username.as_ref().map(Username::as_str);
    let p = &user.profile;
    sqlx::query(
        "INSERT INTO users (tenant_id, id, kind, username, username_key, given_name, \
         family_name, birthday, locale, zoneinfo, picture, custom_attributes, settings, state, \
         state_before_delete, org_unit_id, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
         $18, $19)",
    )
    .bind(user.tenant_id.as_uuid())
    .bind(user.id.as_uuid())
    .bind(user.kind.as_str())
    .bind(username)
    // '' stands for "no username": see the migration.
    .bind(user.username.as_ref().map_or("", Username::key))
    .bind(p.given_name.as_deref())
    .bind(p.family_name.as_deref())
    .bind(p.birthday)
    .bind(p.locale.as_ref().map(Locale::as_str))
    .bind(p.zoneinfo.as_ref().map(ZoneInfo::as_str))
    .bind(p.picture.as_ref().map(PictureUrl::as_str))
    .bind(to_json(&user.custom_attributes)?)
    .bind(to_json(&user.settings)?)
    .bind(user.state.as_str())
    .bind(user.state_before_delete.map(LifecycleState::as_str))
    .bind(user.org_unit_id.map(OrgUnitId::into_uuid))
    .bind(user.created_at)
    .bind(user.updated_at)
    .bind(user.version)
    .execute(&mut *conn)
    .await
    .map_err(duplicate_of("username", username.unwrap_or_default()))?;
    insert_identifiers(conn, user).await
}

async fn insert_identifiers(conn: &mut PgConnection, user: &User) -> Result<(), StoreError> {
    for (i, email) in user.emails.iter().enumerate() {
        sqlx::query(
            "INSERT INTO user_emails (tenant_id, user_id, position, address, email_key, \
             verified, is_primary) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(user.tenant_id.as_uuid())
        .bind(user.id.as_uuid())
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
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user.tenant_id.as_uuid())
        .bind(user.id.as_uuid())
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

async fn delete_rows_of_user(
    conn: &mut PgConnection,
    tables: &[&str],
    tenant: TenantId,
    user: UserId,
) -> Result<(), StoreError> {
    for table in tables {
        // Table names come from this module's constants, never from input.
        let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND user_id = $2");
        sqlx::query(&sql)
            .bind(tenant.as_uuid())
            .bind(user.as_uuid())
            .execute(&mut *conn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

const IDENTIFIER_TABLES: &[&str] = &["user_emails", "user_phones"];
/// Everything erase removes with the user (refresh tokens go with their families first).
const USER_OWNED_TABLES: &[&str] = &[
    "user_emails",
    "user_phones",
    "org_unit_assignments",
    "setup_tokens",
    "passwords",
    "one_time_codes",
    "refresh_families",
    "sessions",
    "totp_factors",
    "backup_codes",
    "passkeys",
    "challenges",
    "devices",
    "known_networks",
    "role_assignments",
    "template_grants",
];

#[async_trait]
impl UserStore for PostgresStore {
    async fn insert_user(&self, user: &User, journal: &Journal) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(user.tenant_id).await?;
        insert_user_rows(&mut tx, user).await?;
        append_journal(&mut tx, journal, Some(user.tenant_id)).await?;
        commit(tx).await
    }

    async fn insert_users(&self, users: &[User], journal: &Journal) -> Result<(), StoreError> {
        crate::user_bulk::insert_users(self, users, &[], journal).await
    }

    async fn user(&self, tenant: TenantId, id: UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("{USER_SELECT} WHERE u.tenant_id = $1 AND u.id = $2");
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        row.map(UserRow::into_user).transpose()
    }

    async fn user_by_email(
        &self,
        tenant: TenantId,
        email_key: &str,
    ) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "{USER_SELECT} WHERE u.tenant_id = $1 AND u.id = \
             (SELECT e.user_id FROM user_emails e WHERE e.tenant_id = $1 AND e.email_key = $2)"
        );
        let mut tx = self.tenant_tx(tenant).await?;
        let row: Option<UserRow> = sqlx::query_as(&sql)
            .bind(tenant.as_uuid())
            .bind(email_key)
            .fetch_optional(&mut *tx)
            .await
            .map_err(store_error)?;
        commit(tx).await?;
        row.map(UserRow::into_user).transpose()
    }

    async fn list_users(
        &self,
        tenant: TenantId,
        query: &UserQuery,
    ) -> Result<Page<User>, StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        let page = crate::user_list::list_users(&mut tx, tenant, query).await?;
        commit(tx).await?;
        Ok(page)
    }

    async fn update_user(
        &self,
        user: &User,
        expected_version: i64,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let username = user.username.as_ref().map(Username::as_str);
        let p = &user.profile;
        let mut tx = self.tenant_tx(user.tenant_id).await?;
        let done = sqlx::query(
            "UPDATE users SET kind = $1, username = $2, username_key = $3, given_name = $4, \
             family_name = $5, birthday = $6, locale = $7, zoneinfo = $8, picture = $9, \
             custom_attributes = $10, settings = $11, state = $12, state_before_delete = $13, \
             org_unit_id = $14, updated_at = $15, version = $16 \
             WHERE tenant_id = $17 AND id = $18 AND version = $19",
        )
        .bind(user.kind.as_str())
        .bind(username)
        .bind(user.username.as_ref().map_or("", Username::key))
        .bind(p.given_name.as_deref())
        .bind(p.family_name.as_deref())
        .bind(p.birthday)
        .bind(p.locale.as_ref().map(Locale::as_str))
        .bind(p.zoneinfo.as_ref().map(ZoneInfo::as_str))
        .bind(p.picture.as_ref().map(PictureUrl::as_str))
        .bind(to_json(&user.custom_attributes)?)
        .bind(to_json(&user.settings)?)
        .bind(user.state.as_str())
        .bind(user.state_before_delete.map(LifecycleState::as_str))
        .bind(user.org_unit_id.map(OrgUnitId::into_uuid))
        .bind(user.updated_at)
        .bind(user.version)
        .bind(user.tenant_id.as_uuid())
        .bind(user.id.as_uuid())
        .bind(expected_version)
        .execute(&mut *tx)
        .await
        .map_err(duplicate_of("username", username.unwrap_or_default()))?;
        if done.rows_affected() == 0 {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT version FROM users WHERE tenant_id = $1 AND id = $2")
                    .bind(user.tenant_id.as_uuid())
                    .bind(user.id.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_error)?;
            return Err(if exists.is_some() {
                StoreError::Conflict
            } else {
                StoreError::NotFound
            });
        }
        delete_rows_of_user(&mut tx, IDENTIFIER_TABLES, user.tenant_id, user.id).await?;
        insert_identifiers(&mut tx, user).await?;
        if matches!(
            user.state,
            LifecycleState::Suspended | LifecycleState::Deactivated | LifecycleState::Deleted
        ) {
            revoke_all_of_user(&mut tx, user.tenant_id, user.id, user.updated_at).await?;
        }
        append_journal(&mut tx, journal, Some(user.tenant_id)).await?;
        commit(tx).await
    }

    async fn erase_user(
        &self,
        tenant: TenantId,
        id: UserId,
        journal: &Journal,
    ) -> Result<(), StoreError> {
        let mut tx = self.tenant_tx(tenant).await?;
        sqlx::query(
            "DELETE FROM refresh_tokens WHERE tenant_id = $1 AND family_id IN \
             (SELECT id FROM refresh_families WHERE tenant_id = $1 AND user_id = $2)",
        )
        .bind(tenant.as_uuid())
        .bind(id.as_uuid())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        delete_rows_of_user(&mut tx, USER_OWNED_TABLES, tenant, id).await?;
        let done = sqlx::query("DELETE FROM users WHERE tenant_id = $1 AND id = $2")
            .bind(tenant.as_uuid())
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_journal(&mut tx, journal, Some(tenant)).await?;
        commit(tx).await
    }
}
