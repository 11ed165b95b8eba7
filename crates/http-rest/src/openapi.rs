//! The OpenAPI 3.1 document, generated from the handlers' annotations, and Swagger UI
//! (served from files vendored into the binary at build time; nothing is downloaded).

use crate::routes::{
    access, api_keys, audit, auth, customers, me, mfa, org_units, policies, roles, sign_in,
    signing_keys, templates, tenants, user_auth, users, users_bulk, users_import,
};
use axum::Router;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An admin API key: `Authorization: Bearer tsk_...`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "user",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A user's access token from `POST /t/{t}/api/v1/login` (or the session cookie)",
                    ))
                    .build(),
            ),
        );
    }
}

/// Operation ids default to handler names (`list`, `get`...), which repeat across resources:
/// prefix each with its tag (`users_list`, `tenants_get`...) so that ids are unique, as
/// OpenAPI requires and client generators need.
struct UniqueOperationIds;

impl Modify for UniqueOperationIds {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in operations.into_iter().flatten() {
                let tag = op
                    .tags
                    .as_ref()
                    .and_then(|t| t.first())
                    .cloned()
                    .unwrap_or_default();
                if let Some(id) = &op.operation_id {
                    op.operation_id = Some(format!("{}_{id}", tag.replace('-', "_")));
                }
            }
        }
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera API", version = "1", description = "Manage tenants, users, customers, organization units, roles, permission templates, policies, API keys and the audit trail; ask for authorization decisions; sign users up and in, and let them manage their account. Errors are application/problem+json (RFC 9457) with a stable `code`."),
    paths(
        tenants::create, tenants::list, tenants::get, tenants::update, tenants::disable, tenants::enable,
        users::create, users_bulk::create, users::list, users::get, users::update, users::transition, users::delete, users::restore, users::erase, users::settings, users::update_settings,
        customers::create, customers::list, customers::get, customers::promote,
        org_units::create, org_units::list, org_units::get, org_units::update, org_units::delete, org_units::assign, org_units::employees, org_units::unassign, org_units::user_units,
        api_keys::create, api_keys::list, api_keys::revoke,
        audit::list, audit::export,
        users_import::import, user_auth::sessions, user_auth::end_sessions, user_auth::end_session, user_auth::set_password, user_auth::login_history,
        signing_keys::list, signing_keys::rotate,
        auth::register, auth::resend, auth::verify, auth::login, auth::logout, auth::refresh, auth::recover, auth::recover_verify, auth::recover_reset, auth::jwks,
        me::get, me::change_password, me::sessions, me::end_sessions, me::end_session, me::add_identifier, me::verify_identifier, me::remove_identifier, me::login_history,
        roles::list, roles::create, roles::get, roles::update, roles::delete, roles::user_roles, roles::grant_role, roles::revoke_role,
        templates::permission_list, templates::resource_types, templates::put_resource_type, templates::delete_resource_type, templates::templates, templates::template, templates::put_template, templates::delete_template, templates::grant_to_role, templates::revoke_from_role, templates::grant_to_user, templates::revoke_from_user,
        policies::list, policies::save, policies::version, policies::schema, policies::decisions, policies::simulate,
        access::evaluation_one, access::evaluation_batch, access::subject_permissions, access::configuration, access::my_menu,
        sign_in::mfa, sign_in::mfa_passkey_options, sign_in::passkey_options, sign_in::passkey, sign_in::send_code, sign_in::verify_code, sign_in::send_link, sign_in::verify_link,
        mfa::status, mfa::start_totp, mfa::confirm_totp, mfa::remove_totp, mfa::regenerate_backup_codes, mfa::passkeys, mfa::passkey_registration_options, mfa::register_passkey, mfa::rename_passkey, mfa::remove_passkey, mfa::devices, mfa::forget_device, mfa::forget_devices, mfa::step_up, mfa::step_up_passkey_options, mfa::create_api_key,
    ),
    modifiers(&BearerKeys, &UniqueOperationIds),
    tags(
        (name = "tenants", description = "The tenant registry (operator keys)"),
        (name = "users", description = "Users, their identifiers, profile, settings and lifecycle"),
        (name = "customers", description = "Customers: records without credentials, promotable to users"),
        (name = "org-units", description = "Organization units and employee assignments"),
        (name = "api-keys", description = "Admin API keys"),
        (name = "audit", description = "The hash-chained audit trail"),
        (name = "signing-keys", description = "A tenant's token signing keys and their rotation"),
        (name = "auth", description = "Sign-up, sign-in, tokens and recovery for a tenant's users"),
        (name = "me", description = "The signed-in user's own account"),
        (name = "roles", description = "Roles with priorities, scoped assignments, permissions, resource types and permission templates (with menus)"),
        (name = "policies", description = "The tenant's versioned Cedar policy set, its schema, the decision log and simulations"),
        (name = "access", description = "The check API (OpenID AuthZEN): evaluations with reasons, subjects' compiled permissions"),
        (name = "mfa", description = "Second factors, passkeys, remembered devices, step-up and administrator API keys of the signed-in user"),
    )
)]
pub struct ApiDoc;

/// `/api/v1/openapi.json` and Swagger UI at `/api/docs`.
pub fn docs() -> Router {
    Router::new().merge(SwaggerUi::new("/api/docs").url("/api/v1/openapi.json", ApiDoc::openapi()))
}
