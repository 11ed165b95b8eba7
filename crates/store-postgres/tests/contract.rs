//! The store contract suite on a fresh PostgreSQL database per test, through the application
//! role (row-level security on). Skipped, with a line saying so, when
//! `TESSERA_TEST_DATABASE_URL` is not set.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use tessera_domain::ports::Store;
use tessera_store_postgres::PostgresStore;
use tessera_store_postgres::testing::TestDatabase;

struct Fixture {
    // Declared first, dropped first: the pool goes before its database.
    store: PostgresStore,
    _db: TestDatabase,
}

impl tessera_store_contract::Fixture for Fixture {
    fn store(&self) -> &dyn Store {
        &self.store
    }
}

async fn setup(check: &'static str) -> Option<Fixture> {
    let db = TestDatabase::from_env(check).await?;
    let settings = db.settings();
    PostgresStore::migrate(&settings).await.expect("migrate");
    let store = PostgresStore::connect(&settings).await.expect("connect");
    Some(Fixture { store, _db: db })
}

tessera_store_contract::store_contract_tests!(setup);
