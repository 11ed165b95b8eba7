//! The contract checks, one `async fn(&dyn Store)` each. They panic on the first broken rule.

mod api_keys;
mod audit;
mod auth_lifecycle;
mod bootstrap;
mod codes;
mod credentials;
mod org_units;
mod refresh;
mod sessions;
mod signing_keys;
mod tenants;
mod user_bulk;
mod user_list;
mod users;

pub use api_keys::*;
pub use audit::*;
pub use auth_lifecycle::*;
pub use bootstrap::*;
pub use codes::*;
pub use credentials::*;
pub use org_units::*;
pub use refresh::*;
pub use sessions::*;
pub use signing_keys::*;
pub use tenants::*;
pub use user_bulk::*;
pub use user_list::*;
pub use users::*;
