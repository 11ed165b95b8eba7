//! Tessera admin REST interface: `/api/v1/...`, authenticated by Bearer API keys or by a
//! signed-in user's access token (checked against their permissions), errors as
//! `application/problem+json`, with the OpenAPI 3.1 document at `/api/v1/openapi.json` and
//! Swagger UI (vendored) at `/api/docs`.
//!
//! May depend on: the application, the domain, api-types, http-kit, axum, utoipa. Never on an
//! adapter (stores, crypto...).
//!
//! Entry points: [`router`] (the routes, to be wrapped by the server in
//! `tessera_http_kit::layers::apply`), [`ApiDoc`].

mod authz_convert;
mod caller;
mod convert;
mod errors;
mod openapi;
mod paging;
mod routes;
mod state;

pub use openapi::ApiDoc;
pub use routes::users_import::import_item;
pub use state::RestState;

use axum::Router;

/// The admin REST routes and the API documentation.
pub fn router(state: RestState) -> Router {
    routes::routes().with_state(state).merge(openapi::docs())
}
