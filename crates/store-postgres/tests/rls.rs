//! Tenant isolation in the database itself: row-level security on every tenant table, an
//! application role that cannot bypass it, and a clear `Unavailable` when the server is down.
//! The database tests are skipped, with a line saying so, when `TESSERA_TEST_DATABASE_URL`
//! is not set.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use sqlx::{Connection, Executor, PgConnection, Row};
use std::time::Duration;
use tessera_domain::api_key::Scope;
use tessera_domain::authz::{AccessScope, GrantTarget};
use tessera_domain::code::{CodePurpose, OneTimeCode};
use tessera_domain::credential::PasswordCredential;
use tessera_domain::mfa::ChallengeKind;
use tessera_domain::org_unit::Assignment;
use tessera_domain::ports::{
    AuditStore, BootstrapSet, HealthProbe, Journal, SetupToken, Store, StoreError, TenantStore,
    UserQuery, UserStore,
};
use tessera_domain::role::SystemRole;
use tessera_domain::session::Session;
use tessera_domain::token::{RefreshFamily, SigningAlgorithm, SigningKey};
use tessera_domain::{CodeId, RefreshFamilyId, SessionId, TenantId, UserId};
use tessera_store_contract::authz_fixtures as authz;
use tessera_store_contract::fixtures::{self, at, fresh_uuid};
use tessera_store_postgres::testing::TestDatabase;
use tessera_store_postgres::{DEFAULT_APP_ROLE, PostgresSettings, PostgresStore};

/// A migrated database and the application store on it.
async fn setup(test: &str) -> Option<(TestDatabase, PostgresStore)> {
    let db = TestDatabase::from_env(test).await?;
    PostgresStore::migrate(&db.settings())
        .await
        .expect("migrate");
    let store = PostgresStore::connect(&db.settings())
        .await
        .expect("connect");
    Some((db, store))
}

async fn admin(db: &TestDatabase) -> PgConnection {
    PgConnection::connect(&db.admin_url)
        .await
        .expect("admin connection")
}

/// Every table of the schema with a `tenant_id` column, from the catalog (so that a table
/// added later is covered without touching this test).
async fn tenant_tables(conn: &mut PgConnection) -> Vec<(String, bool, bool)> {
    let rows = sqlx::query(
        "SELECT c.relname::text, c.relrowsecurity, c.relforcerowsecurity \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
           AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
                       AND a.attname = 'tenant_id' AND NOT a.attisdropped) \
         ORDER BY 1",
    )
    .fetch_all(conn)
    .await
    .unwrap();
    rows.iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect()
}

/// Fills every tenant table with rows of a new tenant (bootstrap writes the organization,
/// tenant, admin with identifiers, API key, setup token and audit chain; then a unit, an
/// assignment and the authentication rows).
async fn populate(store: &dyn Store) -> TenantId {
    let organization = fixtures::organization();
    let tenant = fixtures::tenant(organization.id);
    let admin = fixtures::full_user(tenant.id);
    let mut api_key = fixtures::api_key(tenant.id);
    api_key.scopes = vec![Scope::All];
    let setup_token = SetupToken {
        id: tessera_domain::SetupTokenId::from_uuid(fresh_uuid()),
        tenant_id: tenant.id,
        user_id: admin.id,
        token_hash: fresh_uuid().simple().to_string(),
        expires_at: at(3_600),
    };
    let t = tenant.id;
    let set = BootstrapSet {
        organization,
        tenant,
        admin: admin.clone(),
        api_key,
        setup_token,
    };
    store
        .bootstrap(&set, &fixtures::journal(t, "tenant.created", None))
        .await
        .unwrap();
    let unit = fixtures::unit(t, None, "Shop");
    store
        .insert_unit(&unit, &fixtures::journal(t, "org_unit.created", None))
        .await
        .unwrap();
    let assignment = Assignment {
        tenant_id: t,
        unit_id: unit.id,
        user_id: admin.id,
        created_at: at(5),
    };
    store
        .assign(&assignment, &Journal::default())
        .await
        .unwrap();
    populate_auth(store, t, admin.id).await;
    t
}

