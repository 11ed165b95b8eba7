//! The bulk path for creating users: every column travels as one array and each table gets
//! one `INSERT ... SELECT FROM UNNEST(...)` (users, emails, phones), then the journal is
//! appended to the chain in the same transaction (one head lock, one multi-row insert). The
//! statements' text does not depend on the batch size, so they are prepared once per
//! connection. Imported passwords follow in one more statement.

use crate::audit::append_journal;
use crate::codec::{position, to_json};
use crate::credentials::insert_passwords;
use crate::error::{store_error, unexpected};
use crate::pool::{PostgresStore, commit};
use sqlx::PgConnection;
use std::collections::HashSet;
use tessera_domain::TenantId;
use tessera_domain::credential::PasswordCredential;
use tessera_domain::identifiers::Username;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::ports::{Journal, StoreError};
use tessera_domain::profile::{Locale, PictureUrl, ZoneInfo};
use tessera_domain::user::User;
use tessera_domain::{OrgUnitId, UserId};
use uuid::Uuid;

/// Inserts `users` (all of one tenant) and the `passwords` of some of them, and appends
/// `journal`, all or nothing. A password of a user not in `users` is `NotFound`.
pub(crate) async fn insert_users(
    store: &PostgresStore,
    users: &[User],
    passwords: &[PasswordCredential],
    journal: &Journal,
) -> Result<(), StoreError> {
    let in_batch: HashSet<(TenantId, UserId)> = users.iter().map(|u| (u.tenant_id, u.id)).collect();
    if passwords
        .iter()
        .any(|p| !in_batch.contains(&(p.tenant_id, p.user_id)))
    {
        return Err(StoreError::NotFound);
    }
    let first = users
        .first()
        .map(|u| u.tenant_id)
        .or_else(|| journal.events.first().map(|e| e.tenant_id));
    let Some(tenant) = first else {
        return Ok(());
    };
    if users.iter().any(|u| u.tenant_id != tenant) {
        return Err(unexpected("a bulk insert takes the users of one tenant"));
    }
    if let Some(duplicate) = repeated_identifier(users) {
        return Err(duplicate);
    }
    let mut tx = store.tenant_tx(tenant).await?;
    match insert_rows(&mut tx, tenant, users).await {
        Ok(()) => {}
        Err(StoreError::Duplicate { field, value: None }) => {
            // The failed transaction is aborted: end it, then find out (best effort, in a
            // transaction of its own) which value was taken, for the caller's message.
            let _ = tx.rollback().await;
            let value = taken(store, tenant, field, users).await.unwrap_or(None);
            return Err(StoreError::Duplicate { field, value });
        }
        Err(e) => return Err(e),
    }
    insert_passwords(&mut tx, tenant, passwords).await?;
    append_journal(&mut tx, journal, Some(tenant)).await?;
    commit(tx).await
}

fn duplicate(field: &'static str, value: &str) -> StoreError {
    StoreError::Duplicate {
        field,
        value: Some(value.to_owned()),
    }
}

/// The first identifier that appears a second time within the batch (compared on its
/// normalised key), as that second occurrence writes it.
fn repeated_identifier(users: &[User]) -> Option<StoreError> {
    let mut usernames = HashSet::new();
    let mut emails = HashSet::new();
    let mut phones = HashSet::new();
    for user in users {
        if let Some(name) = &user.username
            && !usernames.insert(name.key())
        {
            return Some(duplicate("username", name.as_str()));
        }
        for email in &user.emails {
            if !emails.insert(email.address.key()) {
                return Some(duplicate("email", email.address.as_str()));
            }
        }
        for phone in &user.phones {
            if !phones.insert(phone.number.as_str()) {
                return Some(duplicate("phone", phone.number.as_str()));
            }
        }
    }
    None
}

/// Which identifier of the batch (as written in the batch) is already used in the tenant.
async fn taken(
    store: &PostgresStore,
    tenant: TenantId,
    field: &'static str,
    users: &[User],
) -> Result<Option<String>, StoreError> {
    // (key, as written) pairs of the batch for the field.
    let pairs: Vec<(&str, &str)> = match field {
        "username" => users
            .iter()
            .filter_map(|u| u.username.as_ref().map(|n| (n.key(), n.as_str())))
            .collect(),
        "email" => users
            .iter()
            .flat_map(|u| {
                u.emails
                    .iter()
                    .map(|e| (e.address.key(), e.address.as_str()))
            })
            .collect(),
        "phone" => users
            .iter()
            .flat_map(|u| {
                u.phones
                    .iter()
                    .map(|p| (p.number.as_str(), p.number.as_str()))
            })
            .collect(),
        _ => return Ok(None),
    };
    let sql = match field {
        "username" => {
            "SELECT username_key FROM users WHERE tenant_id = $1 AND username_key = ANY($2) LIMIT 1"
        }
        "email" => {
            "SELECT email_key FROM user_emails WHERE tenant_id = $1 AND email_key = ANY($2) LIMIT 1"
        }
        _ => "SELECT phone FROM user_phones WHERE tenant_id = $1 AND phone = ANY($2) LIMIT 1",
    };
    let keys: Vec<&str> = pairs.iter().map(|(key, _)| *key).collect();
    let mut tx = store.tenant_tx(tenant).await?;
    let found: Option<String> = sqlx::query_scalar(sql)
        .bind(tenant.as_uuid())
        .bind(keys)
        .fetch_optional(&mut *tx)
        .await
        .map_err(store_error)?;
    commit(tx).await?;
    Ok(found.and_then(|key| {
        pairs
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, written)| (*written).to_owned())
    }))
}

