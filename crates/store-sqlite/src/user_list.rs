//! `list_users`: every filter of [`UserQuery`] as bound parameters, keyset pagination over
//! `(sort key, id)` in both orders.
//!
//! The data-scope filter (`within`) is the caller's own record plus everyone attached to a
//! unit in the subtrees of its units (assigned employees, linked customers); the subtrees
//! come from a recursive CTE (`scope`) put in front of the select.
//!
//! Cursor keys: `created_at` / `updated_at` as RFC 3339 UTC with six fractional digits,
//! `username` as the case-folded key (`''` for users without a username, who sort first in
//! ascending order).

use crate::codec::{
    cursor_id, cursor_time, fetch_limit, into_page, micros, page_limit, parse_cursor_time,
};
use crate::error::store_error;
use crate::users::{USER_SELECT, UserRow};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};
use tessera_domain::TenantId;
use tessera_domain::authz::Within;
use tessera_domain::identifiers::Username;
use tessera_domain::lifecycle::LifecycleState;
use tessera_domain::paging::{Cursor, Page, SortOrder};
use tessera_domain::ports::{StoreError, UserQuery, UserSort};
use tessera_domain::user::User;

pub(crate) async fn list_users(
    pool: &SqlitePool,
    tenant: TenantId,
    query: &UserQuery,
) -> Result<Page<User>, StoreError> {
    let limit = page_limit(query.limit);
    let tenant = tenant.to_string();
    let mut sql = QueryBuilder::<Sqlite>::new("");
    if let Some(within) = query.within.as_ref().filter(|w| !w.units.is_empty()) {
        push_scope_cte(&mut sql, &tenant, within);
    }
    sql.push(USER_SELECT);
    sql.push(" WHERE u.tenant_id = ").push_bind(tenant.clone());
    if let Some(within) = &query.within {
        push_within(&mut sql, &tenant, within);
    }
    if let Some(email) = &query.email {
        sql.push(" AND u.id IN (SELECT e.user_id FROM user_emails e WHERE e.tenant_id = ")
            .push_bind(tenant.clone())
            .push(" AND e.email_key = ")
            .push_bind(email.clone())
            .push(")");
    }
    if let Some(phone) = &query.phone {
        sql.push(" AND u.id IN (SELECT p.user_id FROM user_phones p WHERE p.tenant_id = ")
            .push_bind(tenant.clone())
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
            .push_bind(unit.to_string());
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
                sql.push_bind(micros(parse_cursor_time(&after.key)?)?);
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
        .fetch_all(pool)
        .await
        .map_err(store_error)?;
    let users = rows
        .into_iter()
        .map(UserRow::into_user)
        .collect::<Result<Vec<_>, _>>()?;
    let sort = query.sort;
    into_page(users, limit, |user| cursor_of(sort, user))
}

/// `WITH RECURSIVE scope(id)`: the units of `within` in the tenant and all their
/// descendants (UNION also ends on a cycle). Only pushed when `within.units` is non-empty.
fn push_scope_cte(sql: &mut QueryBuilder<'_, Sqlite>, tenant: &str, within: &Within) {
    sql.push("WITH RECURSIVE scope(id) AS (SELECT o.id FROM org_units o WHERE o.tenant_id = ")
        .push_bind(tenant.to_owned())
        .push(" AND o.id IN (");
    let mut ids = sql.separated(", ");
    for unit in &within.units {
        ids.push_bind(unit.to_string());
    }
    sql.push(
        ") UNION SELECT c.id FROM org_units c JOIN scope s ON c.parent_id = s.id \
             WHERE c.tenant_id = ",
    )
    .push_bind(tenant.to_owned())
    .push(") ");
}

/// ` AND (…)`: the user of `within`, or anyone assigned to or linked to a unit of `scope`
/// (see [`push_scope_cte`]). An empty `within` matches nobody.
fn push_within(sql: &mut QueryBuilder<'_, Sqlite>, tenant: &str, within: &Within) {
    sql.push(" AND (");
    let mut any = false;
    if let Some(user) = within.user {
        sql.push("u.id = ").push_bind(user.to_string());
        any = true;
    }
    if !within.units.is_empty() {
        if any {
            sql.push(" OR ");
        }
        sql.push("u.id IN (SELECT a.user_id FROM org_unit_assignments a WHERE a.tenant_id = ")
            .push_bind(tenant.to_owned())
            .push(" AND a.unit_id IN (SELECT id FROM scope))")
            .push(" OR u.org_unit_id IN (SELECT id FROM scope)");
        any = true;
    }
    if !any {
        sql.push("1 = 0");
    }
    sql.push(")");
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