/// The authentication tables: a password, a session with its refresh family and token, a
/// one-time code and a signing key.
async fn populate_auth(store: &dyn Store, t: TenantId, user: UserId) {
    let password = PasswordCredential {
        tenant_id: t,
        user_id: user,
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned(),
        history: vec!["$2b$12$older".to_owned()],
        changed_at: at(20),
    };
    store
        .set_password(&password, None, None, at(20), &Journal::default())
        .await
        .unwrap();
    let session = Session {
        id: SessionId::from_uuid(fresh_uuid()),
        tenant_id: t,
        user_id: user,
        secret_hash: fresh_uuid().simple().to_string(),
        created_at: at(30),
        last_seen_at: at(30),
        expires_at: at(36_000),
        idle_timeout: time::Duration::minutes(30),
        ip: Some("192.0.2.1".to_owned()),
        user_agent: None,
        device: None,
        amr: vec!["pwd".to_owned()],
        auth_time: at(30),
        acr: tessera_domain::mfa::ACR_MFA.to_owned(),
        restriction: None,
        revoked_at: None,
    };
    let family = RefreshFamily {
        id: RefreshFamilyId::from_uuid(fresh_uuid()),
        tenant_id: t,
        user_id: user,
        session_id: Some(session.id),
        client_id: "console".to_owned(),
        scope: "openid".to_owned(),
        generation: 0,
        created_at: at(30),
        expires_at: at(86_400),
        revoked_at: None,
    };
    let token_hash = fresh_uuid().simple().to_string();
    store
        .create_session(
            &session,
            Some((&family, &token_hash)),
            10,
            &Journal::default(),
        )
        .await
        .unwrap();
    let code = OneTimeCode {
        id: CodeId::from_uuid(fresh_uuid()),
        tenant_id: t,
        user_id: user,
        purpose: CodePurpose::VerifyIdentifier,
        target: format!("email:{}@example.com", fixtures::tag()),
        code_hash: fresh_uuid().simple().to_string(),
        created_at: at(40),
        expires_at: at(640),
        attempts: 0,
        max_attempts: 5,
        consumed_at: None,
    };
    store.insert_code(&code, &Journal::default()).await.unwrap();
    let key = SigningKey {
        tenant_id: t,
        kid: fixtures::tag(),
        alg: SigningAlgorithm::ES256,
        public_jwk: serde_json::json!({ "kty": "EC", "crv": "P-256", "x": "x", "y": "y" }),
        private_sealed: vec![1, 2, 3],
        created_at: at(50),
        retired_at: None,
        publish_until: None,
    };
    store
        .add_signing_key(&key, None, &Journal::default())
        .await
        .unwrap();
    populate_mfa(store, t, user).await;
}

/// The second-factor tables: a TOTP factor, backup codes, a passkey, a challenge, a device, a
/// known network; then the authorization tables.
async fn populate_mfa(store: &dyn Store, t: TenantId, user: UserId) {
    let owner = store.user(t, user).await.unwrap().unwrap();
    let j = Journal::default();
    store
        .put_pending_totp(&fixtures::totp_factor(&owner, 60))
        .await
        .unwrap();
    store
        .replace_backup_codes(t, user, &[fixtures::hash()], at(60), &j)
        .await
        .unwrap();
    store
        .insert_passkey(&fixtures::passkey(&owner, 60), &j)
        .await
        .unwrap();
    store
        .insert_challenge(&fixtures::challenge(
            t,
            Some(&owner),
            ChallengeKind::PasskeyRegistration,
            60,
        ))
        .await
        .unwrap();
    store
        .insert_device(&fixtures::device(&owner, 60))
        .await
        .unwrap();
    store
        .record_network(t, user, "192.0.2.0/24", at(60))
        .await
        .unwrap();
    populate_authz(store, t, user).await;
}

/// The authorization tables: a custom role, a scoped assignment, a template granted to the
/// role and to the user, a resource type, a policy set, the epoch and a decision.
async fn populate_authz(store: &dyn Store, t: TenantId, user: UserId) {
    let j = || authz::authz_journal(t, "access.changed");
    let role = authz::custom_role(t, Some(authz::system(SystemRole::Employee)));
    store.insert_custom_role(&role, &j()).await.unwrap();
    let unit = fixtures::unit(t, None, "Team");
    store.insert_unit(&unit, &j()).await.unwrap();
    for (r, scope) in [
        (authz::system(SystemRole::Admin), AccessScope::Tenant),
        (authz::custom(&role), AccessScope::Unit(unit.id)),
    ] {
        store
            .grant_role(t, &authz::assignment(user, r, scope, 60), &j())
            .await
            .unwrap();
    }
    let template = authz::template(t);
    store.insert_template(&template, &j()).await.unwrap();
    for target in [
        GrantTarget::Role(authz::custom(&role)),
        GrantTarget::User(user),
    ] {
        store
            .grant_template(t, &authz::grant(&template, target, 61), &j())
            .await
            .unwrap();
    }
    store
        .put_resource_type(t, &authz::resource_type("orders"), &j())
        .await
        .unwrap();
    store
        .insert_policy_set(&authz::policy_set(t, 1), &j())
        .await
        .unwrap();
    store
        .record_decisions(&[authz::decision(t, 62, true)])
        .await
        .unwrap();
}