/// The user rows, then the email rows, then the phone rows, one statement each.
async fn insert_rows(
    conn: &mut PgConnection,
    tenant: TenantId,
    users: &[User],
) -> Result<(), StoreError> {
    let opt = |f: for<'b> fn(&'b User) -> Option<&'b str>| -> Vec<Option<&str>> {
        users.iter().map(f).collect()
    };
    let json = |f: fn(&User) -> Result<String, StoreError>| -> Result<Vec<String>, StoreError> {
        users.iter().map(f).collect()
    };
    sqlx::query(
        "INSERT INTO users (tenant_id, id, kind, username, username_key, given_name, \
         family_name, birthday, locale, zoneinfo, picture, custom_attributes, settings, state, \
         state_before_delete, org_unit_id, created_at, updated_at, version) \
         SELECT $1, * FROM UNNEST($2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], \
         $7::text[], $8::date[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], \
         $14::text[], $15::text[], $16::uuid[], $17::timestamptz[], $18::timestamptz[], \
         $19::int8[])",
    )
    .bind(tenant.as_uuid())
    .bind(users.iter().map(|u| u.id.into_uuid()).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.kind.as_str()).collect::<Vec<_>>())
    .bind(opt(|u| u.username.as_ref().map(Username::as_str)))
    // '' stands for "no username": see the migration.
    .bind(
        users
            .iter()
            .map(|u| u.username.as_ref().map_or("", Username::key))
            .collect::<Vec<_>>(),
    )
    .bind(opt(|u| u.profile.given_name.as_deref()))
    .bind(opt(|u| u.profile.family_name.as_deref()))
    .bind(users.iter().map(|u| u.profile.birthday).collect::<Vec<_>>())
    .bind(opt(|u| u.profile.locale.as_ref().map(Locale::as_str)))
    .bind(opt(|u| u.profile.zoneinfo.as_ref().map(ZoneInfo::as_str)))
    .bind(opt(|u| u.profile.picture.as_ref().map(PictureUrl::as_str)))
    .bind(json(|u| to_json(&u.custom_attributes))?)
    .bind(json(|u| to_json(&u.settings))?)
    .bind(users.iter().map(|u| u.state.as_str()).collect::<Vec<_>>())
    .bind(opt(|u| u.state_before_delete.map(LifecycleState::as_str)))
    .bind(
        users
            .iter()
            .map(|u| u.org_unit_id.map(OrgUnitId::into_uuid))
            .collect::<Vec<_>>(),
    )
    .bind(users.iter().map(|u| u.created_at).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.updated_at).collect::<Vec<_>>())
    .bind(users.iter().map(|u| u.version).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    insert_emails(conn, tenant, users).await?;
    insert_phones(conn, tenant, users).await
}

/// The entries of a per-user list, with their owner and position, as columns.
struct Owned<'a, T> {
    user_ids: Vec<Uuid>,
    positions: Vec<i32>,
    entries: Vec<&'a T>,
}

/// Every entry of a per-user list, in order.
fn owners<T>(users: &[User], list: fn(&User) -> &[T]) -> Result<Owned<'_, T>, StoreError> {
    let mut ids = Vec::new();
    let mut positions = Vec::new();
    let mut entries = Vec::new();
    for user in users {
        for (i, entry) in list(user).iter().enumerate() {
            ids.push(UserId::into_uuid(user.id));
            positions.push(position(i)?);
            entries.push(entry);
        }
    }
    Ok(Owned {
        user_ids: ids,
        positions,
        entries,
    })
}

async fn insert_emails(
    conn: &mut PgConnection,
    tenant: TenantId,
    users: &[User],
) -> Result<(), StoreError> {
    let Owned {
        user_ids: ids,
        positions,
        entries: emails,
    } = owners(users, |u| &u.emails)?;
    if emails.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO user_emails (tenant_id, user_id, position, address, email_key, verified, \
         is_primary) SELECT $1, * FROM UNNEST($2::uuid[], $3::int4[], $4::text[], $5::text[], \
         $6::bool[], $7::bool[])",
    )
    .bind(tenant.as_uuid())
    .bind(ids)
    .bind(positions)
    .bind(
        emails
            .iter()
            .map(|e| e.address.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(emails.iter().map(|e| e.address.key()).collect::<Vec<_>>())
    .bind(emails.iter().map(|e| e.verified).collect::<Vec<_>>())
    .bind(emails.iter().map(|e| e.primary).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}

async fn insert_phones(
    conn: &mut PgConnection,
    tenant: TenantId,
    users: &[User],
) -> Result<(), StoreError> {
    let Owned {
        user_ids: ids,
        positions,
        entries: phones,
    } = owners(users, |u| &u.phones)?;
    if phones.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO user_phones (tenant_id, user_id, position, phone, verified, is_primary) \
         SELECT $1, * FROM UNNEST($2::uuid[], $3::int4[], $4::text[], $5::bool[], $6::bool[])",
    )
    .bind(tenant.as_uuid())
    .bind(ids)
    .bind(positions)
    .bind(phones.iter().map(|p| p.number.as_str()).collect::<Vec<_>>())
    .bind(phones.iter().map(|p| p.verified).collect::<Vec<_>>())
    .bind(phones.iter().map(|p| p.primary).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(())
}
