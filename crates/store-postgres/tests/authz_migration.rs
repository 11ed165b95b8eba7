//! Migration 0004 replaces `user_roles` by scoped `role_assignments`: the roles granted
//! before it apply to the whole tenant afterwards. Skipped, with a line saying so, when
//! `TESSERA_TEST_DATABASE_URL` is not set.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection};
use std::path::{Path, PathBuf};
use tessera_domain::authz::{AccessScope, RoleRef};
use tessera_domain::ports::AuthzStore;
use tessera_domain::role::SystemRole;
use tessera_domain::{TenantId, UserId};
use tessera_store_contract::fixtures::{at, fresh_uuid};
use tessera_store_postgres::PostgresStore;
use tessera_store_postgres::testing::TestDatabase;

/// The migrations before `0004`, copied to a directory of their own.
fn migrations_before_authz() -> PathBuf {
    let scratch = std::env::temp_dir().join(format!("tessera-migrations-{}", fresh_uuid()));
    std::fs::create_dir_all(&scratch).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0004" {
            std::fs::copy(&path, scratch.join(&name)).unwrap();
        }
    }
    scratch
}

/// A tenant with one user holding `admin` and `cashier` in the old table, written as the
/// owner with the tenant set (row-level security is forced).
async fn old_rows(conn: &mut PgConnection) -> (TenantId, UserId) {
    let (org, t, u) = (fresh_uuid(), fresh_uuid(), fresh_uuid());
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('tessera.tenant_id', $1, true)")
        .bind(t.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let statements = [
        "INSERT INTO organizations (id, name, created_at) VALUES ($1, 'Org', $4)",
        "INSERT INTO tenants (id, organization_id, slug, display_name, state, settings, \
         created_at, updated_at, version) \
         VALUES ($2, $1, 't-' || left($2::text, 8), 'T', 'active', '{}', $4, $4, 1)",
        "INSERT INTO users (tenant_id, id, kind, custom_attributes, settings, state, \
         created_at, updated_at, version) VALUES ($2, $3, 'user', '{}', '{}', 'active', $4, $4, 1)",
        "INSERT INTO user_roles (tenant_id, user_id, role, granted_at) \
         VALUES ($2, $3, 'cashier', $4), ($2, $3, 'admin', $4)",
    ];
    for sql in statements {
        sqlx::query(sql)
            .bind(org)
            .bind(t)
            .bind(u)
            .bind(at(0))
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    (TenantId::from_uuid(t), UserId::from_uuid(u))
}

#[tokio::test]
async fn system_roles_granted_before_scopes_apply_to_the_tenant() {
    let Some(db) =
        TestDatabase::from_env("system_roles_granted_before_scopes_apply_to_the_tenant").await
    else {
        return;
    };
    let scratch = migrations_before_authz();
    let mut conn = PgConnection::connect(&db.admin_url).await.unwrap();
    Migrator::new(scratch.as_path())
        .await
        .unwrap()
        .run(&mut conn)
        .await
        .unwrap();
    std::fs::remove_dir_all(&scratch).unwrap();
    let (t, u) = old_rows(&mut conn).await;

    PostgresStore::migrate(&db.settings()).await.unwrap();
    let store = PostgresStore::connect(&db.settings()).await.unwrap();
    let roles = store.user_roles(t, u).await.unwrap();
    assert_eq!(
        roles
            .iter()
            .map(|a| (a.role.clone(), a.scope.clone(), a.granted_at))
            .collect::<Vec<_>>(),
        vec![
            (
                RoleRef::System(SystemRole::Admin),
                AccessScope::Tenant,
                at(0)
            ),
            (
                RoleRef::System(SystemRole::Cashier),
                AccessScope::Tenant,
                at(0)
            ),
        ]
    );
    let left: Option<String> = sqlx::query_scalar("SELECT to_regclass('user_roles')::text")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(left, None);
    conn.close().await.unwrap();
}
