//! One file per REST resource; this module only assembles them.

pub mod api_keys;
pub mod audit;
pub mod customers;
pub mod org_units;
pub mod tenants;
pub mod users;
pub mod users_bulk;

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
}
