//! One file per REST resource; this module only assembles them.

pub mod access;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod customers;
pub mod me;
pub mod mfa;
pub mod org_units;
pub mod policies;
pub mod roles;
pub mod sign_in;
pub mod signing_keys;
pub mod templates;
pub mod tenants;
pub mod user_auth;
pub mod users;
pub mod users_bulk;
pub mod users_import;

use crate::state::RestState;
use axum::Router;
use axum::routing::{get, post};

pub fn routes() -> Router<RestState> {
    let t = "/api/v1/tenants/{t}";
    Router::new()
        .route("/api/v1/tenants", get(tenants::list).post(tenants::create))
        .route(t, get(tenants::get).patch(tenants::update))
        .route(&format!("{t}/disable"), post(tenants::disable))
        .route(&format!("{t}/enable"), post(tenants::enable))
        .route(&format!("{t}/users"), get(users::list).post(users::create))
        .route(&format!("{t}/users/bulk"), post(users_bulk::create))
        .route(
            &format!("{t}/users/{{id}}"),
            get(users::get).patch(users::update).delete(users::delete),
        )
        .route(&format!("{t}/users/{{id}}/state"), post(users::transition))
        .route(&format!("{t}/users/{{id}}/restore"), post(users::restore))
        .route(&format!("{t}/users/{{id}}/erase"), post(users::erase))
        .route(
            &format!("{t}/users/{{id}}/settings"),
            get(users::settings).patch(users::update_settings),
        )
        .route(
            &format!("{t}/users/{{id}}/org-units"),
            get(org_units::user_units),
        )
        .route(
            &format!("{t}/customers"),
            get(customers::list).post(customers::create),
        )
        .route(&format!("{t}/customers/{{id}}"), get(customers::get))
        .route(
            &format!("{t}/customers/{{id}}/promote"),
            post(customers::promote),
        )
        .route(
            &format!("{t}/org-units"),
            get(org_units::list).post(org_units::create),
        )
        .route(
            &format!("{t}/org-units/{{id}}"),
            get(org_units::get)
                .patch(org_units::update)
                .delete(org_units::delete),
        )
        .route(
            &format!("{t}/org-units/{{id}}/employees"),
            get(org_units::employees).post(org_units::assign),
        )
        .route(
            &format!("{t}/org-units/{{id}}/employees/{{user_id}}"),
            axum::routing::delete(org_units::unassign),
        )
        .route(
            &format!("{t}/api-keys"),
            get(api_keys::list).post(api_keys::create),
        )
        .route(
            &format!("{t}/api-keys/{{id}}"),
            axum::routing::delete(api_keys::revoke),
        )
        .route(&format!("{t}/audit"), get(audit::list))
        .route(&format!("{t}/audit/export"), get(audit::export))
        .route(&format!("{t}/users/import"), post(users_import::import))
        .route(
            &format!("{t}/users/{{id}}/sessions"),
            get(user_auth::sessions).delete(user_auth::end_sessions),
        )
        .route(
            &format!("{t}/users/{{id}}/sessions/{{session_id}}"),
            axum::routing::delete(user_auth::end_session),
        )
        .route(
            &format!("{t}/users/{{id}}/password"),
            post(user_auth::set_password),
        )
        .route(
            &format!("{t}/users/{{id}}/login-history"),
            get(user_auth::login_history),
        )
        .merge(authz_routes(t))
        .route(&format!("{t}/signing-keys"), get(signing_keys::list))
        .route(
            &format!("{t}/signing-keys/rotate"),
            post(signing_keys::rotate),
        )
        .merge(user_routes())
}

/// Roles, templates, resource types, policies and the check API.
fn authz_routes(t: &str) -> Router<RestState> {
    use axum::routing::put;
    Router::new()
        .route(&format!("{t}/roles"), get(roles::list).post(roles::create))
        .route(
            &format!("{t}/roles/{{role}}"),
            get(roles::get).patch(roles::update).delete(roles::delete),
        )
        .route(&format!("{t}/users/{{id}}/roles"), get(roles::user_roles))
        .route(
            &format!("{t}/users/{{id}}/roles/{{role}}"),
            put(roles::grant_role).delete(roles::revoke_role),
        )
        .route(&format!("{t}/permissions"), get(templates::permission_list))
        .route(
            &format!("{t}/resource-types"),
            get(templates::resource_types),
        )
        .route(
            &format!("{t}/resource-types/{{name}}"),
            put(templates::put_resource_type).delete(templates::delete_resource_type),
        )
        .route(&format!("{t}/templates"), get(templates::templates))
        .route(
            &format!("{t}/templates/{{key}}"),
            get(templates::template)
                .put(templates::put_template)
                .delete(templates::delete_template),
        )
        .route(
            &format!("{t}/templates/{{key}}/roles/{{role}}"),
            put(templates::grant_to_role).delete(templates::revoke_from_role),
        )
        .route(
            &format!("{t}/templates/{{key}}/users/{{id}}"),
            put(templates::grant_to_user).delete(templates::revoke_from_user),
        )
        .route(
            &format!("{t}/policies"),
            get(policies::list).post(policies::save),
        )
        .route(
            &format!("{t}/policies/versions/{{version}}"),
            get(policies::version),
        )
        .route(&format!("{t}/policies/schema"), get(policies::schema))
        .route(&format!("{t}/policies/simulate"), post(policies::simulate))
        .route(&format!("{t}/decisions"), get(policies::decisions))
        .route("/t/{t}/access/v1/evaluation", post(access::evaluation_one))
        .route(
            "/t/{t}/access/v1/evaluations",
            post(access::evaluation_batch),
        )
        .route(
            "/t/{t}/access/v1/subjects/{id}/permissions",
            get(access::subject_permissions),
        )
        .route(
            "/t/{t}/.well-known/authzen-configuration",
            get(access::configuration),
        )
        .route("/t/{t}/api/v1/me/menu", get(access::my_menu))
}

