//! Migration 0004 replaces `user_roles` by scoped `role_assignments`: the roles granted
//! before it apply to the whole tenant afterwards.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use sqlx::migrate::Migrator;
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::path::Path;
use tessera_domain::authz::{AccessScope, RoleRef};
use tessera_domain::ports::AuthzStore;
use tessera_domain::role::SystemRole;
use tessera_store_contract::fixtures::{create_tenant, create_user};
use tessera_store_sqlite::SqliteStore;

/// Applies the migrations before `0004` only (copied to a directory of their own).
async fn migrate_before_authz(database: &Path, scratch: &Path) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.as_str() < "0004" {
            std::fs::copy(&path, scratch.join(&name)).unwrap();
        }
    }
    let migrator = Migrator::new(scratch).await.unwrap();
    let mut conn = SqliteConnectOptions::new()
        .filename(database)
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    migrator.run(&mut conn).await.unwrap();
    conn.close().await.unwrap();
}

#[tokio::test]
async fn system_roles_granted_before_scopes_apply_to_the_tenant() {
    let dir = tempfile::tempdir().unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let database = dir.path().join("tessera.db");
    migrate_before_authz(&database, scratch.path()).await;

    // Written through the store on the old schema, roles through its old table.
    let store = SqliteStore::open(&database).unwrap();
    let t = create_tenant(&store).await;
    let user = create_user(&store, t.id).await;
    let mut conn = SqliteConnectOptions::new()
        .filename(&database)
        .connect()
        .await
        .unwrap();
    for (role, at) in [
        ("admin", 1_790_000_000_000_000_i64),
        ("cashier", 1_790_000_001_000_000),
    ] {
        sqlx::query(
            "INSERT INTO user_roles (tenant_id, user_id, role, granted_at) VALUES (?, ?, ?, ?)",
        )
        .bind(t.id.to_string())
        .bind(user.id.to_string())
        .bind(role)
        .bind(at)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    store.migrate().await.unwrap();
    let roles = store.user_roles(t.id, user.id).await.unwrap();
    assert_eq!(
        roles
            .iter()
            .map(|a| (
                a.role.clone(),
                a.scope.clone(),
                a.granted_at.unix_timestamp()
            ))
            .collect::<Vec<_>>(),
        vec![
            (
                RoleRef::System(SystemRole::Admin),
                AccessScope::Tenant,
                1_790_000_000
            ),
            (
                RoleRef::System(SystemRole::Cashier),
                AccessScope::Tenant,
                1_790_000_001
            ),
        ]
    );
    // The old table is gone.
    let mut conn = SqliteConnectOptions::new()
        .filename(&database)
        .connect()
        .await
        .unwrap();
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sqlite_master WHERE name = 'user_roles'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(left, 0);
}
