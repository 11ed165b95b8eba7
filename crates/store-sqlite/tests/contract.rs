//! The store contract suite on a fresh SQLite file per test.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use tessera_domain::ports::Store;
use tessera_store_sqlite::SqliteStore;

struct Fixture {
    store: SqliteStore,
    _dir: tempfile::TempDir,
}

impl tessera_store_contract::Fixture for Fixture {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

async fn setup(_check: &'static str) -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let store = SqliteStore::open(&dir.path().join("tessera.db")).expect("open");
    store.migrate().await.expect("migrate");
    Some(Fixture { store, _dir: dir })
}

tessera_store_contract::store_contract_tests!(setup);

mod in_memory {
    use super::*;

    struct Memory(SqliteStore);

    impl tessera_store_contract::Fixture for Memory {
        fn store(&self) -> &dyn Store {
            &self.0
        }
    }

    async fn setup(_check: &'static str) -> Option<Memory> {
        let store = SqliteStore::open_in_memory().expect("open");
        store.migrate().await.expect("migrate");
        Some(Memory(store))
    }

    tessera_store_contract::store_contract_tests!(setup);
}

/// A file that cannot be created is reported as unavailable, naming it.
#[tokio::test]
async fn a_file_that_cannot_be_opened_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing-directory").join("tessera.db");
    let store = SqliteStore::open(&path).unwrap();
    match store.migrate().await {
        Err(tessera_domain::ports::StoreError::Unavailable(message)) => {
            assert!(message.contains("missing-directory"), "{message}")
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    use tessera_domain::ports::HealthProbe;
    assert!(matches!(
        store.ping().await,
        Err(tessera_domain::ports::StoreError::Unavailable(_))
    ));
}

/// The data outlives the store: a second open of the same file sees it.
#[tokio::test]
async fn data_survives_reopening_the_file() {
    use tessera_domain::ports::TenantStore;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tessera.db");
    let store = SqliteStore::open(&path).unwrap();
    store.migrate().await.unwrap();
    let tenant = tessera_store_contract::fixtures::create_tenant(&store).await;
    drop(store);
    let again = SqliteStore::open(&path).unwrap();
    again.migrate().await.unwrap();
    assert_eq!(again.tenant_by_id(tenant.id).await.unwrap(), Some(tenant));
}
