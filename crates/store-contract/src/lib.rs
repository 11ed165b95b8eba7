//! The store contract suite: the behaviour every adapter of the store ports must show.
//!
//! Layer: test support for driven adapters. May depend on: the domain crate only (plus
//! plain libraries). Panics are its way of reporting a failed check.
//!
//! Entry points: [`store_contract_tests!`], which generates one `#[tokio::test]` per check
//! for a given fixture constructor, and the checks themselves in [`checks`] (each an
//! `async fn(&dyn Store)`), for adapters that want to call them by hand.
//!
//! Every check creates its own tenants with random slugs, so checks are independent of each
//! other and of data already in the database. Timestamps handed to the store are already
//! truncated to the microsecond, the precision every store keeps.
//!
//! ```ignore
//! struct Fixture { store: SqliteStore, _dir: tempfile::TempDir }
//! impl tessera_store_contract::Fixture for Fixture {
//!     fn store(&self) -> &dyn tessera_domain::ports::Store { &self.store }
//! }
//! async fn setup(check: &'static str) -> Option<Fixture> { /* None: skip (say why) */ }
//! tessera_store_contract::store_contract_tests!(setup);
//! ```
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use tessera_domain::ports::Store;

/// `assert!` that a store result is the error matching `$pattern`.
macro_rules! assert_err {
    ($result:expr, $pattern:pat $(,)?) => {{
        let result = $result;
        assert!(
            matches!(result, Err($pattern)),
            "expected Err({}), got {:?}",
            stringify!($pattern),
            result
        );
    }};
}

pub mod authz_fixtures;
pub mod checks;
pub mod fixtures;

/// What a test needs from an adapter's set-up: the store under test (and whatever must stay
/// alive with it, such as a temporary directory or database).
pub trait Fixture {
    fn store(&self) -> &dyn Store;
}

/// Generates one `#[tokio::test]` per contract check. `$setup` is an async fn taking the
/// check's name (`&'static str`) and returning `Option<impl Fixture>`; `None` means "skip"
/// (it should print why).
#[macro_export]
macro_rules! store_contract_tests {
    ($setup:path) => {
        $crate::__store_contract_tests!(
            $setup;
            health_ping,
            tenant_create_and_read,
            tenant_list_paging,
            tenant_update_versioning,
            user_round_trip,
            user_duplicate_identifiers,
            user_other_tenant_is_invisible,
            user_update_replaces_identifiers,
            user_list_filters,
            user_list_sorts_and_paging,
            user_list_treats_sql_as_data,
            user_list_within,
            user_erase_frees_identifiers,
            user_bulk_round_trip,
            user_bulk_duplicates_write_nothing,
            org_unit_tree,
            org_unit_delete_in_use,
            org_unit_assignments,
            api_key_lifecycle,
            audit_chain_verifies,
            audit_events_round_trip,
            audit_failed_writes_leave_no_event,
            audit_filters_and_order,
            audit_concurrent_writers,
            audit_action_prefix,
            bootstrap_once,
            credential_register_user,
            credential_import_users,
            credential_set_password,
            credential_set_password_ends_sessions,
            session_create_and_read,
            session_limit_evicts_oldest,
            session_list_and_end,
            auth_user_suspension_revokes_sessions,
            auth_erase_user_removes_everything,
            code_single_use,
            code_wrong_guesses,
            code_expiry,
            code_newest_wins,
            code_concurrent_check,
            refresh_rotation,
            refresh_revocation,
            refresh_concurrent_rotation,
            signing_key_rotation,
            signing_key_prune,
            session_assurance_round_trip,
            session_elevate,
            totp_enrol_confirm_and_use,
            totp_concurrent_use,
            backup_codes_replace_and_use,
            backup_codes_concurrent_use,
            passkey_lifecycle,
            challenge_single_use,
            challenge_concurrent_consume,
            challenge_prune,
            device_lifecycle,
            network_recognition,
            mfa_erase_user_removes_everything,
            authz_role_assignments,
            authz_custom_roles,
            authz_templates,
            authz_resource_types,
            authz_policy_versions,
            authz_policy_concurrent_insert,
            authz_decision_log,
            authz_epoch_advances,
            authz_tenant_model,
            authz_unit_ancestors,
            authz_tenant_isolation,
            authz_erase_user_cascades,
        );
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __store_contract_tests {
    ($setup:path; $($check:ident),+ $(,)?) => {
        $(
            #[::tokio::test]
            async fn $check() {
                let Some(fixture) = $setup(stringify!($check)).await else { return };
                $crate::checks::$check($crate::Fixture::store(&fixture)).await;
            }
        )+
    };
}
