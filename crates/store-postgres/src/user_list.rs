//! `list_users`: every filter of [`UserQuery`] as bound parameters, keyset pagination over
//! `(sort key, id)` in both orders, served by the `(tenant_id, <sort>, id)` indexes.
//!
//! Cursor keys: `created_at` / `updated_at` as RFC 3339 UTC with six fractional digits,
//! `username` as the case-folded key (`''` for users without a username, who sort first in
//! ascending order; byte order, collation "C").

use crate::codec::{cursor_id, cursor_time, fetch_limit, into_page, page_limit, parse_cursor_time};
use crate::error::store_error;
use crate::users::{USER_SELECT, UserRow};
use sqlx::{PgConnection, Postgres, QueryBuilder};
use tessera_domain::TenantId;
use tessera_domain::identifiers::Username;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::paging::{Cursor, Page, SortOrder};
use tessera_domain::ports::{StoreError, UserQuery, UserSort};
use tessera_domain::user::User;

/// Runs in the caller's tenant transaction.
pub(crate) async fn list_users(
    conn: &mut PgConnection,
    tenant: TenantId,
    query: &UserQuery,
) -> Result<Page<User>, StoreError> {
    let limit = page_limit(query.limit);
    let tenant = tenant.into_uuid();
    let mut sql = QueryBuilder::<Postgres>::new(USER_SELECT);
    sql.push(" WHERE u.tenant_id = ").push_bind(tenant);
    if let Some(email) = &query.email {
        sql.push(" AND u.id IN (SELECT e.user_id FROM user_emails e WHERE e.tenant_id = ")
            .push_bind(tenant)
            .push(" AND e.email_key = ")
            .push_bind(email.clone())
            .push(")");
    }
    if let Some(phone) = &query.phone {
        sql.push(" AND u.id IN (SELECT p.user_id FROM user_phones p WHERE p.tenant_id = ")
            .push_bind(tenant)
            .push(" AND p.phone = ")
            .push_bind(phone.as_str().to_owned())
            .push(")");
    }
    if let Some(username) = &query.username {
        // '' is how "no username" is stored: an empty filter matches nobody.
        sql.push(" AND u.username_key <> '' AND u.username_key = ")
            .push_bind(username.clone());
    }
    match query.state {
        Some(state) => {
            sql.push(" AND u.state = ").push_bind(state.as_str());
        }
        None => {
            sql.push(" AND u.state <> ")
                .push_bind(LifecycleState::Deleted.as_str());
        }
    }
    if let Some(kind) = query.kind {
        sql.push(" AND u.kind = ").push_bind(kind.as_str());
    }
    if let Some(unit) = query.org_unit_id {
        sql.push(" AND u.org_unit_id = ")
            .push_bind(unit.into_uuid());
    }
    let column = match query.sort {
        UserSort::CreatedAt => "u.created_at",
        UserSort::UpdatedAt => "u.updated_at",
        UserSort::Username => "u.username_key",
    };
    let (cmp, dir) = match query.order {
        SortOrder::Asc => (">", "ASC"),
        SortOrder::Desc => ("<", "DESC"),
    };
    if let Some(after) = &query.after {
        sql.push(format_args!(" AND ({column}, u.id) {cmp} ("));
        match query.sort {
            UserSort::CreatedAt | UserSort::UpdatedAt => {
                sql.push_bind(parse_cursor_time(&after.key)?);
            }
            UserSort::Username => {
                sql.push_bind(after.key.clone());
            }
        }
        sql.push(", ").push_bind(cursor_id(&after.id)?).push(")");
    }
    sql.push(format_args!(" ORDER BY {column} {dir}, u.id {dir} LIMIT "))
        .push_bind(fetch_limit(limit));

    let rows: Vec<UserRow> = sql
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
    let users = rows
        .into_iter()
        .map(UserRow::into_user)
        .collect::<Result<Vec<_>, _>>()?;
    let sort = query.sort;
    into_page(users, limit, |user| cursor_of(sort, user))
}

/// Where a page that ends with `user` resumes.
fn cursor_of(sort: UserSort, user: &User) -> Result<Cursor, StoreError> {
    let key = match sort {
        UserSort::CreatedAt => cursor_time(user.created_at)?,
        UserSort::UpdatedAt => cursor_time(user.updated_at)?,
        UserSort::Username => user.username.as_ref().map_or("", Username::key).to_owned(),
    };
    Ok(Cursor {
        key,
        id: user.id.to_string(),
    })
}
