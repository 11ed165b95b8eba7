//! The contract checks, one `async fn(&dyn Store)` each. They panic on the first broken rule.

mod api_keys;
mod audit;
mod bootstrap;
mod org_units;
mod tenants;
mod user_bulk;
mod user_list;
mod users;

pub use api_keys::*;
pub use audit::*;
pub use bootstrap::*;
pub use org_units::*;
pub use tenants::*;
pub use user_bulk::*;
pub use user_list::*;
pub use users::*;