/// The tenant's end-user API: `/t/{t}/api/v1/...` and the JWKS.
fn user_routes() -> Router<RestState> {
    let u = "/t/{t}/api/v1";
    Router::new()
        .route(&format!("{u}/register"), post(auth::register))
        .route(&format!("{u}/register/resend"), post(auth::resend))
        .route(&format!("{u}/verify"), post(auth::verify))
        .route(&format!("{u}/login"), post(auth::login))
        .route(&format!("{u}/logout"), post(auth::logout))
        .route(&format!("{u}/login/mfa"), post(sign_in::mfa))
        .route(
            &format!("{u}/login/mfa/passkey/options"),
            post(sign_in::mfa_passkey_options),
        )
        .route(
            &format!("{u}/login/passkey/options"),
            post(sign_in::passkey_options),
        )
        .route(&format!("{u}/login/passkey"), post(sign_in::passkey))
        .route(&format!("{u}/login/code"), post(sign_in::send_code))
        .route(
            &format!("{u}/login/code/verify"),
            post(sign_in::verify_code),
        )
        .route(&format!("{u}/login/link"), post(sign_in::send_link))
        .route(
            &format!("{u}/login/link/verify"),
            post(sign_in::verify_link),
        )
        .route(&format!("{u}/me/mfa"), get(mfa::status))
        .route(
            &format!("{u}/me/mfa/totp"),
            post(mfa::start_totp).delete(mfa::remove_totp),
        )
        .route(&format!("{u}/me/mfa/totp/confirm"), post(mfa::confirm_totp))
        .route(
            &format!("{u}/me/mfa/backup-codes"),
            post(mfa::regenerate_backup_codes),
        )
        .route(
            &format!("{u}/me/passkeys"),
            get(mfa::passkeys).post(mfa::register_passkey),
        )
        .route(
            &format!("{u}/me/passkeys/options"),
            post(mfa::passkey_registration_options),
        )
        .route(
            &format!("{u}/me/passkeys/{{id}}"),
            axum::routing::patch(mfa::rename_passkey).delete(mfa::remove_passkey),
        )
        .route(
            &format!("{u}/me/devices"),
            get(mfa::devices).delete(mfa::forget_devices),
        )
        .route(
            &format!("{u}/me/devices/{{id}}"),
            axum::routing::delete(mfa::forget_device),
        )
        .route(&format!("{u}/me/step-up"), post(mfa::step_up))
        .route(
            &format!("{u}/me/step-up/passkey/options"),
            post(mfa::step_up_passkey_options),
        )
        .route(&format!("{u}/me/api-keys"), post(mfa::create_api_key))
        .route(&format!("{u}/token/refresh"), post(auth::refresh))
        .route(&format!("{u}/recover"), post(auth::recover))
        .route(&format!("{u}/recover/verify"), post(auth::recover_verify))
        .route(&format!("{u}/recover/reset"), post(auth::recover_reset))
        .route(&format!("{u}/me"), get(me::get))
        .route(&format!("{u}/me/password"), post(me::change_password))
        .route(
            &format!("{u}/me/sessions"),
            get(me::sessions).delete(me::end_sessions),
        )
        .route(
            &format!("{u}/me/sessions/{{id}}"),
            axum::routing::delete(me::end_session),
        )
        .route(&format!("{u}/me/identifiers"), post(me::add_identifier))
        .route(
            &format!("{u}/me/identifiers/verify"),
            post(me::verify_identifier),
        )
        .route(
            &format!("{u}/me/identifiers/remove"),
            post(me::remove_identifier),
        )
        .route(&format!("{u}/me/login-history"), get(me::login_history))
        .route("/t/{t}/oauth2/jwks", get(auth::jwks))
}