#[tokio::test]
async fn every_tenant_table_has_forced_row_level_security() {
    let Some((db, _store)) = setup("every_tenant_table_has_forced_row_level_security").await else {
        return;
    };
    let mut conn = admin(&db).await;
    let tables = tenant_tables(&mut conn).await;
    assert!(tables.len() >= 15, "tenant tables found: {tables:?}");
    for (table, enabled, forced) in &tables {
        assert!(enabled, "{table}: ROW LEVEL SECURITY is not enabled");
        assert!(forced, "{table}: ROW LEVEL SECURITY is not forced");
        let policies: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_policies WHERE schemaname = current_schema() \
             AND tablename = $1 AND policyname = 'tenant_isolation'",
        )
        .bind(table)
        .fetch_one(&mut conn)
        .await
        .unwrap();
        assert_eq!(policies, 1, "{table}: no tenant_isolation policy");
    }
    // The platform registry has no tenant column (and so no RLS).
    for registry in ["organizations", "tenants"] {
        assert!(tables.iter().all(|(t, _, _)| t != registry));
    }
}

#[tokio::test]
async fn the_application_role_sees_nothing_without_a_tenant_and_only_its_tenant_with_one() {
    let Some((db, store)) =
        setup("the_application_role_sees_nothing_without_a_tenant_and_only_its_tenant_with_one")
            .await
    else {
        return;
    };
    let a = populate(&store).await;
    let b = populate(&store).await;
    let mut conn = admin(&db).await;
    let tables = tenant_tables(&mut conn).await;

    // As the owner (superuser here): every table holds rows of both tenants. Keep one row of
    // tenant B per table to try to smuggle in later.
    let mut rows_of_b = Vec::new();
    for (table, _, _) in &tables {
        for tenant in [a, b] {
            let sql = format!("SELECT count(*) FROM {table} WHERE tenant_id = $1");
            let n: i64 = sqlx::query_scalar(&sql)
                .bind(tenant.as_uuid())
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert!(
                n > 0,
                "{table} has no row of {tenant}: populate() must fill every table"
            );
        }
        let sql =
            format!("SELECT row_to_json(t)::text FROM {table} t WHERE tenant_id = $1 LIMIT 1");
        let row: String = sqlx::query_scalar(&sql)
            .bind(b.as_uuid())
            .fetch_one(&mut conn)
            .await
            .unwrap();
        rows_of_b.push((table.clone(), row));
    }

    conn.execute(format!("SET ROLE {DEFAULT_APP_ROLE}").as_str())
        .await
        .unwrap();
    // (b) No tenant set: nothing is visible.
    for (table, _, _) in &tables {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table}: rows visible with no tenant set");
    }

    // (c) Tenant A set: only A's rows; inserting a row of B is refused.
    for (table, row) in &rows_of_b {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("SELECT set_config('tessera.tenant_id', $1, true)")
            .bind(a.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        let visible: Vec<uuid::Uuid> =
            sqlx::query_scalar(&format!("SELECT DISTINCT tenant_id FROM {table}"))
                .fetch_all(&mut *tx)
                .await
                .unwrap();
        assert_eq!(
            visible,
            vec![*a.as_uuid()],
            "{table}: rows of another tenant visible"
        );
        let smuggle = format!(
            "INSERT INTO {table} SELECT * FROM json_populate_record(NULL::{table}, $1::json)"
        );
        let err = sqlx::query(&smuggle)
            .bind(row)
            .execute(&mut *tx)
            .await
            .unwrap_err();
        let db_err = err.as_database_error().expect("a database error");
        assert_eq!(db_err.code().as_deref(), Some("42501"), "{table}: {db_err}");
        assert!(
            db_err.message().contains("row-level security"),
            "{table}: {db_err}"
        );
        tx.rollback().await.unwrap();
    }

    // Audit events cannot be changed or removed by the application role.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('tessera.tenant_id', $1, true)")
        .bind(a.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let err = sqlx::query("DELETE FROM audit_events")
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert_eq!(
        err.as_database_error().and_then(|e| e.code()).as_deref(),
        Some("42501")
    );
    tx.rollback().await.unwrap();

    // And through the store, B's data stays B's.
    let listed = store
        .list_users(
            a,
            &UserQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await;
    assert!(listed.unwrap().items.iter().all(|u| u.tenant_id == a));
}

#[tokio::test]
async fn the_application_role_cannot_bypass_row_level_security() {
    let Some((db, _store)) = setup("the_application_role_cannot_bypass_row_level_security").await
    else {
        return;
    };
    let mut conn = admin(&db).await;
    let (superuser, bypass, login): (bool, bool, bool) = sqlx::query_as(
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = $1",
    )
    .bind(DEFAULT_APP_ROLE)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(!superuser && !bypass && !login);

    // A role that could bypass RLS is refused by connect.
    let risky = format!("tessera_bypass_{}", fixtures::tag());
    conn.execute(format!("CREATE ROLE {risky} NOLOGIN BYPASSRLS").as_str())
        .await
        .unwrap();
    let settings = PostgresSettings {
        app_role: risky.clone(),
        ..db.settings()
    };
    let refused = PostgresStore::connect(&settings).await;
    conn.execute(format!("DROP ROLE {risky}").as_str())
        .await
        .unwrap();
    match refused {
        Err(StoreError::Unexpected(e)) => assert!(e.to_string().contains("BYPASSRLS"), "{e}"),
        other => panic!("expected Unexpected, got {:?}", other.map(|_| ())),
    }
    // A role name that is not an identifier never reaches SQL.
    let settings = PostgresSettings {
        app_role: "app; DROP TABLE users".to_owned(),
        ..db.settings()
    };
    assert!(matches!(
        PostgresStore::connect(&settings).await,
        Err(StoreError::Unexpected(_))
    ));
    assert!(matches!(
        PostgresStore::migrate(&settings).await,
        Err(StoreError::Unexpected(_))
    ));
}

#[tokio::test]
async fn migrate_is_idempotent_and_the_pool_survives_dropped_connections() {
    let Some((db, store)) =
        setup("migrate_is_idempotent_and_the_pool_survives_dropped_connections").await
    else {
        return;
    };
    PostgresStore::migrate(&db.settings())
        .await
        .expect("second migrate");
    let t = populate(&store).await;
    // Kill every connection of the pool, as a database restart would.
    let mut conn = admin(&db).await;
    let killed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND application_name = 'tessera' \
         AND pid <> pg_backend_pid()) k",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert!(killed > 0);
    store
        .ping()
        .await
        .expect("the pool replaces dead connections");
    assert!(store.tenant_by_id(t).await.unwrap().is_some());
    assert!(store.audit_head(t).await.unwrap().is_some());
}

/// Runs without a database: nothing listens on port 1.
#[tokio::test]
async fn a_database_that_is_down_is_unavailable() {
    let mut settings = PostgresSettings::new("postgres://tessera@127.0.0.1:1/tessera");
    settings.connect_timeout = Duration::from_secs(2);
    let connect = tokio::time::timeout(Duration::from_secs(60), PostgresStore::connect(&settings));
    match connect.await.expect("connect gives up by itself") {
        Err(StoreError::Unavailable(message)) => {
            assert!(
                message.contains("127.0.0.1:1"),
                "the message names the server: {message}"
            )
        }
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
    let migrate = tokio::time::timeout(Duration::from_secs(60), PostgresStore::migrate(&settings));
    assert!(matches!(
        migrate.await.expect("migrate gives up"),
        Err(StoreError::Unavailable(_))
    ));
}

#[tokio::test]
async fn nodes_starting_together_migrate_one_at_a_time_without_errors() {
    let Some(db) =
        TestDatabase::from_env("nodes_starting_together_migrate_one_at_a_time_without_errors")
            .await
    else {
        return;
    };
    let settings = db.settings();
    let runs = (0..4).map(|_| PostgresStore::migrate(&settings));
    for result in futures::future::join_all(runs).await {
        result.expect("a concurrent migration failed");
    }
    PostgresStore::connect(&settings)
        .await
        .expect("connect after concurrent migrations");
}

#[tokio::test]
async fn connections_use_tls_when_asked_and_verify_the_server_certificate() {
    let Some(db) =
        TestDatabase::from_env("connections_use_tls_when_asked_and_verify_the_server_certificate")
            .await
    else {
        return;
    };
    let mut admin_conn = admin(&db).await;
    let ssl_on: String = sqlx::query_scalar("SHOW ssl")
        .fetch_one(&mut admin_conn)
        .await
        .unwrap();
    if ssl_on != "on" {
        println!(
            "skipped connections_use_tls_when_asked_and_verify_the_server_certificate: the server has ssl = off"
        );
        return;
    }
    let mut settings = db.settings();
    PostgresStore::migrate(&settings).await.unwrap();
    settings.url = format!("{}?sslmode=require", db.url);
    let store = PostgresStore::connect(&settings)
        .await
        .expect("connect over TLS");
    HealthProbe::ping(&store).await.unwrap();
    let (backends, encrypted): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
         WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin_conn)
    .await
    .unwrap();
    assert!(
        backends > 0 && backends == encrypted,
        "{encrypted} of {backends} store connections use TLS"
    );
    // The test server's certificate is self-signed: full verification must refuse it.
    settings.url = format!("{}?sslmode=verify-full", db.url);
    assert!(
        PostgresStore::connect(&settings).await.is_err(),
        "an untrusted server certificate was accepted"
    );
}
